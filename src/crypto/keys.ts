/**
 * Typed keys. Every key crossing the library's API has a purpose-specific type made only
 * through a length-checked constructor, so an ephemeral key cannot be passed where a signed
 * prekey is expected and a truncated buffer never becomes a key.
 *
 * Public keys are branded byte arrays (they are safe to print). Secret keys are objects that
 * hide their bytes from `toString`, `JSON.stringify` and Node's inspector; the bytes are
 * reached only through `expose()` inside the library.
 */
import { CryptoError } from './errors';
import { equalBytes, toHex } from './bytes';
import { randomBytes } from './random';
import { sodium } from './sodium';

declare const publicBrand: unique symbol;

/** Every key purpose the library distinguishes. */
export type PublicKeyKind =
  | 'identity' // Ed25519 identity signing key: the long-term identity
  | 'identity-dh' // X25519 form of the identity key (see identity.ts for why it is converted)
  | 'signed-prekey'
  | 'one-time-prekey'
  | 'ephemeral' // X3DH ephemeral, also the envelope key for prekey messages
  | 'ratchet'; // Double Ratchet DH key

export type SecretKeyKind =
  | PublicKeyKind
  | 'x3dh-secret' // the X3DH output SK
  | 'root'
  | 'chain'
  | 'message'
  | 'envelope'
  | 'storage' // the random database key
  | 'file'; // a per-file secretstream key

export type PublicKey<K extends PublicKeyKind> = Uint8Array & { readonly [publicBrand]: K };
export type IdentityPublicKey = PublicKey<'identity'>;
export type IdentityDhPublicKey = PublicKey<'identity-dh'>;
export type SignedPrekeyPublicKey = PublicKey<'signed-prekey'>;
export type OneTimePrekeyPublicKey = PublicKey<'one-time-prekey'>;
export type EphemeralPublicKey = PublicKey<'ephemeral'>;
export type RatchetPublicKey = PublicKey<'ratchet'>;

export const PUBLIC_KEY_BYTES = 32; // Ed25519 and X25519 public keys alike
export const SYMMETRIC_KEY_BYTES = 32;
/** libsodium keeps Ed25519 secret keys as seed ‖ public key. */
export const IDENTITY_SECRET_KEY_BYTES = 64;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class SecretKey<K extends SecretKeyKind> {
  readonly kind: K;
  readonly #bytes: Uint8Array;

  constructor(kind: K, bytes: Uint8Array) {
    const expected = kind === 'identity' ? IDENTITY_SECRET_KEY_BYTES : SYMMETRIC_KEY_BYTES;
    if (bytes.length !== expected) throw new CryptoError('INVALID_KEY', `${kind} secret key length`);
    this.kind = kind;
    this.#bytes = bytes;
  }

  /** The raw bytes, for libsodium calls inside this library. Never log or persist them unencrypted. */
  expose(): Uint8Array {
    return this.#bytes;
  }

  /** Overwrites the bytes; the key is unusable afterwards. */
  wipe(): void {
    this.#bytes.fill(0);
  }

  toString(): string {
    return `[SecretKey ${this.kind}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [INSPECT](): string {
    return this.toString();
  }
}

export interface KeyPair<K extends PublicKeyKind> {
  readonly publicKey: PublicKey<K>;
  readonly secretKey: SecretKey<K>;
}

export type RootKey = SecretKey<'root'>;
export type ChainKey = SecretKey<'chain'>;
export type MessageKey = SecretKey<'message'>;
export type EnvelopeKey = SecretKey<'envelope'>;
export type StorageKey = SecretKey<'storage'>;
export type FileKey = SecretKey<'file'>;

/**
 * X25519 points of small order, as libsodium lists them (x25519_ref10.c `has_small_order`),
 * compared with the top bit cleared as RFC 7748 §5 masks it. A DH with any of them yields a
 * predictable (all-zero) secret, so they are refused as soon as they arrive from a peer.
 */
const SMALL_ORDER_POINTS: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000', // 0
  '0100000000000000000000000000000000000000000000000000000000000000', // 1
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p − 1
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p + 1
].map((hex) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16)));

export function isSmallOrderX25519(bytes: Uint8Array): boolean {
  if (bytes.length !== PUBLIC_KEY_BYTES) return false;
  const masked = bytes.slice();
  masked[31] = (masked[31] as number) & 0x7f;
  return SMALL_ORDER_POINTS.some((p) => equalBytes(p, masked));
}

/**
 * Makes a typed public key from untrusted bytes: length 32, not all zero, and for X25519
 * kinds not a small-order point. Ed25519 identity keys are not decoded here (that costs as
 * much as a DH): the only two things done with one, verify() and identityDhKey(), both refuse
 * a key that is not a valid point of the prime-order group.
 */
export function publicKey<K extends PublicKeyKind>(kind: K, bytes: Uint8Array): PublicKey<K> {
  if (bytes.length !== PUBLIC_KEY_BYTES) throw new CryptoError('INVALID_KEY', `${kind} public key length`);
  if (sodium().is_zero(bytes)) throw new CryptoError('INVALID_KEY', `${kind} public key is zero`);
  if (kind !== 'identity' && isSmallOrderX25519(bytes)) {
    throw new CryptoError('INVALID_KEY', `${kind} public key has small order`);
  }
  return bytes as PublicKey<K>;
}

export function secretKey<K extends SecretKeyKind>(kind: K, bytes: Uint8Array): SecretKey<K> {
  return new SecretKey(kind, bytes);
}

/** A fresh X25519 key pair for the given purpose, from the library's random source. */
export function generateX25519<K extends Exclude<PublicKeyKind, 'identity' | 'identity-dh'>>(
  kind: K,
  seed: Uint8Array = randomBytes(SYMMETRIC_KEY_BYTES),
): KeyPair<K> {
  if (seed.length !== SYMMETRIC_KEY_BYTES) throw new CryptoError('INVALID_KEY', 'seed length');
  // X25519 clamps any 32 bytes into a valid scalar (RFC 7748 §5), so random bytes are a key.
  const pub = sodium().crypto_scalarmult_base(seed);
  return { publicKey: pub as PublicKey<K>, secretKey: new SecretKey(kind, seed) };
}

/**
 * X25519 Diffie-Hellman. libsodium refuses an all-zero result (a small-order peer key); that
 * becomes INVALID_KEY so a hostile key is reported as such, not as a crash.
 */
export function dh(secret: SecretKey<PublicKeyKind>, peer: PublicKey<PublicKeyKind>): Uint8Array {
  try {
    return sodium().crypto_scalarmult(secret.expose(), peer);
  } catch {
    throw new CryptoError('INVALID_KEY', 'Diffie-Hellman with a small-order key');
  }
}

/**
 * A short, human-comparable fingerprint of a public key: the first 80 bits of its SHA-256 as
 * five groups of four hex digits. Only public keys have one; secret keys print as `[SecretKey …]`.
 */
export function fingerprint(key: PublicKey<PublicKeyKind>): string {
  const digest = sodium().crypto_hash_sha256(key);
  return (toHex(digest.subarray(0, 10)).match(/.{4}/g) ?? []).join(' ');
}
