/**
 * Searches the raw bytes of every file under some folders (recursively, whatever the name:
 * the database, its -wal and -shm, key files, locks) for needles, in UTF-8 and UTF-16LE, so a
 * test can prove no plaintext reached the disk (ARCHITECTURE.md §7).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ScanResult {
  /** Every regular file read, relative to its root's parent folder. */
  readonly files: string[];
  readonly bytes: number;
  /** `file: needle (encoding)` for every hit. */
  readonly hits: string[];
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

export function scanForPlaintext(roots: readonly string[], needles: readonly string[]): ScanResult {
  const patterns = needles.flatMap((needle) => [
    { needle, encoding: 'utf8', bytes: Buffer.from(needle, 'utf8') },
    { needle, encoding: 'utf16le', bytes: Buffer.from(needle, 'utf16le') },
  ]);
  const files: string[] = [];
  const hits: string[] = [];
  let bytes = 0;
  for (const root of roots) {
    for (const file of walk(root)) {
      const content = readFileSync(file);
      const name = path.relative(path.dirname(root), file);
      files.push(name);
      bytes += content.length;
      for (const p of patterns) if (content.includes(p.bytes)) hits.push(`${name}: ${p.needle} (${p.encoding})`);
    }
  }
  return { files, bytes, hits };
}
