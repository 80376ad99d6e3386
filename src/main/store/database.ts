/**
 * The libsql connection: opening it with the storage key, the pragmas, and a thin typed layer
 * over libsql's better-sqlite3-like API that hides its quirks.
 *
 * Encryption key format. libsql 0.5's `encryptionKey` is a JS string (a Buffer is refused:
 * "failed to downcast any to string"); its UTF-8 bytes go to sqlite3_key() of the bundled
 * SQLite3 Multiple Ciphers 1.8.1, whose only compiled-in cipher is `aes256cbc` (wxSQLite3
 * AES-256-CBC, no HMAC; `encryptionCipher` values such as chacha20 or sqlcipher fail with
 * SQLITE_MISUSE). It derives the page key from that string with SHA-256 (kdf_iter 4001). We
 * pass the 32 random bytes as 64 lowercase hex characters: all 256 bits survive, and the
 * string has no NUL or invalid UTF-8 that would truncate or alter it. An EMPTY string means "no
 * encryption" to libsql, silently, so the length is asserted before every open.
 *
 * What this cipher does not give: page integrity (no MAC: flipped ciphertext bits garble a page
 * instead of failing authentication; cell_size_check below catches much of that as CORRUPT)
 * and semantic security across rewrites of the same page (the IV derives from the page
 * number). Bytes 16–23 of the file header stay in clear (page size, format numbers).
 *
 * libsql quirks handled here: `get()` rows carry an extra `_metadata` property (rows are
 * mapped field by field, never spread); BLOBs come back as Buffer from `get()` but as
 * ArrayBuffer from `all()` (validate.ts `bytes()` takes both); a lone object argument is taken as named parameters,
 * so `get(null)` or `get(buffer)` throw (parameters are always passed as one array); `pluck()`
 * does not apply to `get()` (not used); a statement whose `get()` failed (e.g. on a constraint)
 * fails the same way on every later `get()`, so a statement that threw is dropped from the
 * cache and prepared afresh; `close()` does not close while statements live (see
 * folder-lock.ts), so this layer refuses every call after close() itself.
 */
import { close as closeFd, closeSync, fdatasync, open as openFd } from 'node:fs';
import { promisify } from 'node:util';
import Database from 'libsql';
import { BUSY_TIMEOUT_MS, WAL_SIZE_LIMIT_BYTES } from './constants';
import { StoreError, toStoreError } from './errors';

/** libsql's options beyond the better-sqlite3 typings it ships. */
interface LibsqlOptions extends Database.Options {
  encryptionKey?: string;
  encryptionCipher?: string;
}
type LibsqlConstructor = new (path: string, options?: LibsqlOptions) => Database.Database;
const Libsql = Database as unknown as LibsqlConstructor;

/** 32 bytes as hex, see the header comment. */
const ENCRYPTION_KEY_HEX_CHARS = 64;

export type SqlValue = number | string | Uint8Array | null;
export type Row = Readonly<Record<string, unknown>>;

/**
 * The pragmas of every connection, in order, with the reason for each. journal_mode is
 * persistent; the others are per connection.
 */
const PRAGMAS: readonly string[] = [
  // Readers never block the writer and a commit is one sequential append; the WAL's pages are
  // encrypted like the main file's (checked by the canary test).
  'journal_mode = WAL',
  // FULL, not NORMAL: NORMAL in WAL mode already survives a process crash (SIGKILL) since the
  // committed frames sit in the OS page cache, but it can lose the last commits on power loss
  // or a kernel crash. A receiver acknowledges a message once its transaction commits and the
  // sender then drops it from its outbox, so a commit that can vanish is a message lost for
  // good. FULL fsyncs the WAL at every commit; measured here ~0.05 ms more per commit.
  'synchronous = FULL',
  'foreign_keys = ON',
  `busy_timeout = ${BUSY_TIMEOUT_MS}`,
  // Sorts and temporary tables stay in memory: SQLite's temp files are not covered by the
  // database key, and ARCHITECTURE.md §7 allows nothing readable outside the database.
  'temp_store = MEMORY',
  // After a checkpoint the WAL is reused, not shrunk: cap what it keeps after a burst (a
  // backlog of thousands of messages) at 4 MiB. It is also truncated at close.
  `journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`,
  // Deleted rows are overwritten with zeros: a consumed one-time prekey or a replaced ratchet
  // state must not linger in free pages for whoever later learns the key (forward secrecy).
  'secure_delete = ON',
  // With no page MAC, a damaged or tampered page is caught as CORRUPT on read where possible.
  'cell_size_check = ON',
  // The schema lives in an unauthenticated file: do not let it call functions with side effects.
  'trusted_schema = OFF',
];

const fdatasyncAsync = promisify(fdatasync);
const openAsync = promisify(openFd);
const closeAsync = promisify(closeFd);

export interface TransactionOptions {
  /**
   * Commit without waiting for the disk (synchronous=NORMAL): the commit survives a crash of
   * this process at once, and a power cut only after the next `sync()`. For hot paths whose
   * caller syncs before anything depends on the commit (a send, an acknowledgement, an API
   * answer), so concurrent commits share one fsync instead of paying one each.
   */
  deferSync?: boolean;
}

export class Db {
  #db: Database.Database | undefined;
  #statements = new Map<string, Database.Statement>();
  #depth = 0;
  readonly #walFile: string;
  /** Deferred commits that no fsync of the WAL has covered yet. */
  #unsynced = 0;
  #syncing: Promise<void> | undefined;
  #walFd: Promise<number> | undefined;
  /** The WAL descriptor once open, so close() can release it synchronously. */
  #walFdNumber: number | undefined;

  private constructor(db: Database.Database, file: string) {
    this.#db = db;
    this.#walFile = `${file}-wal`;
  }

  /**
   * Makes every commit so far durable: one fdatasync of the WAL on the libuv thread pool, so
   * the event loop keeps serving meanwhile. Callers arriving while an fsync is in flight wait
   * for the next one (their commits may have missed the one in flight), and share it: group
   * commit. Resolves at once when nothing is pending.
   */
  async sync(): Promise<void> {
    while (this.#unsynced > 0) {
      if (this.#syncing) {
        await this.#syncing.catch(() => undefined);
        continue;
      }
      const covered = this.#unsynced;
      const run = (async () => {
        const fd = (this.#walFd ??= openAsync(this.#walFile, 'r+').then((n) => (this.#walFdNumber = n)));
        try {
          await fdatasyncAsync(await fd);
        } catch (error) {
          // Open afresh next time: a failed open (EMFILE) must not fail every later sync. Closed
          // here only if close() has not taken the descriptor over (never closed twice).
          if (this.#walFd === fd) {
            this.#walFd = undefined;
            this.#walFdNumber = undefined;
            void fd.then((n) => closeAsync(n)).catch(() => undefined);
          }
          throw error;
        }
      })();
      this.#syncing = run;
      try {
        await run;
        // close() may have zeroed the count meanwhile (its checkpoint made everything durable).
        this.#unsynced = Math.max(0, this.#unsynced - covered);
      } catch (error) {
        throw toStoreError(error, 'sync');
      } finally {
        this.#syncing = undefined;
      }
    }
  }

  /**
   * Opens (or creates) the database at `file` with the 32-byte key, checks that the key fits
   * the file, and applies the pragmas. A file that does not decrypt is CORRUPT: the key came
   * out of an authenticated unwrap, so the database is damaged or belongs to another key file.
   */
  static open(file: string, key: Uint8Array): Db {
    if (key.length * 2 !== ENCRYPTION_KEY_HEX_CHARS) throw new StoreError('INVALID_INPUT', 'storage key length');
    let raw: Database.Database;
    try {
      raw = new Libsql(file, { encryptionKey: Buffer.from(key).toString('hex') });
    } catch (error) {
      throw toStoreError(error, 'open database');
    }
    const db = new Db(raw, file);
    try {
      // The first read decrypts page 1: a wrong key fails here with SQLITE_NOTADB.
      db.all('SELECT count(*) AS n FROM sqlite_master');
      for (const pragma of PRAGMAS) db.exec(`PRAGMA ${pragma}`);
      if (db.pragma('journal_mode') !== 'wal') throw new StoreError('IO', 'WAL journal mode');
    } catch (error) {
      db.close();
      if (error instanceof StoreError && error.sqliteCode === 'SQLITE_NOTADB') {
        throw new StoreError('CORRUPT', 'database does not match the key file', error.sqliteCode);
      }
      throw error;
    }
    return db;
  }

  get isOpen(): boolean {
    return this.#db !== undefined;
  }

  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /** Deferred commits not yet covered by a sync (0 when everything committed is on disk). */
  get unsyncedCommits(): number {
    return this.#unsynced;
  }

  #raw(): Database.Database {
    if (!this.#db) throw new StoreError('LOCKED');
    return this.#db;
  }

  #statement(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      try {
        stmt = this.#raw().prepare(sql);
      } catch (error) {
        throw toStoreError(error);
      }
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  get(sql: string, params: readonly SqlValue[] = []): Row | undefined {
    const stmt = this.#statement(sql);
    try {
      return stmt.get([...params]) as Row | undefined;
    } catch (error) {
      this.#statements.delete(sql);
      throw toStoreError(error);
    }
  }

  all(sql: string, params: readonly SqlValue[] = []): Row[] {
    const stmt = this.#statement(sql);
    try {
      return stmt.all([...params]) as Row[];
    } catch (error) {
      this.#statements.delete(sql);
      throw toStoreError(error);
    }
  }

  /** Runs a write; returns the number of rows changed. */
  run(sql: string, params: readonly SqlValue[] = []): number {
    const stmt = this.#statement(sql);
    try {
      return stmt.run([...params]).changes;
    } catch (error) {
      this.#statements.delete(sql);
      throw toStoreError(error);
    }
  }

  /** Runs SQL without parameters (DDL, pragmas, several statements). */
  exec(sql: string): void {
    try {
      this.#raw().exec(sql);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** The single value of a pragma (`PRAGMA name`). */
  pragma(name: string): unknown {
    const row = this.all(`PRAGMA ${name}`)[0];
    return row ? Object.values(row)[0] : undefined;
  }

  /**
   * Runs `fn` in a transaction: committed if it returns, rolled back if it throws. Nested
   * calls become savepoints, so an inner failure that the outer function catches undoes only
   * the inner work. `fn` must be synchronous: a promise would let the commit run before the
   * awaited work, so it is refused and everything is rolled back.
   */
  transaction<T>(fn: () => T, options: TransactionOptions = {}): T {
    const depth = this.#depth;
    // Only a whole transaction can defer its sync; a nested one commits with its outer one.
    const defer = depth === 0 && options.deferSync === true;
    if (!defer) return this.#transaction(fn, depth);
    this.exec('PRAGMA synchronous = NORMAL');
    try {
      const result = this.#transaction(fn, depth);
      this.#unsynced++;
      return result;
    } finally {
      if (this.#db) this.exec('PRAGMA synchronous = FULL');
    }
  }

  #transaction<T>(fn: () => T, depth: number): T {
    const savepoint = `sp${depth}`;
    this.exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${savepoint}`);
    this.#depth = depth + 1;
    try {
      const result = fn();
      if (result && typeof (result as { then?: unknown }).then === 'function') {
        throw new TypeError('transaction callbacks must be synchronous');
      }
      this.exec(depth === 0 ? 'COMMIT' : `RELEASE ${savepoint}`);
      return result;
    } catch (error) {
      if (this.#db) {
        try {
          this.exec(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
        } catch {
          // SQLite may already have rolled back (e.g. on SQLITE_FULL); the original error matters.
        }
      }
      throw error;
    } finally {
      this.#depth = depth;
    }
  }

  /** Folds the WAL into the main file and truncates it (used at close and by tests). */
  checkpoint(): void {
    this.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  /** Idempotent. Checkpoints first so the folder is one file at rest. */
  close(): void {
    const db = this.#db;
    if (!db) return;
    try {
      if (this.#depth === 0) db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // A failed checkpoint loses nothing: the WAL is replayed at the next open.
    } finally {
      this.#statements.clear();
      this.#db = undefined;
      this.#depth = 0;
      // The checkpoint above made every commit durable in the main file.
      this.#unsynced = 0;
      const walFd = this.#walFd;
      this.#walFd = undefined;
      if (walFd && this.#syncing === undefined && this.#walFdNumber !== undefined) {
        // Before SQLite deletes the WAL at close: on Windows an open handle would keep it.
        closeSync(this.#walFdNumber);
      } else if (walFd) {
        // After the fsync in flight, so the descriptor is not closed (and reused) under it.
        void (this.#syncing ?? Promise.resolve()).catch(() => undefined).then(() => walFd).then((fd) => closeAsync(fd)).catch(() => undefined);
      }
      this.#walFdNumber = undefined;
      db.close();
    }
  }
}
