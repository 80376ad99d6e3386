/**
 * Parley's cryptographic library: pure and synchronous after one `await initCrypto()`, built
 * only on libsodium (ARCHITECTURE.md §3–4). No I/O, no clock (time is a parameter), one
 * injectable random source.
 *
 * @example
 * ```ts
 * await initCrypto();
 * const alice = generateIdentity();
 * const bob = generateIdentity();
 * const spk = generateSignedPrekey(bob, 1, Date.now());
 * const bundle = verifyBundle(createBundle(bob, bobPeerId, spk, undefined, Date.now()), { peerId: bobPeerId });
 * const session = Session.initiate(alice, bundle);
 * const envelope = session.encrypt(utf8('hello'));        // send or deposit this
 * // Bob: the envelope's tag is introTagOf(spk.keyPair.publicKey), so it is a first message
 * const opened = openPrekeyEnvelope(spk, envelope);
 * const { session: bobSession, plaintext } = Session.respond(bob, spk, undefined, opened);
 * ```
 */
export { initCrypto, type InitOptions } from './sodium';
export { randomBytes, setRandomSource, PooledSystemRandom, type RandomSource } from './random';
export { CryptoError, isCryptoError, type CryptoErrorCode } from './errors';
export { ByteReader, ByteWriter, compareBytes, concatBytes, equalBytes, fromHex, fromUtf8, toHex, utf8 } from './bytes';
export {
  SecretKey,
  fingerprint,
  publicKey,
  secretKey,
  type EphemeralPublicKey,
  type EnvelopeKey,
  type FileKey,
  type IdentityDhPublicKey,
  type IdentityPublicKey,
  type KeyPair,
  type OneTimePrekeyPublicKey,
  type PublicKey,
  type PublicKeyKind,
  type RatchetPublicKey,
  type SecretKeyKind,
  type SignedPrekeyPublicKey,
  type StorageKey,
} from './keys';
export { hkdf, hmacSha256 } from './hkdf';
export {
  deserializeIdentity,
  generateIdentity,
  identityDhKey,
  serializeIdentity,
  sign,
  verify,
  type IdentityKeyPair,
} from './identity';
export * from './prekeys';
export { MAX_FORWARD_JUMP, MAX_PLAINTEXT_BYTES, MAX_RECEIVER_CHAINS, MAX_SKIPPED_KEYS } from './ratchet/constants';
export { ENVELOPE_BUCKETS, MAX_ENVELOPE_BYTES, RECIPIENT_TAG_BYTES, envelopeTag } from './envelope';
export {
  Session,
  introTagOf,
  openPrekeyEnvelope,
  preferredSession,
  type OpenedPrekeyEnvelope,
  type RespondResult,
  type SessionRole,
} from './session';
export {
  DEFAULT_PWHASH_PARAMS,
  generateStorageKey,
  rewrapStorageKey,
  unwrapStorageKey,
  wrapStorageKey,
  type PwhashParams,
} from './storage-key';
export { FILE_CHUNK_BYTES, FileDecryptor, FileEncryptor, decryptFile, encryptFile, generateFileKey } from './file-stream';
export { formatSafetyNumber, safetyNumber, verifyScannedSafetyNumber } from './safety-number';
