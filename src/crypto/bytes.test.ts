import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ByteReader, ByteWriter, compareBytes, concatBytes, equalBytes, fromHex, fromUtf8, toHex, utf8 } from './bytes';
import { isCryptoError } from './errors';
import { initCrypto } from './sodium';

beforeAll(async () => {
  await initCrypto();
});

afterEach(() => {
  vi.restoreAllMocks();
});

function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isCryptoError(error) ? error.code : `non-CryptoError ${String(error)}`;
  }
  return undefined;
}

/** One field of a wire format, as the writer writes it and the reader reads it back. */
type Field =
  | { type: 'u8' | 'u16' | 'u32' | 'u64'; value: number }
  | { type: 'raw'; value: Uint8Array }
  | { type: 'bytes'; value: Uint8Array };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ type: fc.constant('u8' as const), value: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ type: fc.constant('u16' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ type: fc.constant('u32' as const), value: fc.integer({ min: 0, max: 0xffff_ffff }) }),
  fc.record({ type: fc.constant('u64' as const), value: fc.maxSafeNat() }),
  fc.record({ type: fc.constant('raw' as const), value: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ type: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 40 }) }),
);

function write(fields: readonly Field[], initialCapacity?: number): Uint8Array {
  const w = new ByteWriter(initialCapacity);
  for (const f of fields) {
    if (f.type === 'raw' || f.type === 'bytes') w[f.type](f.value);
    else w[f.type](f.value);
  }
  return w.finish();
}

function read(r: ByteReader, f: Field): number | Uint8Array {
  switch (f.type) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'u64':
      return r[f.type]();
    case 'raw':
      return r.raw(f.value.length);
    case 'bytes':
      return r.bytes(f.value.length);
  }
}

function readAll(bytes: Uint8Array, fields: readonly Field[]): (number | Uint8Array)[] {
  const r = new ByteReader(bytes);
  const values = fields.map((f) => read(r, f));
  r.end();
  return values;
}

describe('ByteWriter and ByteReader', () => {
  it('bytes - writes big-endian integers and u32-length-prefixed strings', () => {
    const out = new ByteWriter()
      .u8(0xab)
      .u16(0x0102)
      .u32(0x03040506)
      .u64(2 ** 53 - 1)
      .bytes(Uint8Array.of(9, 8))
      .raw(Uint8Array.of(7))
      .finish();
    expect(toHex(out)).toBe('ab' + '0102' + '03040506' + '001fffffffffffff' + '00000002' + '0908' + '07');
  });

  it('bytes - any sequence of fields round-trips, from any initial capacity', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 20 }), fc.integer({ min: 0, max: 64 }), (fields, capacity) => {
        const encoded = write(fields, capacity);
        expect(readAll(encoded, fields)).toEqual(fields.map((f) => f.value));
        expect(write(fields)).toEqual(encoded);
      }),
      { numRuns: 300 },
    );
  });

  it('bytes - reads from a subarray view at a non-zero offset', () => {
    const backing = Uint8Array.of(0xee, 0xee, 0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0x55, 0xee);
    const r = new ByteReader(backing.subarray(2, 9));
    expect(r.u16()).toBe(0x1234);
    expect(r.bytes(1)).toEqual(Uint8Array.of(0x55));
    r.end();
  });

  it('bytes - raw() and rest() return copies, not views of the input', () => {
    const input = Uint8Array.of(1, 2, 3, 4);
    const r = new ByteReader(input);
    const head = r.raw(2);
    const tail = r.rest();
    input.fill(0);
    expect(head).toEqual(Uint8Array.of(1, 2));
    expect(tail).toEqual(Uint8Array.of(3, 4));
    expect(r.remaining).toBe(0);
  });

  it('bytes - every truncation of a valid encoding throws MALFORMED', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 10 }), (fields) => {
        const encoded = write(fields);
        for (let length = 0; length < encoded.length; length++) {
          expect(thrownCode(() => readAll(encoded.subarray(0, length), fields)), `prefix of ${length} bytes`).toBe('MALFORMED');
        }
      }),
      { numRuns: 100 },
    );
  });

  it('bytes - trailing bytes after the last field throw MALFORMED at end()', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 10 }), fc.uint8Array({ minLength: 1, maxLength: 8 }), (fields, extra) => {
        const encoded = concatBytes(write(fields), extra);
        expect(thrownCode(() => readAll(encoded, fields))).toBe('MALFORMED');
      }),
      { numRuns: 100 },
    );
  });

  it('bytes - each fixed-width read throws MALFORMED when one byte short', () => {
    expect(thrownCode(() => new ByteReader(new Uint8Array(0)).u8())).toBe('MALFORMED');
    expect(thrownCode(() => new ByteReader(new Uint8Array(1)).u16())).toBe('MALFORMED');
    expect(thrownCode(() => new ByteReader(new Uint8Array(3)).u32())).toBe('MALFORMED');
    expect(thrownCode(() => new ByteReader(new Uint8Array(7)).u64())).toBe('MALFORMED');
    expect(thrownCode(() => new ByteReader(new Uint8Array(4)).raw(5))).toBe('MALFORMED');
  });

  it('bytes - a length prefix above the maximum throws MALFORMED before the field is copied', () => {
    // The whole 10-byte field is present, so only the maximum can be the reason to refuse it.
    const encoded = new ByteWriter().bytes(new Uint8Array(10).fill(1)).finish();
    const slice = vi.spyOn(Uint8Array.prototype, 'slice');
    const r = new ByteReader(encoded);
    expect(thrownCode(() => r.bytes(9))).toBe('MALFORMED');
    expect(slice).not.toHaveBeenCalled();
    expect(r.remaining).toBe(10); // only the prefix was consumed
    vi.restoreAllMocks();
    expect(new ByteReader(encoded).bytes(10)).toEqual(new Uint8Array(10).fill(1));
  });

  it('bytes - a huge length prefix on a short input throws MALFORMED, never a RangeError from allocation', () => {
    const encoded = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3);
    expect(thrownCode(() => new ByteReader(encoded).bytes(0xffff_ffff))).toBe('MALFORMED');
    expect(thrownCode(() => new ByteReader(encoded).bytes(16))).toBe('MALFORMED');
  });
});

describe('u64 bounds', () => {
  it('bytes - u64 round-trips 0 and 2^53 - 1', () => {
    for (const value of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      expect(new ByteReader(new ByteWriter().u64(value).finish()).u64(), String(value)).toBe(value);
    }
  });

  it('bytes - the writer refuses a u64 that is negative, fractional, NaN or 2^53 and above', () => {
    for (const value of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 2 ** 64]) {
      expect(() => new ByteWriter().u64(value), String(value)).toThrow(RangeError);
    }
  });

  it('bytes - the reader refuses an encoded u64 of 2^53 and above with MALFORMED', () => {
    for (const hex of ['0020000000000000', '0020000000000001', '8000000000000000', 'ffffffffffffffff']) {
      expect(thrownCode(() => new ByteReader(fromHex(hex)).u64()), hex).toBe('MALFORMED');
    }
    expect(new ByteReader(fromHex('001fffffffffffff')).u64()).toBe(2 ** 53 - 1);
  });
});

describe('byte helpers', () => {
  it('bytes - hex round-trips and refuses odd lengths and non-hex characters with MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(fromHex(toHex(bytes))).toEqual(bytes);
      }),
    );
    expect(fromHex('ABcd')).toEqual(Uint8Array.of(0xab, 0xcd));
    for (const bad of ['a', 'abc', 'zz', '0x00', 'a b ']) expect(thrownCode(() => fromHex(bad)), bad).toBe('MALFORMED');
  });

  it('bytes - UTF-8 round-trips and invalid UTF-8 throws MALFORMED', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(fromUtf8(utf8(text))).toBe(text);
      }),
    );
    expect(thrownCode(() => fromUtf8(Uint8Array.of(0xc3)))).toBe('MALFORMED');
    expect(thrownCode(() => fromUtf8(Uint8Array.of(0xff, 0xfe)))).toBe('MALFORMED');
  });

  it('bytes - equalBytes and compareBytes order and compare by content', () => {
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
    expect(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(2), Uint8Array.of(1, 9))).toBeGreaterThan(0);
    expect(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(0);
  });

  it('bytes - concatBytes joins parts in order into a fresh buffer', () => {
    const a = Uint8Array.of(1, 2);
    const joined = concatBytes(a, new Uint8Array(0), Uint8Array.of(3));
    a[0] = 9;
    expect(joined).toEqual(Uint8Array.of(1, 2, 3));
    expect(concatBytes()).toEqual(new Uint8Array(0));
  });
});

describe('bytes - integer bounds', () => {
  it('bytes - the writer refuses integers that do not fit their width instead of wrapping them', () => {
    expect(() => new ByteWriter().u8(256)).toThrow(RangeError);
    expect(() => new ByteWriter().u16(70_000)).toThrow(RangeError);
    expect(() => new ByteWriter().u32(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().u16(1.7)).toThrow(RangeError);
    expect(new ByteWriter().u32(0xffff_ffff).finish()).toEqual(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  });

  it('bytes - the reader refuses a negative or fractional length', () => {
    expect(() => new ByteReader(new Uint8Array(4)).raw(-1)).toThrow(RangeError);
    expect(() => new ByteReader(new Uint8Array(4)).raw(1.5)).toThrow(RangeError);
  });
});
