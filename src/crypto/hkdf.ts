/**
 * HMAC-SHA-256 and HKDF-SHA-256 (RFC 2104, RFC 5869) on libsodium's HMAC. The wrappers expose
 * no HKDF, so it is built here; the Wycheproof and RFC 5869 vectors check it.
 */
import { CryptoError } from './errors';
import { sodium } from './sodium';

export const HASH_BYTES = 32;
/** RFC 5869 §2.3: L ≤ 255 · HashLen. */
export const HKDF_MAX_BYTES = 255 * HASH_BYTES;

/** HMAC-SHA-256 over the concatenation of `parts`, with a key of any length. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const s = sodium();
  // Fast path: libsodium's one-shot HMAC takes exactly 32-byte keys (all our chain keys).
  if (key.length === s.crypto_auth_hmacsha256_KEYBYTES && parts.length === 1) {
    return s.crypto_auth_hmacsha256(parts[0] as Uint8Array, key);
  }
  const state = s.crypto_auth_hmacsha256_init(key);
  for (const p of parts) s.crypto_auth_hmacsha256_update(state, p);
  return s.crypto_auth_hmacsha256_final(state);
}

/** RFC 5869 §2.2. An empty salt means HashLen zero bytes, as the RFC says. */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmacSha256(salt.length === 0 ? new Uint8Array(HASH_BYTES) : salt, ikm);
}

/** RFC 5869 §2.3. */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > HKDF_MAX_BYTES) {
    throw new CryptoError('TOO_LARGE', 'HKDF output length');
  }
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1, offset = 0; offset < length; i++) {
    previous = hmacSha256(prk, previous, info, Uint8Array.of(i));
    out.set(previous.subarray(0, Math.min(HASH_BYTES, length - offset)), offset);
    offset += HASH_BYTES;
  }
  return out;
}

export function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(hkdfExtract(salt, ikm), info, length);
}
