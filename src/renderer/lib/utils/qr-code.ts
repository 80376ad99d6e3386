/**
 * A QR code encoder (ISO/IEC 18004, Model 2), small enough to read in one sitting: byte mode,
 * error correction level M (15 % of codewords recoverable: a phone camera copes with a glossy
 * screen), versions 1–40, mask chosen by the standard's penalty rules. It serves the two QR
 * codes Parley shows (an invite link, a safety number payload); nothing is scanned here.
 *
 * @example
 * ```ts
 * const qr = encodeQr('parley://invite/…');
 * qr.size;            // modules per side (21 for version 1, +4 per version)
 * qr.isDark(x, y);    // module at column x, row y
 * ```
 */

export interface QrCode {
  readonly version: number;
  readonly size: number;
  readonly mask: number;
  isDark(x: number, y: number): boolean;
}

/** ECC level M, per version (index 0 unused): codewords of error correction per block. */
const ECC_PER_BLOCK_M = [
  -1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 28, 28, 28, 28,
];
/** ECC level M, per version: number of blocks the codewords are split into. */
const BLOCKS_M = [
  -1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38,
  40, 43, 45, 47, 49,
];
/** Format information: level M is encoded as 0b00. */
const ECC_FORMAT_BITS_M = 0;
const MODE_BYTE = 0b0100;

/** Multiplication in GF(2^8) modulo the QR polynomial x^8 + x^4 + x^3 + x^2 + 1. */
function gfMultiply(a: number, b: number): number {
  let product = 0;
  for (let i = 7; i >= 0; i--) {
    product = (product << 1) ^ ((product >>> 7) * 0x11d);
    product ^= ((b >>> i) & 1) * a;
  }
  return product & 0xff;
}

/** Generator polynomial of the given degree, highest coefficient first, leading 1 omitted. */
function rsGenerator(degree: number): number[] {
  const coefficients = new Array<number>(degree).fill(0);
  coefficients[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      coefficients[j] = gfMultiply(coefficients[j]!, root) ^ (j + 1 < degree ? coefficients[j + 1]! : 0);
    }
    root = gfMultiply(root, 0x02);
  }
  return coefficients;
}

/** Reed–Solomon error correction codewords of `data` (the remainder of the division). */
export function reedSolomon(data: readonly number[], degree: number): number[] {
  const generator = rsGenerator(degree);
  const remainder = new Array<number>(degree).fill(0);
  for (const byte of data) {
    const factor = byte ^ remainder.shift()!;
    remainder.push(0);
    for (let i = 0; i < degree; i++) remainder[i] = remainder[i]! ^ gfMultiply(generator[i]!, factor);
  }
  return remainder;
}

/** Modules available for data and ECC in a version (everything but the function patterns). */
function rawDataModules(version: number): number {
  let modules = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const alignments = Math.floor(version / 7) + 2;
    modules -= (25 * alignments - 10) * alignments - 55;
    if (version >= 7) modules -= 36;
  }
  return modules;
}

function dataCodewords(version: number): number {
  return Math.floor(rawDataModules(version) / 8) - ECC_PER_BLOCK_M[version]! * BLOCKS_M[version]!;
}

function alignmentPositions(version: number): number[] {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const size = version * 4 + 17;
  const step = version === 32 ? 26 : Math.ceil((version * 4 + 4) / (count * 2 - 2)) * 2;
  const positions = [6];
  for (let pos = size - 7; positions.length < count; pos -= step) positions.splice(1, 0, pos);
  return positions;
}

/** The data bit stream: mode, length, bytes, terminator, padding to the version's capacity. */
function encodeData(bytes: Uint8Array, version: number): number[] {
  const bits: number[] = [];
  const push = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  push(MODE_BYTE, 4);
  push(bytes.length, version <= 9 ? 8 : 16);
  for (const b of bytes) push(b, 8);
  const capacityBits = dataCodewords(version) * 8;
  push(0, Math.min(4, capacityBits - bits.length));
  push(0, (8 - (bits.length % 8)) % 8);
  for (let pad = 0xec; bits.length < capacityBits; pad ^= 0xec ^ 0x11) push(pad, 8);
  const codewords: number[] = [];
  for (let i = 0; i < bits.length; i += 8) codewords.push(bits.slice(i, i + 8).reduce((acc, bit) => (acc << 1) | bit, 0));
  return codewords;
}

/** Splits data into blocks, appends each block's ECC and interleaves them (ISO 18004 §7.6). */
function interleave(data: readonly number[], version: number): number[] {
  const blocks = BLOCKS_M[version]!;
  const eccLength = ECC_PER_BLOCK_M[version]!;
  const raw = Math.floor(rawDataModules(version) / 8);
  const shortBlocks = blocks - (raw % blocks);
  const shortLength = Math.floor(raw / blocks);
  const all: number[][] = [];
  for (let i = 0, offset = 0; i < blocks; i++) {
    const length = shortLength - eccLength + (i < shortBlocks ? 0 : 1);
    const chunk = data.slice(offset, offset + length);
    offset += length;
    all.push([...chunk, ...(i < shortBlocks ? [-1] : []), ...reedSolomon(chunk, eccLength)]);
  }
  const out: number[] = [];
  for (let i = 0; i < shortLength + 1; i++) for (const block of all) if (block[i] !== -1 && block[i] !== undefined) out.push(block[i]!);
  return out;
}

const MASKS: readonly ((x: number, y: number) => boolean)[] = [
  (x, y) => (x + y) % 2 === 0,
  (_x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

class Grid {
  readonly dark: Uint8Array;
  readonly reserved: Uint8Array;
  constructor(readonly size: number) {
    this.dark = new Uint8Array(size * size);
    this.reserved = new Uint8Array(size * size);
  }
  set(x: number, y: number, dark: boolean): void {
    this.dark[y * this.size + x] = dark ? 1 : 0;
    this.reserved[y * this.size + x] = 1;
  }
  get(x: number, y: number): boolean {
    return this.dark[y * this.size + x] === 1;
  }
}

function drawFunctionPatterns(grid: Grid, version: number): void {
  const { size } = grid;
  for (let i = 0; i < size; i++) {
    grid.set(6, i, i % 2 === 0);
    grid.set(i, 6, i % 2 === 0);
  }
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const ring = Math.max(Math.abs(dx), Math.abs(dy));
        grid.set(x, y, ring !== 2 && ring !== 4);
      }
    }
  }
  const positions = alignmentPositions(version);
  const last = positions.length - 1;
  positions.forEach((cx, i) =>
    positions.forEach((cy, j) => {
      // Skip the three that would overlap a finder pattern.
      if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) grid.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }),
  );
  drawFormat(grid, 0);
  if (version >= 7) {
    let remainder = version;
    for (let i = 0; i < 12; i++) remainder = (remainder << 1) ^ ((remainder >>> 11) * 0x1f25);
    const bits = (version << 12) | remainder;
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      grid.set(a, b, dark);
      grid.set(b, a, dark);
    }
  }
}

/** The 15 format bits (level and mask, BCH protected) in both of their places. */
function drawFormat(grid: Grid, mask: number): void {
  const { size } = grid;
  const data = (ECC_FORMAT_BITS_M << 3) | mask;
  let remainder = data;
  for (let i = 0; i < 10; i++) remainder = (remainder << 1) ^ ((remainder >>> 9) * 0x537);
  const bits = ((data << 10) | remainder) ^ 0x5412;
  const bit = (i: number) => ((bits >>> i) & 1) === 1;
  for (let i = 0; i <= 5; i++) grid.set(8, i, bit(i));
  grid.set(8, 7, bit(6));
  grid.set(8, 8, bit(7));
  grid.set(7, 8, bit(8));
  for (let i = 9; i < 15; i++) grid.set(14 - i, 8, bit(i));
  for (let i = 0; i < 8; i++) grid.set(size - 1 - i, 8, bit(i));
  for (let i = 8; i < 15; i++) grid.set(8, size - 15 + i, bit(i));
  grid.set(8, size - 8, true);
}

/** Places codewords in the two-column zigzag from the bottom right, skipping function modules. */
function drawCodewords(grid: Grid, codewords: readonly number[]): void {
  const { size } = grid;
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let step = 0; step < size; step++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const upward = ((right + 1) & 2) === 0;
        const y = upward ? size - 1 - step : step;
        if (grid.reserved[y * size + x] || i >= codewords.length * 8) continue;
        grid.dark[y * size + x] = (codewords[i >>> 3]! >>> (7 - (i & 7))) & 1;
        i++;
      }
    }
  }
}

function applyMask(grid: Grid, mask: number): void {
  const test = MASKS[mask]!;
  for (let y = 0; y < grid.size; y++) {
    for (let x = 0; x < grid.size; x++) {
      const i = y * grid.size + x;
      if (!grid.reserved[i] && test(x, y)) grid.dark[i] = grid.dark[i]! ^ 1;
    }
  }
}

/** The standard's penalty score: long runs, 2×2 blocks, finder look-alikes, dark/light balance. */
function penalty(grid: Grid): number {
  const { size } = grid;
  let score = 0;
  const finderLike = [1, 0, 1, 1, 1, 0, 1];
  for (let pass = 0; pass < 2; pass++) {
    for (let a = 0; a < size; a++) {
      let run = 0;
      let previous = false;
      const line: number[] = [];
      for (let b = 0; b < size; b++) {
        const dark = pass === 0 ? grid.get(b, a) : grid.get(a, b);
        line.push(dark ? 1 : 0);
        if (b > 0 && dark === previous) run++;
        else {
          if (run >= 5) score += run - 2;
          run = 1;
        }
        previous = dark;
      }
      if (run >= 5) score += run - 2;
      for (let b = 0; b + 7 <= size; b++) {
        if (!finderLike.every((v, k) => line[b + k] === v)) continue;
        const lightBefore = line.slice(Math.max(0, b - 4), b).every((v) => v === 0) && b >= 4;
        const lightAfter = line.slice(b + 7, b + 11).every((v) => v === 0) && b + 11 <= size;
        if (lightBefore || lightAfter) score += 40;
      }
    }
  }
  let dark = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (grid.get(x, y)) dark++;
      if (x + 1 < size && y + 1 < size) {
        const c = grid.get(x, y);
        if (c === grid.get(x + 1, y) && c === grid.get(x, y + 1) && c === grid.get(x + 1, y + 1)) score += 3;
      }
    }
  }
  const total = size * size;
  score += Math.floor(Math.abs(dark * 20 - total * 10) / total) * 10;
  return score;
}

/** Encodes `text` (UTF-8, byte mode). Throws RangeError past version 40's capacity (2,331 bytes). */
export function encodeQr(text: string): QrCode {
  const bytes = new TextEncoder().encode(text);
  let version = 1;
  while (version <= 40 && 4 + (version <= 9 ? 8 : 16) + bytes.length * 8 > dataCodewords(version) * 8) version++;
  if (version > 40) throw new RangeError('text too long for a QR code');
  const codewords = interleave(encodeData(bytes, version), version);
  const size = version * 4 + 17;
  let best: { grid: Grid; mask: number; score: number } | undefined;
  for (let mask = 0; mask < 8; mask++) {
    const grid = new Grid(size);
    drawFunctionPatterns(grid, version);
    drawCodewords(grid, codewords);
    applyMask(grid, mask);
    drawFormat(grid, mask);
    const score = penalty(grid);
    if (!best || score < best.score) best = { grid, mask, score };
  }
  const { grid, mask } = best!;
  return { version, size, mask, isDark: (x, y) => grid.get(x, y) };
}

/** An SVG path of the dark modules, one rectangle per horizontal run, offset by `margin`. */
export function qrSvgPath(qr: QrCode, margin: number): string {
  let d = '';
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; ) {
      if (!qr.isDark(x, y)) {
        x++;
        continue;
      }
      let end = x;
      while (end < qr.size && qr.isDark(end, y)) end++;
      d += `M${x + margin} ${y + margin}h${end - x}v1h${x - end}z`;
      x = end;
    }
  }
  return d;
}
