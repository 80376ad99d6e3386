import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('rate limit - token bucket', () => {
  it('allows a burst up to capacity, then refuses', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 1, now: clock.now });
    expect([1, 2, 3, 4].map(() => limiter.tryRemove('a'))).toEqual([true, true, true, false]);
  });

  it('refills at the configured rate, never above capacity', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 4, now: clock.now });
    limiter.tryRemove('a');
    limiter.tryRemove('a');
    expect(limiter.tryRemove('a')).toBe(false);
    clock.advance(250); // one token
    expect(limiter.tryRemove('a')).toBe(true);
    expect(limiter.tryRemove('a')).toBe(false);
    clock.advance(60_000);
    expect(limiter.tokens('a')).toBe(2);
  });

  it('keeps one bucket per key', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: clock.now });
    expect(limiter.tryRemove('a')).toBe(true);
    expect(limiter.tryRemove('a')).toBe(false);
    expect(limiter.tryRemove('b')).toBe(true);
  });

  it('a refused request takes nothing', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 1, now: clock.now });
    expect(limiter.tryRemove('a', 3)).toBe(false);
    expect(limiter.tokens('a')).toBe(2);
  });

  it('penalties put a bucket into debt, bounded by capacity', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 4, refillPerSecond: 2, now: clock.now });
    limiter.penalize('a', 100);
    expect(limiter.tokens('a')).toBe(-4);
    clock.advance(2_000); // +4 tokens: back to zero, still refused
    expect(limiter.tryRemove('a')).toBe(false);
    clock.advance(500);
    expect(limiter.tryRemove('a')).toBe(true);
  });

  it('a clock stepping backwards refills nothing and drains nothing', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 1, now: clock.now });
    limiter.tryRemove('a');
    clock.advance(-10_000);
    expect(limiter.tokens('a')).toBe(1);
    clock.advance(10_000); // back where it was: no refill for the time "regained"
    expect(limiter.tokens('a')).toBe(1);
  });

  it('forgets the least recently used key beyond maxKeys', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, maxKeys: 2, now: clock.now });
    limiter.tryRemove('a');
    limiter.tryRemove('b');
    limiter.tryRemove('a'); // a is now the most recent
    limiter.tryRemove('c'); // evicts b
    expect(limiter.size).toBe(2);
    expect(limiter.tokens('a')).toBe(0);
    expect(limiter.tokens('b')).toBe(1); // forgotten: a fresh bucket
  });

  it('rejects a nonsensical configuration', () => {
    expect(() => new RateLimiter({ capacity: 0, refillPerSecond: 1 })).toThrow();
    expect(() => new RateLimiter({ capacity: 1, refillPerSecond: 0 })).toThrow();
  });
});
