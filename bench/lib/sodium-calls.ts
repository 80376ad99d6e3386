/**
 * Where the time goes: counts the libsodium calls one operation of the crypto library makes,
 * and measures what each of those calls costs on its own in this process. Counts × unit costs
 * estimate the time spent inside libsodium (WebAssembly plus the wrapper's copies); the rest
 * of a measured step is the library's own JavaScript (parsing, allocation, typed-key checks).
 *
 * Counting wraps the functions of the libsodium module object for the duration of one call
 * and restores them before returning, so no timed window ever runs wrapped.
 */
import sodium from 'libsodium-wrappers-sumo';
import { microseconds, round } from './timing';

type SodiumObject = Record<string, unknown>;

/** Runs `fn` once with every libsodium function counted; returns the counts, largest first. */
export function countSodiumCalls(fn: () => void): Record<string, number> {
  const target = sodium as unknown as SodiumObject;
  const counts = new Map<string, number>();
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const [name, value] of Object.entries(target)) {
    if (typeof value !== 'function' || name === 'ready') continue;
    const original = value as (...args: unknown[]) => unknown;
    originals.set(name, original);
    target[name] = function counted(this: unknown, ...args: unknown[]) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
  try {
    fn();
  } finally {
    for (const [name, original] of originals) target[name] = original;
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

/** Divides every count by `n` (calls per operation when `fn` ran `n` operations). */
export function perOperation(counts: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v / n, 2)]));
}

/**
 * The cost in µs of each libsodium call the library makes on its hot paths, measured here with
 * representative inputs (32-byte keys, a 300-byte AEAD message as a ratchet message is).
 * Each figure is the fastest of five batches.
 */
export function measureUnitCosts(): Record<string, number> {
  const s = sodium;
  const seed = new Uint8Array(32).fill(3);
  const kp = s.crypto_sign_seed_keypair(seed);
  const scalar = new Uint8Array(32).fill(5);
  const point = s.crypto_scalarmult_base(new Uint8Array(32).fill(9));
  const message = new Uint8Array(200);
  const signature = s.crypto_sign_detached(message, kp.privateKey);
  const key = new Uint8Array(32).fill(1);
  const nonce = new Uint8Array(24);
  const ad = new Uint8Array(104);
  const m300 = new Uint8Array(300);
  const c300 = s.crypto_aead_xchacha20poly1305_ietf_encrypt(m300, ad, null, nonce, key);
  const hmacState = () => s.crypto_auth_hmacsha256_init(key);
  // The fastest of five batches: other processes on the machine only ever add time, so the
  // minimum is the closest to the undisturbed cost.
  const us = (n: number, fn: () => void) => {
    let best = Infinity;
    for (let i = 0; i < 5; i++) best = Math.min(best, microseconds(Math.ceil(n / 5), fn));
    return round(best, 2);
  };
  return {
    crypto_scalarmult: us(2000, () => s.crypto_scalarmult(scalar, point)),
    crypto_scalarmult_base: us(2000, () => s.crypto_scalarmult_base(scalar)),
    crypto_sign_seed_keypair: us(2000, () => s.crypto_sign_seed_keypair(seed)),
    crypto_sign_ed25519_pk_to_curve25519: us(2000, () => s.crypto_sign_ed25519_pk_to_curve25519(kp.publicKey)),
    crypto_sign_ed25519_sk_to_curve25519: us(5000, () => s.crypto_sign_ed25519_sk_to_curve25519(kp.privateKey)),
    crypto_core_ed25519_is_valid_point: us(2000, () => s.crypto_core_ed25519_is_valid_point(kp.publicKey)),
    crypto_sign_detached: us(2000, () => s.crypto_sign_detached(message, kp.privateKey)),
    crypto_sign_verify_detached: us(2000, () => s.crypto_sign_verify_detached(signature, message, kp.publicKey)),
    crypto_auth_hmacsha256: us(20000, () => s.crypto_auth_hmacsha256(Uint8Array.of(1), key)),
    crypto_auth_hmacsha256_init: us(20000, hmacState),
    crypto_auth_hmacsha256_update: round(us(20000, () => s.crypto_auth_hmacsha256_update(hmacState(), key)) - us(20000, hmacState), 2),
    crypto_auth_hmacsha256_final: round(us(20000, () => s.crypto_auth_hmacsha256_final(hmacState())) - us(20000, hmacState), 2),
    crypto_aead_xchacha20poly1305_ietf_encrypt: us(20000, () => s.crypto_aead_xchacha20poly1305_ietf_encrypt(m300, ad, null, nonce, key)),
    crypto_aead_xchacha20poly1305_ietf_decrypt: us(20000, () => s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c300, ad, nonce, key)),
    memcmp: us(50000, () => s.memcmp(key, point)),
    is_zero: us(50000, () => s.is_zero(point)),
    to_hex: us(50000, () => s.to_hex(point)),
    crypto_hash_sha256: us(20000, () => s.crypto_hash_sha256(point)),
  };
}

/** Curve operations (X25519, Ed25519): the part of a setup no amount of JavaScript tuning removes. */
const PUBLIC_KEY_CALL = /scalarmult|crypto_sign|curve25519|ed25519/;

/**
 * Σ count × unit cost over the calls that have a measured unit cost, in µs, in total and for
 * the curve operations alone.
 */
export function estimateSodiumMicroseconds(
  countsPerOp: Record<string, number>,
  unitCosts: Record<string, number>,
): { estimated_us: number; public_key_us: number; unpriced_calls: string[] } {
  let total = 0;
  let publicKey = 0;
  const unpriced: string[] = [];
  for (const [name, count] of Object.entries(countsPerOp)) {
    const cost = unitCosts[name];
    if (cost === undefined) {
      unpriced.push(name);
      continue;
    }
    total += count * cost;
    if (PUBLIC_KEY_CALL.test(name)) publicKey += count * cost;
  }
  return { estimated_us: round(total, 1), public_key_us: round(publicKey, 1), unpriced_calls: unpriced };
}
