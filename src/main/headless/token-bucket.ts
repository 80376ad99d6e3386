/**
 * A token bucket for one socket: each frame takes a token; tokens come back at a fixed rate up
 * to the bucket's capacity. The clock is injected (milliseconds) so tests drive time by hand.
 */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new RangeError('a token bucket needs capacity >= 1 and a positive rate');
    this.#tokens = capacity;
    this.#updatedAt = now();
  }

  /** Takes one token if there is one; returns false (and takes nothing) otherwise. */
  tryTake(): boolean {
    const now = this.now();
    // A clock that steps backwards refills nothing rather than draining the bucket.
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsed * this.refillPerSecond) / 1000);
    this.#updatedAt = Math.max(this.#updatedAt, now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
