import { CryptoError } from './errors';
import { sodium } from './sodium';

/** Concatenates byte arrays into one fresh buffer. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Constant-time equality for secrets and tags (length is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sodium().memcmp(a, b);
}

/** Lexicographic comparison, for deterministic tie-breaks between public values. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new CryptoError('MALFORMED', 'hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CryptoError('MALFORMED', 'utf-8 text');
  }
}

function checkUint(value: number, bits: 8 | 16 | 32): void {
  // DataView silently wraps out-of-range values; a wrapped counter would be a wrong message.
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) throw new RangeError(`u${bits} out of range`);
}

/**
 * Append-only binary writer for the library's wire formats: fixed-width big-endian integers
 * and length-prefixed byte strings.
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#length + n));
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(value: number): this {
    checkUint(value, 8);
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
    return this;
  }

  u16(value: number): this {
    checkUint(value, 16);
    this.#reserve(2);
    this.#view.setUint16(this.#length, value);
    this.#length += 2;
    return this;
  }

  u32(value: number): this {
    checkUint(value, 32);
    this.#reserve(4);
    this.#view.setUint32(this.#length, value);
    this.#length += 4;
    return this;
  }

  /** A non-negative integer below 2^53 (timestamps in ms), as 8 bytes. */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('u64 out of range');
    this.u32(Math.floor(value / 2 ** 32));
    return this.u32(value >>> 0);
  }

  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  /** Length-prefixed (u32) byte string. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#length);
  }
}

/** Reader matching ByteWriter; every read is bounds-checked and fails with MALFORMED. */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#buf = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.#buf.length - this.#offset;
  }

  #need(n: number): void {
    if (n > this.remaining) throw new CryptoError('MALFORMED', 'truncated');
  }

  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#offset++);
  }

  u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#offset);
    this.#offset += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return v;
  }

  u64(): number {
    const high = this.u32();
    const low = this.u32();
    const value = high * 2 ** 32 + low;
    if (!Number.isSafeInteger(value)) throw new CryptoError('MALFORMED', 'integer out of range');
    return value;
  }

  /** Exactly `n` bytes, copied. */
  raw(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('raw length');
    this.#need(n);
    const out = this.#buf.slice(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }

  /** A u32-length-prefixed byte string of at most `max` bytes (checked before copying). */
  bytes(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) throw new CryptoError('MALFORMED', 'field too long');
    return this.raw(n);
  }

  /** The unread rest, copied. */
  rest(): Uint8Array {
    return this.raw(this.remaining);
  }

  /** Formats are exact: trailing bytes mean the input is not what it claims to be. */
  end(): void {
    if (this.remaining !== 0) throw new CryptoError('MALFORMED', 'trailing bytes');
  }
}
