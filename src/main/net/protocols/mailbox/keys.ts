/**
 * Mailbox keys and ids: pure functions on src/crypto primitives (call `initCrypto()` first).
 *
 * A mailbox key is an Ed25519 key pair of its own, one per (identity, relay):
 *
 *   seed       = HKDF-SHA-256(salt = "parley/mailbox/key/v1", ikm = identity seed, info = relay PeerId, 32)
 *   mailbox id = HMAC-SHA-256(key = "parley/mailbox/id/v1", mailbox public key)
 *
 * So a relay sees a public key and an id that are unrelated to the identity key, the PeerId
 * and the mailbox the same user keeps on any other relay: it cannot link mailboxes to
 * identities, nor two relays their mailboxes to each other, from ids or keys alone. The id is
 * a keyed hash under a public label (domain separation): the relay recomputes it from the
 * public key the owner presents, so only that key's holder passes the signature check.
 *
 * The seed becomes a key pair through `deserializeIdentity`, whose format 1 is exactly
 * `version ‖ seed` (crypto/identity.ts); signing and verifying then use crypto's `sign` /
 * `verify` with their length-prefixed context. The resulting key is only ever used here,
 * under the MAILBOX_LABELS.auth context, never as an identity.
 */
import {
  deserializeIdentity,
  equalBytes,
  hkdf,
  hmacSha256,
  serializeIdentity,
  sign,
  toHex,
  utf8,
  verify,
  type IdentityKeyPair,
  type IdentityPublicKey,
} from '../../../../crypto';
import { MAILBOX_ID_BYTES, MAILBOX_LABELS, MAILBOX_PUBLIC_KEY_BYTES, MAILBOX_SIGNATURE_BYTES } from './constants';

const SEED_BYTES = 32;
/** deserializeIdentity's format version for `version ‖ seed`. */
const IDENTITY_FORMAT_VERSION = 1;
const ID_LABEL = utf8(MAILBOX_LABELS.id);
const KEY_SALT = utf8(MAILBOX_LABELS.keySalt);
const AUTH_CONTEXT = utf8(MAILBOX_LABELS.auth);
const LOG_TAG_LABEL = utf8(MAILBOX_LABELS.logTag);
/** Hex digits of the log tag: 32 bits, enough to tell a few mailboxes apart in a log, useless to link. */
const LOG_TAG_HEX_CHARS = 8;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** The id a relay files a mailbox under. */
export function mailboxIdOf(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== MAILBOX_PUBLIC_KEY_BYTES) throw new RangeError('mailbox public key length');
  return hmacSha256(ID_LABEL, publicKey);
}

/**
 * A short tag of a mailbox id for logs: 8 hex digits of a keyed hash of the id, so a log line
 * can say "the same mailbox again" without ever containing the id or a prefix of it.
 */
export function mailboxLogTag(mailboxId: Uint8Array): string {
  return toHex(hmacSha256(LOG_TAG_LABEL, mailboxId)).slice(0, LOG_TAG_HEX_CHARS);
}

/** The message an owner signs: challenge ‖ op ‖ mailbox id ‖ operation arguments. */
export function authMessage(challenge: Uint8Array, op: number, mailboxId: Uint8Array, args: Uint8Array): Uint8Array {
  const out = new Uint8Array(challenge.length + 1 + mailboxId.length + args.length);
  out.set(challenge, 0);
  out[challenge.length] = op;
  out.set(mailboxId, challenge.length + 1);
  out.set(args, challenge.length + 1 + mailboxId.length);
  return out;
}

/** Checks an owner signature: the key hashes to the id, and it signed this exact message. */
export function verifyMailboxAuth(
  mailboxId: Uint8Array,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (mailboxId.length !== MAILBOX_ID_BYTES || publicKey.length !== MAILBOX_PUBLIC_KEY_BYTES) return false;
  if (signature.length !== MAILBOX_SIGNATURE_BYTES) return false;
  if (!equalBytes(mailboxIdOf(publicKey), mailboxId)) return false;
  return verify(publicKey as IdentityPublicKey, AUTH_CONTEXT, message, signature);
}

/**
 * The key of one mailbox on one relay. Its secret half never leaves the object; it prints as
 * `[MailboxKey <log tag>]`.
 */
export class MailboxKey {
  readonly publicKey: Uint8Array;
  readonly id: Uint8Array;
  readonly #pair: IdentityKeyPair;

  private constructor(seed: Uint8Array) {
    if (seed.length !== SEED_BYTES) throw new RangeError('mailbox key seed length');
    const encoded = new Uint8Array(1 + SEED_BYTES);
    encoded[0] = IDENTITY_FORMAT_VERSION;
    encoded.set(seed, 1);
    this.#pair = deserializeIdentity(encoded);
    encoded.fill(0);
    this.publicKey = this.#pair.publicKey.slice();
    this.id = mailboxIdOf(this.publicKey);
  }

  /** A key from 32 secret bytes (tests, or a caller with its own derivation). */
  static fromSeed(seed: Uint8Array): MailboxKey {
    return new MailboxKey(seed);
  }

  /** Signs an owner operation. */
  signAuth(message: Uint8Array): Uint8Array {
    return sign(this.#pair, AUTH_CONTEXT, message);
  }

  /** Overwrites the secret; the key is unusable afterwards. */
  wipe(): void {
    this.#pair.secretKey.wipe();
    this.#pair.dhSecretKey.wipe();
  }

  toString(): string {
    return `[MailboxKey ${mailboxLogTag(this.id)}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [INSPECT](): string {
    return this.toString();
  }
}

/**
 * The mailbox key `identity` keeps on the relay `relayPeerId` (its PeerId string, as in a
 * contact card). Deterministic, so it is never stored: the app derives it again at each start.
 * A different relay gives an unrelated key and id.
 */
export function deriveMailboxKey(identity: IdentityKeyPair, relayPeerId: string): MailboxKey {
  if (relayPeerId.length === 0) throw new RangeError('relay PeerId is empty');
  const serialized = serializeIdentity(identity);
  const seed = hkdf(KEY_SALT, serialized.subarray(1), utf8(relayPeerId), SEED_BYTES);
  serialized.fill(0);
  try {
    return MailboxKey.fromSeed(seed);
  } finally {
    seed.fill(0);
  }
}
