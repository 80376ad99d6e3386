import { describe, expect, it } from 'vitest';
import { RETRY_BASE_MS, RETRY_MAX_MS, retryDelay } from './outbox-worker';

describe('outbox retry', () => {
  it('outbox - backs off exponentially from 1 s, capped at 5 min, with ±50 % jitter', () => {
    expect(retryDelay(0, () => 0.5)).toBe(RETRY_BASE_MS);
    expect(retryDelay(3, () => 0.5)).toBe(8 * RETRY_BASE_MS);
    expect(retryDelay(50, () => 0.5)).toBe(RETRY_MAX_MS);
    expect(retryDelay(2, () => 0)).toBe(2 * RETRY_BASE_MS);
    expect(retryDelay(2, () => 0.999)).toBeLessThan(6 * RETRY_BASE_MS);
    expect(retryDelay(1_000_000, () => 0.999)).toBeLessThan(1.5 * RETRY_MAX_MS);
  });
});
