/**
 * The single source of randomness for the crypto library. Tests inject a deterministic source
 * to pin wire formats; production uses the platform CSPRNG.
 */
export interface RandomSource {
  /** Returns `length` fresh random bytes. The caller owns the returned buffer. */
  bytes(length: number): Uint8Array;
}

/**
 * Draws from `crypto.getRandomValues` a pool at a time: libsodium-wrappers' randombytes_buf
 * costs a system call per byte in Node (~50 µs for a nonce), and even getRandomValues has a
 * fixed per-call cost that dominates for 24-byte nonces (ARCHITECTURE.md §10).
 */
const POOL_BYTES = 4096; // 64 bytes of X25519 + nonce per message → ~60 messages per refill
// getRandomValues throws above 65,536 bytes per call (Web Crypto quota).
const GET_RANDOM_VALUES_MAX = 65_536;

export class PooledSystemRandom implements RandomSource {
  #pool = new Uint8Array(POOL_BYTES);
  #offset = POOL_BYTES;

  bytes(length: number): Uint8Array {
    if (length > POOL_BYTES / 4) return fillRandom(new Uint8Array(length));
    if (this.#offset + length > POOL_BYTES) {
      crypto.getRandomValues(this.#pool);
      this.#offset = 0;
    }
    // Copy out and wipe, so no byte is ever handed out twice or kept after use.
    const out = this.#pool.slice(this.#offset, this.#offset + length);
    this.#pool.fill(0, this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }
}

function fillRandom(out: Uint8Array): Uint8Array {
  for (let i = 0; i < out.length; i += GET_RANDOM_VALUES_MAX) {
    crypto.getRandomValues(out.subarray(i, Math.min(out.length, i + GET_RANDOM_VALUES_MAX)));
  }
  return out;
}

let source: RandomSource = new PooledSystemRandom();

/** Replaces the random source; returns the previous one so tests can restore it. */
export function setRandomSource(next: RandomSource): RandomSource {
  const previous = source;
  source = next;
  return previous;
}

export function randomBytes(length: number): Uint8Array {
  const out = source.bytes(length);
  if (out.length !== length) throw new RangeError('random source returned the wrong length');
  return out;
}
