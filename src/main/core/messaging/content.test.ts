import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCrypto, isCryptoError } from '../../../crypto';
import { decodeContent, encodeContent, type Content } from './content';

beforeAll(async () => {
  await initCrypto();
});

const id = (n: number) => new Uint8Array(16).fill(n);

describe('message content', () => {
  it('content - every kind round-trips', () => {
    const samples: Content[] = [
      { kind: 'text', id: id(1), sentAt: 123, seq: 1, body: 'hello ✓ مرحبا' },
      { kind: 'delivered', id: id(2), sentAt: 5, ids: [id(7), id(8)] },
      { kind: 'read', id: id(3), sentAt: 6, ids: [] },
      { kind: 'profile', id: id(4), sentAt: 7, card: new Uint8Array([1, 2, 3]) },
      { kind: 'introduce', id: id(5), sentAt: 8, card: new Uint8Array([9]), inviteSecret: id(9) },
      { kind: 'introduce', id: id(6), sentAt: 9, card: new Uint8Array([9]) },
    ];
    for (const c of samples) expect(decodeContent(encodeContent(c))).toEqual(c);
  });

  it('content - any bytes either decode or fail with a typed error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeContent(bytes);
        } catch (error) {
          expect(isCryptoError(error)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('content - truncated, trailing and unknown kinds are refused', () => {
    const text = encodeContent({ kind: 'text', id: id(1), sentAt: 1, seq: 1, body: 'x' });
    expect(() => decodeContent(text.subarray(0, text.length - 1))).toThrow();
    expect(() => decodeContent(new Uint8Array([...text, 0]))).toThrow();
    const unknown = text.slice();
    unknown[1] = 99;
    expect(() => decodeContent(unknown)).toThrow(/unknown content kind/);
  });
});
