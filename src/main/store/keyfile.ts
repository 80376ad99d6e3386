/**
 * The key file: the storage key as a KeyWrapper wrapped it, tagged with the wrapper's kind.
 *
 *   magic "PRLK" (4) │ format version u8 │ wrapper kind u8 │ wrapped key (the rest)
 *
 * The header is not authenticated here: the passphrase blob authenticates its own header, and
 * an edited kind byte only makes unlock ask for the wrong method. Nothing in this file is
 * secret without the passphrase or the keychain.
 */
import fs from 'node:fs';
import { KEY_FILE_MAGIC, KEY_FILE_VERSION, MAX_KEY_FILE_BYTES } from './constants';
import { StoreError } from './errors';
import { io, writeFileAtomic } from './files';
import { KEY_WRAPPER_IDS, type KeyWrapperKind } from './key-wrapper';

const HEADER_BYTES = KEY_FILE_MAGIC.length + 2;

export interface KeyFile {
  readonly kind: KeyWrapperKind;
  readonly wrapped: Uint8Array;
}

export function encodeKeyFile({ kind, wrapped }: KeyFile): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + wrapped.length);
  if (out.length > MAX_KEY_FILE_BYTES) throw new StoreError('INVALID_INPUT', 'wrapped key too large');
  out.set(KEY_FILE_MAGIC, 0);
  out[KEY_FILE_MAGIC.length] = KEY_FILE_VERSION;
  out[KEY_FILE_MAGIC.length + 1] = KEY_WRAPPER_IDS[kind];
  out.set(wrapped, HEADER_BYTES);
  return out;
}

export function decodeKeyFile(bytes: Uint8Array): KeyFile {
  if (bytes.length <= HEADER_BYTES || bytes.length > MAX_KEY_FILE_BYTES) throw new StoreError('CORRUPT', 'key file size');
  for (let i = 0; i < KEY_FILE_MAGIC.length; i++) {
    if (bytes[i] !== KEY_FILE_MAGIC[i]) throw new StoreError('CORRUPT', 'not a key file');
  }
  const version = bytes[KEY_FILE_MAGIC.length];
  if (version !== KEY_FILE_VERSION) {
    throw (version ?? 0) > KEY_FILE_VERSION
      ? new StoreError('UNSUPPORTED_VERSION', 'key file')
      : new StoreError('CORRUPT', 'key file version');
  }
  const id = bytes[KEY_FILE_MAGIC.length + 1];
  const kind = (Object.keys(KEY_WRAPPER_IDS) as KeyWrapperKind[]).find((k) => KEY_WRAPPER_IDS[k] === id);
  if (!kind) throw new StoreError('UNSUPPORTED_VERSION', 'key wrapper');
  return { kind, wrapped: bytes.slice(HEADER_BYTES) };
}

/** Reads and parses the key file; undefined when there is none. The size is checked before reading. */
export function readKeyFile(file: string): KeyFile | undefined {
  const bytes = io(() => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size > MAX_KEY_FILE_BYTES) throw new StoreError('CORRUPT', 'key file size');
      const buf = new Uint8Array(size);
      let offset = 0;
      while (offset < size) {
        const n = fs.readSync(fd, buf, offset, size - offset, offset);
        if (n === 0) break;
        offset += n;
      }
      return buf.subarray(0, offset);
    } finally {
      fs.closeSync(fd);
    }
  }, 'key file');
  return bytes && decodeKeyFile(bytes);
}

export function writeKeyFile(file: string, keyFile: KeyFile): void {
  writeFileAtomic(file, encodeKeyFile(keyFile));
}
