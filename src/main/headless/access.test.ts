import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkedHost, generateToken, originMatches, tokenMatches, upgradeToken } from './access';
import { TokenBucket } from './token-bucket';

function request(rawHeaders: string[]): IncomingMessage {
  return { rawHeaders } as unknown as IncomingMessage;
}

describe('access - host and origin', () => {
  it('accepts exactly 127.0.0.1:PORT and localhost:PORT', () => {
    expect(checkedHost(request(['Host', '127.0.0.1:8080']), 8080)).toBe('127.0.0.1:8080');
    expect(checkedHost(request(['host', 'localhost:8080']), 8080)).toBe('localhost:8080');
    for (const host of ['127.0.0.1', '127.0.0.1:80', 'LOCALHOST:8080', 'localhost.:8080', '[::1]:8080', '0.0.0.0:8080', ' 127.0.0.1:8080', 'evil.example:8080', '127.0.0.1:8080@evil']) {
      expect(checkedHost(request(['Host', host]), 8080)).toBeUndefined();
    }
    expect(checkedHost(request([]), 8080)).toBeUndefined();
    expect(checkedHost(request(['Host', '127.0.0.1:8080', 'HOST', '127.0.0.1:8080']), 8080)).toBeUndefined();
  });

  it('requires one Origin equal to http:// + the checked host', () => {
    expect(originMatches(request(['Origin', 'http://127.0.0.1:8080']), '127.0.0.1:8080')).toBe(true);
    expect(originMatches(request(['Origin', 'http://localhost:8080']), '127.0.0.1:8080')).toBe(false);
    expect(originMatches(request(['Origin', 'https://127.0.0.1:8080']), '127.0.0.1:8080')).toBe(false);
    expect(originMatches(request(['Origin', 'http://127.0.0.1:8080/']), '127.0.0.1:8080')).toBe(false);
    expect(originMatches(request(['Origin', 'null']), '127.0.0.1:8080')).toBe(false);
    expect(originMatches(request([]), '127.0.0.1:8080')).toBe(false);
    expect(originMatches(request(['Origin', 'http://127.0.0.1:8080', 'origin', 'http://127.0.0.1:8080']), '127.0.0.1:8080')).toBe(false);
  });
});

describe('access - token', () => {
  it('draws 256-bit base64url tokens, different each time', () => {
    const a = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(generateToken()).not.toBe(a);
  });

  it('reads the token only from /api?token=…', () => {
    expect(upgradeToken('/api?token=abc')).toBe('abc');
    expect(upgradeToken('/api?token=a%2Bb')).toBe('a+b');
    for (const url of [undefined, '/api', '/api?', '/api/?token=abc', '/API?token=abc', '/?token=abc', '/api?token=a&token=b', '/api?x=1&token=abc', '/api?tok=abc']) {
      expect(upgradeToken(url)).toBeUndefined();
    }
  });

  it('matches only the exact token', () => {
    const token = generateToken();
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(undefined, token)).toBe(false);
    expect(tokenMatches('', token)).toBe(false);
    expect(tokenMatches(token.slice(0, -1), token)).toBe(false);
    expect(tokenMatches(`${token}x`, token)).toBe(false);
  });
});

describe('token bucket', () => {
  it('allows a burst, then refills at its rate up to capacity', () => {
    let now = 1_000;
    const bucket = new TokenBucket(3, 2, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    now += 500; // one token back
    expect([bucket.tryTake(), bucket.tryTake()]).toEqual([true, false]);
    now += 60_000; // capped at capacity
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    now -= 10_000; // a clock stepping back refills nothing
    expect(bucket.tryTake()).toBe(false);
  });
});
