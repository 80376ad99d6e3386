/**
 * The data folder on disk: paths, owner-only permissions, atomic writes.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DB_COMPANION_SUFFIXES, DB_FILE, DIR_MODE, FILE_MODE, KEY_FILE, LOCK_FILE } from './constants';
import { StoreError } from './errors';

export interface StorePaths {
  readonly dir: string;
  readonly db: string;
  readonly keyFile: string;
  readonly lock: string;
}

export function storePaths(dir: string): StorePaths {
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
    throw new StoreError('INVALID_INPUT', 'data folder');
  }
  const abs = path.resolve(dir);
  return {
    dir: abs,
    db: path.join(abs, DB_FILE),
    keyFile: path.join(abs, KEY_FILE),
    lock: path.join(abs, LOCK_FILE),
  };
}

/** The database and its WAL companions, as far as they exist. */
export function existingDbFiles(paths: StorePaths): string[] {
  return [paths.db, ...DB_COMPANION_SUFFIXES.map((s) => paths.db + s)].filter((f) => fs.existsSync(f));
}

/** True when the folder holds a database (main file or a WAL that would recreate it). */
export function hasDatabase(paths: StorePaths): boolean {
  return fs.existsSync(paths.db) || fs.existsSync(`${paths.db}-wal`);
}

/** Creates the folder (and parents) if needed and makes it owner-only. */
export function ensurePrivateDir(dir: string): void {
  io(() => {
    fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    tightenMode(dir, DIR_MODE);
  }, 'data folder');
}

/** Creates an empty owner-only file if it does not exist, so SQLite inherits the mode. */
export function ensurePrivateFile(file: string): void {
  io(() => {
    try {
      fs.closeSync(fs.openSync(file, 'wx', FILE_MODE));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    tightenMode(file, FILE_MODE);
  }, 'file');
}

/** Removes group/other bits if present. Not an error where the platform has no such bits. */
export function tightenMode(file: string, mode: number): void {
  if (process.platform === 'win32') return;
  const current = fs.statSync(file).mode & 0o777;
  if ((current & ~mode) !== 0) fs.chmodSync(file, current & mode);
}

/**
 * Replaces `file` with `data` so that a crash leaves either the old or the new content, never
 * a mix or nothing: write a temporary file in the same folder (rename is atomic only within
 * one file system), fsync it, rename it over the target, fsync the folder so the rename
 * itself is durable.
 */
export function writeFileAtomic(file: string, data: Uint8Array): void {
  const tmp = `${file}.tmp-${randomBytes(8).toString('hex')}`;
  io(() => {
    const fd = fs.openSync(tmp, 'wx', FILE_MODE);
    try {
      let offset = 0;
      while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.renameSync(tmp, file);
    } catch (error) {
      fs.rmSync(tmp, { force: true });
      throw error;
    }
    fsyncDir(path.dirname(file));
  }, 'key file');
}

/** Temporary files of writeFileAtomic left by a crash between write and rename. */
export function removeStaleTemporaries(file: string): void {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.tmp-`;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

function fsyncDir(dir: string): void {
  // Windows cannot open a directory for fsync; NTFS journals the rename itself.
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs a file-system step; an errno becomes StoreError IO naming `what` (never the path). */
export function io<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    if (typeof (error as NodeJS.ErrnoException).code === 'string') throw new StoreError('IO', what);
    throw error;
  }
}
