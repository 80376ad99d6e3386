/**
 * The key file format and its atomic replacement.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_KEY_FILE_BYTES } from './constants';
import { isStoreError } from './errors';
import { writeFileAtomic } from './files';
import { decodeKeyFile, encodeKeyFile, readKeyFile, writeKeyFile } from './keyfile';
import { makeTempDir, removeTempDir } from './store.test-util';

let dir: string;
beforeEach(() => {
  dir = makeTempDir();
});
afterEach(() => removeTempDir(dir));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isStoreError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('key file', () => {
  it('keyfile - round-trips the wrapper kind and the wrapped bytes', () => {
    const wrapped = Uint8Array.from({ length: 98 }, (_, i) => i);
    for (const kind of ['passphrase', 'keychain'] as const) {
      expect(decodeKeyFile(encodeKeyFile({ kind, wrapped }))).toEqual({ kind, wrapped });
    }
  });

  it('keyfile - refuses what is not a key file: CORRUPT, or UNSUPPORTED_VERSION when written by a newer build', () => {
    const good = encodeKeyFile({ kind: 'passphrase', wrapped: new Uint8Array(98) });
    const edit = (i: number, v: number) => good.map((b, j) => (j === i ? v : b));
    expect(codeOf(() => decodeKeyFile(new Uint8Array(0)))).toBe('CORRUPT');
    expect(codeOf(() => decodeKeyFile(good.subarray(0, 6)))).toBe('CORRUPT'); // header only
    expect(codeOf(() => decodeKeyFile(edit(0, 0x58)))).toBe('CORRUPT'); // magic
    expect(codeOf(() => decodeKeyFile(edit(4, 0)))).toBe('CORRUPT'); // version 0
    expect(codeOf(() => decodeKeyFile(edit(4, 2)))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(() => decodeKeyFile(edit(5, 9)))).toBe('UNSUPPORTED_VERSION'); // unknown wrapper
    expect(codeOf(() => decodeKeyFile(new Uint8Array(MAX_KEY_FILE_BYTES + 1)))).toBe('CORRUPT');
  });

  it('keyfile - an oversized file is refused without being read whole; a missing one is undefined', () => {
    const file = path.join(dir, 'keyfile');
    expect(readKeyFile(file)).toBeUndefined();
    fs.writeFileSync(file, Buffer.alloc(10 * 1024 * 1024));
    expect(codeOf(() => readKeyFile(file))).toBe('CORRUPT');
  });

  it('keyfile - replaced atomically, owner-only, with no temporary file left', () => {
    const file = path.join(dir, 'keyfile');
    writeKeyFile(file, { kind: 'passphrase', wrapped: Uint8Array.of(1) });
    writeKeyFile(file, { kind: 'keychain', wrapped: Uint8Array.of(2, 3) });
    expect(readKeyFile(file)).toEqual({ kind: 'keychain', wrapped: Uint8Array.of(2, 3) });
    expect(fs.readdirSync(dir)).toEqual(['keyfile']);
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('keyfile - a failed replacement leaves the old file intact and no temporary behind', () => {
    const file = path.join(dir, 'keyfile');
    writeKeyFile(file, { kind: 'passphrase', wrapped: Uint8Array.of(7) });
    // Renaming over a directory fails: the old content must survive.
    const target = path.join(dir, 'is-a-dir');
    fs.mkdirSync(path.join(target, 'child'), { recursive: true });
    expect(codeOf(() => writeFileAtomic(target, Uint8Array.of(1)))).toBe('IO');
    expect(readKeyFile(file)).toEqual({ kind: 'passphrase', wrapped: Uint8Array.of(7) });
    expect(fs.readdirSync(dir).sort()).toEqual(['is-a-dir', 'keyfile']);
  });
});
