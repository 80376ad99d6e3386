import { describe, expect, it } from 'vitest';
import { encodeQr, qrSvgPath, reedSolomon } from './qr-code';

describe('qr code', () => {
  it('computes Reed–Solomon codewords of the standard’s worked example (HELLO WORLD, 1-M)', () => {
    const data = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17];
    expect(reedSolomon(data, 10)).toEqual([196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
  });

  it('picks the smallest version that fits', () => {
    expect(encodeQr('hello').version).toBe(1);
    expect(encodeQr('hello').size).toBe(21);
    // Version 1-M holds 14 bytes, version 2-M 26.
    expect(encodeQr('a'.repeat(14)).version).toBe(1);
    expect(encodeQr('a'.repeat(15)).version).toBe(2);
    // An invite link of ~600 characters needs version 17-M or so.
    const invite = encodeQr(`parley://invite/${'A'.repeat(600)}`);
    expect(invite.version).toBeGreaterThanOrEqual(15);
    expect(invite.version).toBeLessThanOrEqual(20);
  });

  it('draws the three finder patterns with their separators', () => {
    const qr = encodeQr('parley');
    const s = qr.size;
    for (const [ox, oy] of [[0, 0], [s - 7, 0], [0, s - 7]] as const) {
      expect(qr.isDark(ox, oy)).toBe(true);
      expect(qr.isDark(ox + 1, oy + 1)).toBe(false);
      expect(qr.isDark(ox + 3, oy + 3)).toBe(true);
      expect(qr.isDark(ox + 6, oy + 6)).toBe(true);
    }
    expect(qr.isDark(7, 7)).toBe(false);
    expect(qr.isDark(8, s - 8)).toBe(true); // the dark module
  });

  it('writes format information that decodes to level M and the chosen mask', () => {
    const qr = encodeQr('safety number payload');
    let bits = 0;
    const read = [[8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [8, 5], [8, 7], [8, 8], [7, 8], [5, 8], [4, 8], [3, 8], [2, 8], [1, 8], [0, 8]];
    read.forEach(([x, y], i) => (bits |= (qr.isDark(x!, y!) ? 1 : 0) << i));
    const unmasked = bits ^ 0x5412;
    expect(unmasked >>> 13).toBe(0); // level M
    expect((unmasked >>> 10) & 7).toBe(qr.mask);
  });

  it('refuses text beyond the largest version', () => {
    expect(() => encodeQr('x'.repeat(3000))).toThrow(RangeError);
  });

  it('builds one path rectangle per dark run', () => {
    const qr = encodeQr('x');
    const path = qrSvgPath(qr, 4);
    expect(path.startsWith('M4 4h7v1h-7z')).toBe(true);
  });
});
