/**
 * Checks at the store's boundary, before any SQL runs, and typed readers for rows coming back.
 * A failed check is StoreError INVALID_INPUT naming the field, never its value.
 */
import { StoreError } from './errors';
import type { Row } from './database';

const encoder = new TextEncoder();
/** With the u flag a valid surrogate pair is one code point, so only lone halves match. */
const LONE_SURROGATE = /\p{Cs}/u;

export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** A non-negative integer millisecond timestamp or counter. */
export function checkTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new StoreError('INVALID_INPUT', field);
  return value;
}

export function checkId(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new StoreError('INVALID_INPUT', field);
  return value;
}

export function checkIntRange(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new StoreError('INVALID_INPUT', field);
  }
  return value;
}

export function checkBytes(value: unknown, field: string, min: number, max: number = min): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length < min || value.length > max) throw new StoreError('INVALID_INPUT', field);
  return value;
}

/** A string of at most `maxBytes` UTF-8 bytes, with no lone surrogates (they would not round-trip). */
export function checkText(value: unknown, field: string, maxBytes: number, allowEmpty = true): string {
  if (typeof value !== 'string') throw new StoreError('INVALID_INPUT', field);
  if (!allowEmpty && value.length === 0) throw new StoreError('INVALID_INPUT', field);
  // Cheap bound first: UTF-8 never takes fewer bytes than UTF-16 code units, so an overlong
  // string is refused before it is encoded.
  if (value.length > maxBytes || utf8Length(value) > maxBytes) throw new StoreError('INVALID_INPUT', field);
  if (LONE_SURROGATE.test(value)) throw new StoreError('INVALID_INPUT', field);
  return value;
}

export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw new StoreError('INVALID_INPUT', field);
  return value as T;
}

export function checkBool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new StoreError('INVALID_INPUT', field);
  return value;
}

export function checkLimit(value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  return checkIntRange(value, 1, max, 'limit');
}

// ---------------------------------------------------------------------------------------------
// Row readers: a column of the wrong type means the file was altered (no page MAC) or a bug.
// ---------------------------------------------------------------------------------------------

function corrupt(column: string): StoreError {
  return new StoreError('CORRUPT', `column ${column}`);
}

export function int(row: Row, column: string): number {
  const v = row[column];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw corrupt(column);
  return v;
}

export function optInt(row: Row, column: string): number | undefined {
  return row[column] === null ? undefined : int(row, column);
}

export function text(row: Row, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw corrupt(column);
  return v;
}

export function optText(row: Row, column: string): string | undefined {
  return row[column] === null ? undefined : text(row, column);
}

/**
 * BLOB columns come back as Buffers from `get()` but as ArrayBuffers from `all()` (libsql 0.5);
 * either way, hand out a plain Uint8Array over the same memory.
 */
export function bytes(row: Row, column: string): Uint8Array {
  const v = row[column];
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw corrupt(column);
}

export function optBytes(row: Row, column: string): Uint8Array | undefined {
  return row[column] === null ? undefined : bytes(row, column);
}

export function bool(row: Row, column: string): boolean {
  return int(row, column) !== 0;
}

export function oneOf<T extends string>(row: Row, column: string, allowed: readonly T[]): T {
  const v = text(row, column);
  if (!(allowed as readonly string[]).includes(v)) throw corrupt(column);
  return v as T;
}
