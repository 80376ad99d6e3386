/**
 * HKDF-SHA-256 and HMAC-SHA-256 against their RFCs (RFC 5869 Appendix A, RFC 4231 §4) and
 * against Node's OpenSSL implementation as an independent oracle. The Wycheproof files are
 * covered in wycheproof.test.ts.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from './bytes';
import { isCryptoError } from './errors';
import { HKDF_MAX_BYTES, hkdf, hkdfExpand, hkdfExtract, hmacSha256 } from './hkdf';
import { initCrypto } from './sodium';

beforeAll(async () => {
  await initCrypto();
});

/** 0x{from}, 0x{from+1}, … : the byte runs RFC 5869 test case 2 is written in. */
function byteRun(from: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => from + i);
}

function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isCryptoError(error) ? error.code : `non-CryptoError ${String(error)}`;
  }
  return undefined;
}

describe('hkdf', () => {
  // RFC 5869 Appendix A, the three SHA-256 cases.
  const RFC5869 = [
    {
      name: 'test case 1 (basic)',
      ikm: new Uint8Array(22).fill(0x0b),
      salt: fromHex('000102030405060708090a0b0c'),
      info: fromHex('f0f1f2f3f4f5f6f7f8f9'),
      length: 42,
      prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
      okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    },
    {
      name: 'test case 2 (longer inputs and outputs)',
      ikm: byteRun(0x00, 80),
      salt: byteRun(0x60, 80),
      info: byteRun(0xb0, 80),
      length: 82,
      prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
      okm:
        'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c' +
        '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71' +
        'cc30c58179ec3e87c14c01d5c1f3434f1d87',
    },
    {
      name: 'test case 3 (zero-length salt and info)',
      ikm: new Uint8Array(22).fill(0x0b),
      salt: new Uint8Array(0),
      info: new Uint8Array(0),
      length: 42,
      prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
      okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    },
  ];

  it.each(RFC5869)('hkdf - matches RFC 5869 $name', ({ ikm, salt, info, length, prk, okm }) => {
    expect(toHex(hkdfExtract(salt, ikm))).toBe(prk);
    expect(toHex(hkdfExpand(fromHex(prk), info, length))).toBe(okm);
    expect(toHex(hkdf(salt, ikm, info, length))).toBe(okm);
  });

  it('hkdf - produces the maximum 255 * 32 bytes and matches OpenSSL there', () => {
    expect(HKDF_MAX_BYTES).toBe(255 * 32);
    const [salt, ikm, info] = [byteRun(1, 16), byteRun(50, 32), utf8('parley max length')];
    const out = hkdf(salt, ikm, info, 255 * 32);
    expect(out).toHaveLength(255 * 32);
    expect(toHex(out)).toBe(toHex(new Uint8Array(hkdfSync('sha256', ikm, salt, info, 255 * 32))));
  });

  it('hkdf - refuses 255 * 32 + 1 bytes with TOO_LARGE', () => {
    const [salt, ikm, info] = [byteRun(1, 16), byteRun(50, 32), new Uint8Array(0)];
    expect(thrownCode(() => hkdf(salt, ikm, info, 255 * 32 + 1))).toBe('TOO_LARGE');
    expect(thrownCode(() => hkdfExpand(byteRun(0, 32), info, 255 * 32 + 1))).toBe('TOO_LARGE');
  });

  it('hkdf - refuses a negative or fractional length with TOO_LARGE', () => {
    const prk = byteRun(0, 32);
    for (const length of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(thrownCode(() => hkdfExpand(prk, new Uint8Array(0), length)), String(length)).toBe('TOO_LARGE');
    }
    expect(hkdfExpand(prk, new Uint8Array(0), 0)).toHaveLength(0);
  });

  it('hkdf - a shorter output is a prefix of a longer one with the same inputs', () => {
    const [salt, ikm, info] = [byteRun(9, 32), byteRun(3, 40), utf8('prefix')];
    const long = hkdf(salt, ikm, info, 100);
    for (const length of [1, 31, 32, 33, 64, 65, 99]) {
      expect(toHex(hkdf(salt, ikm, info, length))).toBe(toHex(long.subarray(0, length)));
    }
  });

  it('hkdf - agrees with OpenSSL on random inputs and lengths', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.integer({ min: 1, max: 600 }),
        (salt, ikm, info, length) => {
          const expected = new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
          expect(toHex(hkdf(salt, ikm, info, length))).toBe(toHex(expected));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('hmac', () => {
  // RFC 4231 §4.7 and §4.8: a 131-byte key, longer than SHA-256's 64-byte block, is hashed first.
  const LONG_KEY = new Uint8Array(131).fill(0xaa);

  it('hmac - matches RFC 4231 test case 6 (key longer than the block size)', () => {
    const data = utf8('Test Using Larger Than Block-Size Key - Hash Key First');
    expect(toHex(hmacSha256(LONG_KEY, data))).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });

  it('hmac - matches RFC 4231 test case 7 (key and data longer than the block size)', () => {
    const data = utf8(
      'This is a test using a larger than block-size key and a larger than block-size data. ' +
        'The key needs to be hashed before being used by the HMAC algorithm.',
    );
    expect(toHex(hmacSha256(LONG_KEY, data))).toBe('9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2');
    // Same message in pieces: the streaming path must agree with itself.
    expect(toHex(hmacSha256(LONG_KEY, data.subarray(0, 7), data.subarray(7, 100), data.subarray(100)))).toBe(
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    );
  });

  it('hmac - keys of 63, 64 and 65 bytes, around the 64-byte block size, match OpenSSL', () => {
    for (const length of [63, 64, 65]) {
      const key = byteRun(length, length);
      const msg = utf8('block size boundary');
      const expected = createHmac('sha256', key).update(msg).digest('hex');
      expect(toHex(hmacSha256(key, msg)), `${length}-byte key`).toBe(expected);
    }
  });

  it('hmac - empty messages: a 32-byte key on the one-shot path, an empty key, no parts at all', () => {
    // Wycheproof hmac_sha256_test.json tcId 1 ("empty message").
    const key = fromHex('1e225cafb90339bba1b24076d4206c3e79c355805d851682bc818baa4f5a7779');
    const tag = 'b175b57d89ea6cb606fb3363f2538abd73a4c00b4a1386905bac809004cf1933';
    expect(toHex(hmacSha256(key, new Uint8Array(0)))).toBe(tag);
    expect(toHex(hmacSha256(key))).toBe(tag);
    expect(toHex(hmacSha256(key, new Uint8Array(0), new Uint8Array(0)))).toBe(tag);
    // HMAC-SHA-256 with an empty key and an empty message.
    expect(toHex(hmacSha256(new Uint8Array(0), new Uint8Array(0)))).toBe(
      'b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad',
    );
  });

  it('hmac - agrees with OpenSSL for any key length and any split of the message', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 4 }),
        (key, parts) => {
          const expected = createHmac('sha256', key).update(concatBytes(...parts)).digest('hex');
          expect(toHex(hmacSha256(key, ...parts))).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hmac - agrees with OpenSSL for 32-byte keys, the one-shot path', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (key, msg) => {
        expect(toHex(hmacSha256(key, msg))).toBe(createHmac('sha256', key).update(msg).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });
});
