import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { equalBytes } from './bytes';
import { CryptoError, type CryptoErrorCode } from './errors';
import {
  FILE_CHUNK_BYTES,
  FILE_CHUNK_OVERHEAD_BYTES,
  FILE_HEADER_BYTES,
  FileDecryptor,
  FileEncryptor,
  decryptFile,
  encryptFile,
  generateFileKey,
} from './file-stream';
import type { FileKey } from './keys';
import { initCrypto, sodium } from './sodium';

beforeAll(async () => {
  await initCrypto();
});

/** Deterministic, non-repeating filler so a misplaced chunk changes the output. */
function data(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function codeOf(fn: () => unknown): CryptoErrorCode | 'no error' | 'not a CryptoError' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof CryptoError ? e.code : 'not a CryptoError';
  }
}

const THREE_CHUNKS = 2 * FILE_CHUNK_BYTES + 1000;

describe('file stream', () => {
  it('file stream - the constants match libsodium secretstream', () => {
    const s = sodium();
    expect(FILE_HEADER_BYTES).toBe(s.crypto_secretstream_xchacha20poly1305_HEADERBYTES);
    expect(FILE_CHUNK_OVERHEAD_BYTES).toBe(s.crypto_secretstream_xchacha20poly1305_ABYTES);
  });

  it('file stream - a generated file key is 32 fresh random bytes', () => {
    const a = generateFileKey();
    expect(a.kind).toBe('file');
    expect(a.expose()).toHaveLength(32);
    expect(equalBytes(a.expose(), generateFileKey().expose())).toBe(false);
  });

  it.each([
    ['empty', 0, 1],
    ['one byte', 1, 1],
    ['one chunk less a byte', FILE_CHUNK_BYTES - 1, 1],
    ['exactly one chunk', FILE_CHUNK_BYTES, 1],
    ['one chunk and a byte', FILE_CHUNK_BYTES + 1, 2],
    ['many chunks', 5 * FILE_CHUNK_BYTES + 12_345, 6],
  ])('file stream - a %s file round-trips in the expected number of chunks', (_name, size, chunkCount) => {
    const key = generateFileKey();
    const plain = data(size, size + 7);
    const { header, chunks } = encryptFile(key, plain);
    expect(header).toHaveLength(FILE_HEADER_BYTES);
    expect(chunks).toHaveLength(chunkCount);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(size + chunkCount * FILE_CHUNK_OVERHEAD_BYTES);
    expect(equalBytes(decryptFile(key, header, chunks), plain)).toBe(true);
  });

  it('file stream - any size round-trips (property)', () => {
    const key = generateFileKey();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 * FILE_CHUNK_BYTES + 3 }), fc.integer(), (size, seed) => {
        const plain = data(size, seed);
        const { header, chunks } = encryptFile(key, plain);
        expect(equalBytes(decryptFile(key, header, chunks), plain)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('file stream - the ciphertext does not contain the plaintext', () => {
    const plain = new Uint8Array(1000).fill(0x41);
    const { chunks } = encryptFile(generateFileKey(), plain);
    const chunk = chunks[0] as Uint8Array;
    expect(chunk.filter((b) => b === 0x41).length).toBeLessThan(50);
  });

  it('file stream - two encryptions of one file under one key differ (fresh header)', () => {
    const key = generateFileKey();
    const a = encryptFile(key, data(100));
    const b = encryptFile(key, data(100));
    expect(equalBytes(a.header, b.header)).toBe(false);
    expect(equalBytes(a.chunks[0] as Uint8Array, b.chunks[0] as Uint8Array)).toBe(false);
  });

  it('file stream - the encryptor produces exactly what libsodium init_push would for its header', () => {
    // FileEncryptor starts the push state with init_pull on a header from random.ts; this pins
    // that it is the same state init_push makes.
    const s = sodium();
    const key = generateFileKey();
    const reference = s.crypto_secretstream_xchacha20poly1305_init_push(key.expose());
    const twin = s.crypto_secretstream_xchacha20poly1305_init_pull(reference.header, key.expose());
    for (const [i, tag] of [s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, s.crypto_secretstream_xchacha20poly1305_TAG_FINAL].entries()) {
      const chunk = data(3000, i + 1);
      const expected = s.crypto_secretstream_xchacha20poly1305_push(reference.state, chunk, null, tag);
      const actual = s.crypto_secretstream_xchacha20poly1305_push(twin, chunk, null, tag);
      expect(equalBytes(actual, expected)).toBe(true);
    }
    // And a stream from FileEncryptor decrypts with libsodium's own pull.
    const enc = new FileEncryptor(key);
    const c = enc.push(data(10), true);
    const pulled = s.crypto_secretstream_xchacha20poly1305_pull(s.crypto_secretstream_xchacha20poly1305_init_pull(enc.header, key.expose()), c, null);
    expect(pulled && equalBytes(pulled.message, data(10))).toBe(true);
    expect(pulled && pulled.tag).toBe(s.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  });

  describe('encryptor', () => {
    it('file stream - a chunk larger than FILE_CHUNK_BYTES fails with TOO_LARGE', () => {
      const enc = new FileEncryptor(generateFileKey());
      expect(codeOf(() => enc.push(new Uint8Array(FILE_CHUNK_BYTES + 1), false))).toBe('TOO_LARGE');
      // A full-size chunk is fine.
      expect(enc.push(new Uint8Array(FILE_CHUNK_BYTES), false)).toHaveLength(FILE_CHUNK_BYTES + FILE_CHUNK_OVERHEAD_BYTES);
    });

    it('file stream - a push after the final chunk is refused', () => {
      const enc = new FileEncryptor(generateFileKey());
      enc.push(data(10), true);
      expect(codeOf(() => enc.push(data(10), false))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => enc.push(data(10), true))).toBe('STREAM_CORRUPT');
    });
  });

  describe('decryptor', () => {
    let key: FileKey;
    let header: Uint8Array;
    let chunks: Uint8Array[];
    const plain = data(THREE_CHUNKS, 99);

    beforeAll(() => {
      key = generateFileKey();
      ({ header, chunks } = encryptFile(key, plain));
      expect(chunks).toHaveLength(3);
    });

    it('file stream - chunks pulled one by one give the file back and finish cleanly', () => {
      const dec = new FileDecryptor(key, header);
      const parts = chunks.map((c) => {
        expect(dec.finished).toBe(false);
        return dec.pull(c);
      });
      expect(dec.finished).toBe(true);
      expect(() => dec.finish()).not.toThrow();
      expect(parts.map((p) => p.length)).toEqual([FILE_CHUNK_BYTES, FILE_CHUNK_BYTES, 1000]);
      expect(equalBytes(parts[1] as Uint8Array, plain.subarray(FILE_CHUNK_BYTES, 2 * FILE_CHUNK_BYTES))).toBe(true);
    });

    it('file stream - a stream missing its last chunk fails with STREAM_TRUNCATED', () => {
      expect(codeOf(() => decryptFile(key, header, chunks.slice(0, 2)))).toBe('STREAM_TRUNCATED');
      expect(codeOf(() => decryptFile(key, header, []))).toBe('STREAM_TRUNCATED');
      const dec = new FileDecryptor(key, header);
      dec.pull(chunks[0] as Uint8Array);
      expect(dec.finished).toBe(false);
      expect(codeOf(() => dec.finish())).toBe('STREAM_TRUNCATED');
    });

    it('file stream - reordered chunks fail with STREAM_CORRUPT', () => {
      const [a, b, c] = chunks as [Uint8Array, Uint8Array, Uint8Array];
      expect(codeOf(() => decryptFile(key, header, [b, a, c]))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => decryptFile(key, header, [a, c, b]))).toBe('STREAM_CORRUPT');
      // The final chunk moved up cannot end the stream early either.
      expect(codeOf(() => decryptFile(key, header, [c]))).toBe('STREAM_CORRUPT');
    });

    it('file stream - a duplicated chunk fails with STREAM_CORRUPT', () => {
      const [a, b, c] = chunks as [Uint8Array, Uint8Array, Uint8Array];
      expect(codeOf(() => decryptFile(key, header, [a, a, b, c]))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => decryptFile(key, header, [a, b, b, c]))).toBe('STREAM_CORRUPT');
    });

    it('file stream - any altered byte of any chunk fails with STREAM_CORRUPT (property)', () => {
      fc.assert(
        fc.property(fc.nat(2), fc.nat(), fc.integer({ min: 1, max: 255 }), (which, at, mask) => {
          const altered = chunks.map((c) => c.slice());
          const target = altered[which] as Uint8Array;
          const i = at % target.length;
          target[i] = (target[i] as number) ^ mask;
          expect(codeOf(() => decryptFile(key, header, altered))).toBe('STREAM_CORRUPT');
        }),
        { numRuns: 200 },
      );
    });

    it('file stream - an altered header makes the first chunk fail with STREAM_CORRUPT', () => {
      const altered = header.slice();
      altered[FILE_HEADER_BYTES - 1] = (altered[FILE_HEADER_BYTES - 1] as number) ^ 0x80;
      expect(codeOf(() => decryptFile(key, altered, chunks))).toBe('STREAM_CORRUPT');
    });

    it('file stream - a truncated or extended chunk fails with STREAM_CORRUPT', () => {
      const [a, b, c] = chunks as [Uint8Array, Uint8Array, Uint8Array];
      expect(codeOf(() => decryptFile(key, header, [a, b, c.subarray(0, c.length - 1)]))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => decryptFile(key, header, [a, b, c.subarray(0, FILE_CHUNK_OVERHEAD_BYTES - 1)]))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => decryptFile(key, header, [new Uint8Array(0)]))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => decryptFile(key, header, [new Uint8Array([...a, 0]), b, c]))).toBe('STREAM_CORRUPT');
    });

    it('file stream - a wrong key fails with STREAM_CORRUPT', () => {
      expect(codeOf(() => decryptFile(generateFileKey(), header, chunks))).toBe('STREAM_CORRUPT');
    });

    it('file stream - a chunk from another stream under the same key fails with STREAM_CORRUPT', () => {
      const other = encryptFile(key, plain);
      const [a, b] = chunks as [Uint8Array, Uint8Array];
      expect(codeOf(() => decryptFile(key, header, [a, b, other.chunks[2] as Uint8Array]))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => decryptFile(key, other.header, chunks))).toBe('STREAM_CORRUPT');
    });

    it('file stream - anything after the final chunk fails with STREAM_CORRUPT', () => {
      const dec = new FileDecryptor(key, header);
      for (const c of chunks) dec.pull(c);
      expect(codeOf(() => dec.pull(chunks[2] as Uint8Array))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => dec.pull(new Uint8Array(FILE_CHUNK_OVERHEAD_BYTES)))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => decryptFile(key, header, [...chunks, chunks[0] as Uint8Array]))).toBe('STREAM_CORRUPT');
      // A genuine continuation pushed after the final tag with libsodium directly is refused too.
      const s = sodium();
      const state = s.crypto_secretstream_xchacha20poly1305_init_pull(header, key.expose());
      const real = chunks.map((c) => {
        const r = s.crypto_secretstream_xchacha20poly1305_pull(state, c, null);
        expect(r).not.toBe(false);
        return r;
      });
      expect(real).toHaveLength(3);
      const extra = s.crypto_secretstream_xchacha20poly1305_push(state, data(5), null, s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
      expect(codeOf(() => decryptFile(key, header, [...chunks, extra]))).toBe('STREAM_CORRUPT');
    });

    it('file stream - a failed chunk leaves the decryptor where it was', () => {
      const dec = new FileDecryptor(key, header);
      dec.pull(chunks[0] as Uint8Array);
      expect(codeOf(() => dec.pull(chunks[0] as Uint8Array))).toBe('STREAM_CORRUPT');
      // The genuine next chunk still decrypts, so no chunk was skipped.
      expect(equalBytes(dec.pull(chunks[1] as Uint8Array), plain.subarray(FILE_CHUNK_BYTES, 2 * FILE_CHUNK_BYTES))).toBe(true);
    });

    it('file stream - an authentic chunk with a tag FileEncryptor never writes fails with STREAM_CORRUPT, and so does the rest', () => {
      const s = sodium();
      const state = s.crypto_secretstream_xchacha20poly1305_init_pull(header, key.expose());
      const rekey = s.crypto_secretstream_xchacha20poly1305_push(state, data(5), null, s.crypto_secretstream_xchacha20poly1305_TAG_REKEY);
      const final = s.crypto_secretstream_xchacha20poly1305_push(state, data(5), null, s.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
      const dec = new FileDecryptor(key, header);
      expect(codeOf(() => dec.pull(rekey))).toBe('STREAM_CORRUPT');
      expect(codeOf(() => dec.pull(final))).toBe('STREAM_CORRUPT');
      expect(dec.finished).toBe(false);
    });

    it('file stream - a header of the wrong length fails with MALFORMED', () => {
      for (const length of [0, FILE_HEADER_BYTES - 1, FILE_HEADER_BYTES + 1]) {
        expect(codeOf(() => new FileDecryptor(key, new Uint8Array(length)))).toBe('MALFORMED');
      }
    });
  });
});
