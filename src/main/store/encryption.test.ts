/**
 * Encryption at rest and durability, checked on the files themselves: no plaintext in any
 * file of the data folder, no opening without the exact key, committed messages survive
 * SIGKILL, and a folder in use by another process is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE, KEY_FILE } from './constants';
import { Db } from './database';
import { isStoreError } from './errors';
import { readKeyFile } from './keyfile';
import { openStore } from './store';
import {
  addContactWithDevice,
  fastTestWrapper,
  makeTempDir,
  makeTestStore,
  randomId,
  readAllFiles,
  removeTempDir,
  type TestStore,
} from './store.test-util';

type LibsqlCtor = new (file: string, options?: { encryptionKey?: string }) => Database.Database;
const Libsql = Database as unknown as LibsqlCtor;

/** The storage key of a store made with fastTestWrapper(): the key file XOR the pad. */
function storageKeyHex(dir: string): string {
  const keyFile = readKeyFile(path.join(dir, KEY_FILE));
  if (!keyFile) throw new Error('no key file');
  return Buffer.from(keyFile.wrapped.map((b) => b ^ 0x5c)).toString('hex');
}

/** Names of the files in `dir` whose raw bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const [name, bytes] of readAllFiles(dir)) if (bytes.includes(Buffer.from(needle, 'utf8'))) hits.push(name);
  return hits;
}

/** Opening is lazy in libsql: the first read is what fails with a wrong key. */
function tryRead(file: string, encryptionKey?: string): string {
  let db: Database.Database | undefined;
  try {
    db = new Libsql(file, encryptionKey === undefined ? {} : { encryptionKey });
    db.prepare('SELECT count(*) AS n FROM sqlite_master').all([]);
    return 'opened';
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  } finally {
    db?.close();
  }
}

describe('encryption at rest', () => {
  let t: TestStore;
  const canary = `canary-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    t = await makeTestStore();
    const { conversation, device } = addContactWithDevice(t.store, `name ${canary}`);
    const messageId = randomId();
    t.store.transaction(() => {
      t.store.messages.insertIncoming({
        messageId,
        conversationId: conversation.id,
        senderDeviceId: device.id,
        kind: 'text',
        body: `the body says ${canary}`,
        senderSeq: 1,
        sentAt: 1,
        receivedAt: 2,
        path: 'lan',
      });
      t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: canary, sentAt: 3 });
      t.store.conversations.setDraft(conversation.id, canary);
      t.store.settings.set('note', canary);
    });
    // The test can fail: the canary really is in the store.
    expect(t.store.messages.get(messageId)?.body).toContain(canary);
  });

  afterAll(() => t.cleanup());

  it('encryption - a canary written to the store is in no file of the data folder, before and after checkpoint', () => {
    // Before the checkpoint the rows live in the WAL: it must be encrypted too.
    expect(fs.statSync(path.join(t.dir, `${DB_FILE}-wal`)).size).toBeGreaterThan(0);
    expect(filesContaining(t.dir, canary)).toEqual([]);
    t.store.checkpoint();
    expect(filesContaining(t.dir, canary)).toEqual([]);
    const files = [...readAllFiles(t.dir).keys()];
    expect(files).toEqual(expect.arrayContaining([DB_FILE, KEY_FILE]));
  });

  it('encryption - the same search finds the canary in an unencrypted database (the check can fail)', () => {
    const dir = makeTempDir();
    try {
      const db = new Libsql(path.join(dir, 'plain.db'));
      db.exec('CREATE TABLE t (body TEXT)');
      db.prepare('INSERT INTO t VALUES (?)').run([canary]);
      db.close();
      expect(filesContaining(dir, canary).length).toBeGreaterThan(0);
    } finally {
      removeTempDir(dir);
    }
  });

  it('encryption - the database file has no SQLite header in clear', () => {
    const head = fs.readFileSync(path.join(t.dir, DB_FILE)).subarray(0, 16);
    expect(head.toString('latin1')).not.toBe('SQLite format 3\0');
  });

  it('encryption - the database opens with the exact key only: not without, not empty, not another, not re-encoded', () => {
    const file = path.join(t.dir, DB_FILE);
    const key = storageKeyHex(t.dir);
    t.store.checkpoint();
    expect(tryRead(file)).toBe('SQLITE_NOTADB');
    expect(tryRead(file, '')).toBe('SQLITE_NOTADB');
    expect(tryRead(file, randomBytes(32).toString('hex'))).toBe('SQLITE_NOTADB');
    expect(tryRead(file, key.toUpperCase())).toBe('SQLITE_NOTADB');
    expect(tryRead(file, Buffer.from(key, 'hex').toString('base64'))).toBe('SQLITE_NOTADB');
    // Sanity: the right key reads (so the failures above are about the key).
    expect(tryRead(file, key)).toBe('opened');
  });

  it('encryption - Db.open refuses a key that is not 32 bytes (an empty key would mean no encryption)', () => {
    const dir = makeTempDir();
    try {
      for (const key of [new Uint8Array(0), new Uint8Array(16), new Uint8Array(33)]) {
        expect(() => Db.open(path.join(dir, 'x.db'), key)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
      }
      expect(fs.existsSync(path.join(dir, 'x.db'))).toBe(false);
    } finally {
      removeTempDir(dir);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A second process
// ---------------------------------------------------------------------------------------------

const CHILD = path.join(import.meta.dirname, 'crash-child.test-util.ts');

function startChild(dir: string, mode: 'hold' | 'write' | 'write-deferred'): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], {
    cwd: path.resolve(import.meta.dirname, '../../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return { child, lines };
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const { value, done } = await lines.next();
  if (done) throw new Error('child exited early');
  return value;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('a second process', () => {
  it('store - a folder held by a live process is IN_USE, and free again once that process is killed', async () => {
    const t = await makeTestStore();
    const dir = t.dir;
    t.store.close();
    const { child, lines } = startChild(dir, 'hold');
    try {
      expect(await nextLine(lines)).toBe('ready');
      const error = await openStore(dir, fastTestWrapper()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isStoreError(error, 'IN_USE')).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await killed(child);
    }
    // The kernel dropped the lock with the process: no stale lock after SIGKILL.
    const store = await openStore(dir, fastTestWrapper());
    store.close();
    removeTempDir(dir);
  });

  it.each(['write', 'write-deferred'] as const)('store - every message whose commit returned survives SIGKILL of the writer (%s)', async (mode) => {
    const t = await makeTestStore();
    const dir = t.dir;
    addContactWithDevice(t.store);
    t.store.close();
    const { child, lines } = startChild(dir, mode);
    const committed: string[] = [];
    try {
      while (committed.length < 200) {
        const line = await nextLine(lines);
        committed.push(line.replace('committed ', ''));
      }
    } finally {
      // Killed mid-stream: the child is in the middle of its next transactions.
      child.kill('SIGKILL');
      await killed(child);
    }
    const store = await openStore(dir, fastTestWrapper());
    try {
      for (const hex of committed) expect(store.messages.has(Uint8Array.from(Buffer.from(hex, 'hex'))), hex).toBe(true);
      store.checkIntegrity();
    } finally {
      store.close();
      removeTempDir(dir);
    }
  });
});
