/**
 * A token bucket per key (a peer id string): each action takes a token, tokens come back at a
 * fixed rate up to the bucket's capacity. Penalties may push a bucket into debt (down to
 * -capacity), so a peer that misbehaves waits longer than one that is merely busy.
 *
 * The clock is injected (milliseconds), so tests drive time by hand.
 */
import { InvalidParametersError } from '@libp2p/interface';
import { RATE_LIMIT_MAX_PEERS } from './constants';

export interface RateLimitInit {
  /** Tokens a full bucket holds: the largest burst a peer may make. */
  capacity: number;
  /** Tokens returned per second. */
  refillPerSecond: number;
  /** Most keys remembered; the least recently used is forgotten beyond it. */
  maxKeys?: number;
  /** Milliseconds clock; `Date.now` unless a test injects one. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  // Map iteration order is insertion order; touching a key re-inserts it, so the first entry
  // is always the least recently used one.
  readonly #buckets = new Map<string, Bucket>();

  constructor(init: RateLimitInit) {
    if (!(init.capacity >= 1) || !(init.refillPerSecond > 0) || !Number.isFinite(init.capacity)) {
      throw new InvalidParametersError('Rate limit needs capacity >= 1 and refillPerSecond > 0');
    }
    this.capacity = init.capacity;
    this.refillPerSecond = init.refillPerSecond;
    this.#maxKeys = Math.max(1, init.maxKeys ?? RATE_LIMIT_MAX_PEERS);
    this.#now = init.now ?? Date.now;
  }

  /** Takes `cost` tokens if the bucket holds them; returns false (and takes nothing) otherwise. */
  tryRemove(key: string, cost = 1): boolean {
    const bucket = this.#touch(key);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  /** Takes `cost` tokens unconditionally, down to a debt of -capacity (a penalty). */
  penalize(key: string, cost: number): void {
    const bucket = this.#touch(key);
    bucket.tokens = Math.max(-this.capacity, bucket.tokens - cost);
  }

  /** Tokens `key` holds now (a full bucket for an unknown key). */
  tokens(key: string): number {
    const bucket = this.#buckets.get(key);
    return bucket === undefined ? this.capacity : this.#refilled(bucket, this.#now());
  }

  /** How many keys are remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  delete(key: string): void {
    this.#buckets.delete(key);
  }

  clear(): void {
    this.#buckets.clear();
  }

  #touch(key: string): Bucket {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      while (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done === true) break;
        this.#buckets.delete(oldest.value);
      }
      bucket = { tokens: this.capacity, updatedAt: now };
    } else {
      bucket.tokens = this.#refilled(bucket, now);
      bucket.updatedAt = Math.max(bucket.updatedAt, now);
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, bucket);
    return bucket;
  }

  #refilled(bucket: Bucket, now: number): number {
    // A clock that steps backwards (NTP) refills nothing rather than draining the bucket.
    const elapsedMs = Math.max(0, now - bucket.updatedAt);
    return Math.min(this.capacity, bucket.tokens + (elapsedMs * this.refillPerSecond) / 1000);
  }
}
