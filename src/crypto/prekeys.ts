/**
 * Prekeys (X3DH §2.2–§3.2) and the signed prekey bundle.
 *
 * A bundle is everything a contact needs to start a session while we are offline: our
 * identity key, the libp2p PeerId of this device, a signed prekey and optionally a one-time
 * prekey. The whole bundle is signed as one object by the identity key, so no field can be
 * swapped (a prekey from another bundle, another device's PeerId) without breaking it.
 */
import { ByteReader, ByteWriter, equalBytes, fromUtf8, utf8 } from './bytes';
import { CryptoError } from './errors';
import { SIGNATURE_BYTES, sign, verify, type IdentityKeyPair } from './identity';
import {
  PUBLIC_KEY_BYTES,
  SYMMETRIC_KEY_BYTES,
  generateX25519,
  publicKey,
  type IdentityDhPublicKey,
  type IdentityPublicKey,
  type KeyPair,
  type OneTimePrekeyPublicKey,
  type SignedPrekeyPublicKey,
} from './keys';

/** Rotate the signed prekey weekly, as Signal does: bounds how long one key protects new sessions. */
export const SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * Keep a rotated-out signed prekey this long: a contact may hold our old bundle, and a first
 * message may sit in a relay mailbox for up to its TTL before we fetch it.
 */
export const SIGNED_PREKEY_GRACE_MS = 30 * 24 * 60 * 60 * 1000;
/** One-time prekeys generated per batch; the pool is refilled when it falls below the low-water mark. */
export const ONE_TIME_PREKEY_BATCH = 100;
export const ONE_TIME_PREKEY_LOW_WATER = 20;
/** libp2p PeerIds as strings are ~52 characters; a bound keeps a hostile bundle small. */
export const MAX_PEER_ID_BYTES = 128;
/** Prekey ids are u32 on the wire. */
const MAX_PREKEY_ID = 0xffff_ffff;

const BUNDLE_VERSION = 1;
const BUNDLE_CONTEXT = utf8('Parley prekey bundle v1');
const KEY_PAIR_FORMAT_VERSION = 1;

/** "Signed" because every bundle that carries it is signed by the identity (see createBundle). */
export interface SignedPrekey {
  readonly id: number;
  readonly keyPair: KeyPair<'signed-prekey'>;
  readonly createdAt: number;
}

export interface OneTimePrekey {
  readonly id: number;
  readonly keyPair: KeyPair<'one-time-prekey'>;
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_PREKEY_ID) throw new RangeError('prekey id must be a u32');
}

export function generateSignedPrekey(id: number, now: number): SignedPrekey {
  checkId(id);
  return { id, keyPair: generateX25519('signed-prekey'), createdAt: now };
}

/** True once the current signed prekey is older than the rotation period. */
export function signedPrekeyNeedsRotation(current: SignedPrekey, now: number): boolean {
  return now - current.createdAt >= SIGNED_PREKEY_ROTATION_MS;
}

/** True once a rotated-out signed prekey (retired at `retiredAt`) may be deleted. */
export function retiredSignedPrekeyExpired(retiredAt: number, now: number): boolean {
  return now - retiredAt >= SIGNED_PREKEY_GRACE_MS;
}

/** `count` fresh one-time prekeys with consecutive ids from `firstId` (ids wrap at 2^32). */
export function generateOneTimePrekeys(firstId: number, count = ONE_TIME_PREKEY_BATCH): OneTimePrekey[] {
  checkId(firstId);
  return Array.from({ length: count }, (_, i) => ({
    id: (firstId + i) % (MAX_PREKEY_ID + 1),
    keyPair: generateX25519('one-time-prekey'),
  }));
}

export function serializeSignedPrekey(spk: SignedPrekey): Uint8Array {
  return new ByteWriter(48).u8(KEY_PAIR_FORMAT_VERSION).u32(spk.id).u64(spk.createdAt).raw(spk.keyPair.secretKey.expose()).finish();
}

export function deserializeSignedPrekey(bytes: Uint8Array): SignedPrekey {
  const r = new ByteReader(bytes);
  if (r.u8() !== KEY_PAIR_FORMAT_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'signed prekey');
  const id = r.u32();
  const createdAt = r.u64();
  const keyPair = generateX25519('signed-prekey', r.raw(SYMMETRIC_KEY_BYTES));
  r.end();
  return { id, createdAt, keyPair };
}

export function serializeOneTimePrekey(opk: OneTimePrekey): Uint8Array {
  return new ByteWriter(40).u8(KEY_PAIR_FORMAT_VERSION).u32(opk.id).raw(opk.keyPair.secretKey.expose()).finish();
}

export function deserializeOneTimePrekey(bytes: Uint8Array): OneTimePrekey {
  const r = new ByteReader(bytes);
  if (r.u8() !== KEY_PAIR_FORMAT_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'one-time prekey');
  const id = r.u32();
  const keyPair = generateX25519('one-time-prekey', r.raw(SYMMETRIC_KEY_BYTES));
  r.end();
  return { id, keyPair };
}

// ---------------------------------------------------------------------------------------------
// Bundles
// ---------------------------------------------------------------------------------------------

export interface PrekeyBundle {
  readonly peerId: string;
  readonly identityKey: IdentityPublicKey;
  /**
   * The X25519 form of identityKey, carried signed so the initiator skips a costly
   * conversion. It is not checked against identityKey: only the identity can sign the bundle,
   * and a wrong value would only make its own owner unable to complete the handshake.
   */
  readonly identityDhKey: IdentityDhPublicKey;
  readonly signedPrekey: { readonly id: number; readonly publicKey: SignedPrekeyPublicKey };
  readonly oneTimePrekey?: { readonly id: number; readonly publicKey: OneTimePrekeyPublicKey };
  readonly createdAt: number;
}

declare const verifiedBrand: unique symbol;
/** A bundle whose signature, PeerId and keys were checked by `verifyBundle`. */
export type VerifiedBundle = PrekeyBundle & { readonly [verifiedBrand]: true };

function bundleBody(b: PrekeyBundle): Uint8Array {
  const w = new ByteWriter(200)
    .u8(BUNDLE_VERSION)
    .bytes(utf8(b.peerId))
    .raw(b.identityKey)
    .raw(b.identityDhKey)
    .u32(b.signedPrekey.id)
    .raw(b.signedPrekey.publicKey)
    .u64(b.createdAt);
  if (b.oneTimePrekey) w.u8(1).u32(b.oneTimePrekey.id).raw(b.oneTimePrekey.publicKey);
  else w.u8(0);
  return w.finish();
}

/** Builds and signs a bundle for this device; encode it with the signature appended. */
export function createBundle(
  identity: IdentityKeyPair,
  peerId: string,
  signedPrekey: SignedPrekey,
  oneTimePrekey: OneTimePrekey | undefined,
  now: number,
): Uint8Array {
  if (utf8(peerId).length > MAX_PEER_ID_BYTES) throw new CryptoError('TOO_LARGE', 'peer id');
  const body = bundleBody({
    peerId,
    identityKey: identity.publicKey,
    identityDhKey: identity.dhPublicKey,
    signedPrekey: { id: signedPrekey.id, publicKey: signedPrekey.keyPair.publicKey },
    oneTimePrekey: oneTimePrekey && { id: oneTimePrekey.id, publicKey: oneTimePrekey.keyPair.publicKey },
    createdAt: now,
  });
  return new ByteWriter(body.length + SIGNATURE_BYTES).raw(body).raw(sign(identity, BUNDLE_CONTEXT, body)).finish();
}

export interface BundleExpectations {
  /** The PeerId the bundle was received from (Noise-authenticated) or is meant for. */
  readonly peerId: string;
  /** The identity we already know for this contact, if any: a different one is WRONG_IDENTITY. */
  readonly identityKey?: IdentityPublicKey;
}

/**
 * Parses and verifies an encoded bundle: format, key validity (no zero or small-order keys),
 * the identity's signature over the whole bundle, and that it belongs to the expected PeerId
 * and identity. Nothing from the bundle is trusted before this returns.
 */
export function verifyBundle(encoded: Uint8Array, expected: BundleExpectations): VerifiedBundle {
  if (encoded.length <= SIGNATURE_BYTES) throw new CryptoError('MALFORMED', 'bundle too short');
  const body = encoded.subarray(0, encoded.length - SIGNATURE_BYTES);
  const signature = encoded.subarray(encoded.length - SIGNATURE_BYTES);
  const r = new ByteReader(body);
  if (r.u8() !== BUNDLE_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'bundle');
  const peerId = fromUtf8(r.bytes(MAX_PEER_ID_BYTES));
  const identityKey = publicKey('identity', r.raw(PUBLIC_KEY_BYTES));
  const identityDhKey = publicKey('identity-dh', r.raw(PUBLIC_KEY_BYTES));
  const spkId = r.u32();
  const spk = publicKey('signed-prekey', r.raw(PUBLIC_KEY_BYTES));
  const createdAt = r.u64();
  const hasOneTime = r.u8();
  let oneTimePrekey: PrekeyBundle['oneTimePrekey'];
  if (hasOneTime === 1) {
    const id = r.u32();
    oneTimePrekey = { id, publicKey: publicKey('one-time-prekey', r.raw(PUBLIC_KEY_BYTES)) };
  } else if (hasOneTime !== 0) {
    throw new CryptoError('MALFORMED', 'bundle one-time prekey flag');
  }
  r.end();
  if (!verify(identityKey, BUNDLE_CONTEXT, body, signature)) throw new CryptoError('INVALID_SIGNATURE', 'bundle');
  if (peerId !== expected.peerId) throw new CryptoError('WRONG_IDENTITY', 'bundle is for another device');
  if (expected.identityKey && !equalBytes(expected.identityKey, identityKey)) {
    throw new CryptoError('WRONG_IDENTITY', 'bundle is signed by another identity');
  }
  return {
    peerId,
    identityKey,
    identityDhKey,
    signedPrekey: { id: spkId, publicKey: spk },
    ...(oneTimePrekey ? { oneTimePrekey } : {}),
    createdAt,
  } as VerifiedBundle;
}
