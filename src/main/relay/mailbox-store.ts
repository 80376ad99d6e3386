/**
 * The relay's own mailbox store: one libsql (SQLite) file, `mailbox.db`, in the relay's data
 * folder. Not the app's store and not its schema: a relay holds only sealed envelopes and
 * the little metadata quotas and expiry need.
 *
 * Not encrypted at rest, on purpose. Every envelope is already end-to-end sealed to its
 * recipient (crypto/envelope.ts); the relay cannot read it and neither can anyone who takes
 * its disk. A database key would have to sit beside the database (a relay restarts unattended,
 * nobody types a passphrase), so it would protect nothing, while costing CPU on every page. What
 * the file does reveal — mailbox ids, sizes, deposit and expiry times — the relay process sees
 * anyway; operators who want it protected at rest use full-disk encryption (docs/relays.md).
 *
 * Durability: WAL with synchronous=FULL, so a deposit acknowledged to the sender survives a
 * crash or power loss (the sender then drops it from its outbox). Deletion: secure_delete
 * zeroes deleted rows in place, and each sweep checkpoints and truncates the WAL after any
 * deletion, so an acknowledged or expired envelope is gone from every file of the folder
 * within one sweep interval.
 *
 * libsql quirks (as in src/main/store/database.ts): parameters always as one array (a lone
 * object is taken as named parameters); BLOBs come back as Buffer from get() and ArrayBuffer
 * from all(); a statement that threw is prepared afresh.
 */
import Database from 'libsql';
import type {
  DepositOutcome,
  DepositQuotas,
  MailboxEntryInfo,
  MailboxEnvelope,
  MailboxStore,
  MailboxStoreStats,
  NewEnvelope,
  Page,
} from '../net/protocols/mailbox';
import { ensurePrivateFile } from '../store/files';
import { MAILBOX_DB_BUSY_TIMEOUT_MS, MAILBOX_DB_WAL_LIMIT_BYTES, MAILBOX_SCHEMA_VERSION } from './constants';

type SqlValue = number | string | Uint8Array | null;
type Row = Readonly<Record<string, unknown>>;

/** Thrown for a database this build cannot use; the message names no path or value. */
export class MailboxStoreError extends Error {
  static override name = 'MailboxStoreError';
  constructor(message: string) {
    super(message);
    this.name = 'MailboxStoreError';
  }
}

const PRAGMAS: readonly string[] = [
  'journal_mode = WAL',
  // A deposit is acknowledged after commit; FULL makes that commit survive power loss.
  'synchronous = FULL',
  `busy_timeout = ${MAILBOX_DB_BUSY_TIMEOUT_MS}`,
  // No temp files beside the database.
  'temp_store = MEMORY',
  // What the WAL keeps after a checkpoint; it is truncated to zero at each sweep that deleted.
  `journal_size_limit = ${MAILBOX_DB_WAL_LIMIT_BYTES}`,
  // Deleted envelopes are overwritten with zeros, not left in free pages.
  'secure_delete = ON',
  'trusted_schema = OFF',
];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS envelopes (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  mailbox      BLOB    NOT NULL,
  depositor    BLOB    NOT NULL,
  size         INTEGER NOT NULL,
  deposited_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  envelope     BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS envelopes_by_mailbox ON envelopes (mailbox, id);
CREATE INDEX IF NOT EXISTS envelopes_by_depositor ON envelopes (depositor);
CREATE INDEX IF NOT EXISTS envelopes_by_expiry ON envelopes (expires_at);
`;

export class LibsqlMailboxStore implements MailboxStore {
  #db: Database.Database | undefined;
  readonly #statements = new Map<string, Database.Statement>();
  /** Every stored row, expired or not, until swept: what the relay-wide caps count. */
  #envelopes = 0;
  #bytes = 0;
  /** Rows deleted since the last WAL truncation (acks). */
  #deletedSinceCheckpoint = false;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Opens or creates the store at `file` (owner-only permissions). */
  static open(file: string): LibsqlMailboxStore {
    ensurePrivateFile(file);
    const store = new LibsqlMailboxStore(new Database(file));
    try {
      for (const pragma of PRAGMAS) store.#exec(`PRAGMA ${pragma}`);
      const version = Number(store.#all('PRAGMA user_version')[0]?.user_version ?? 0);
      if (version > MAILBOX_SCHEMA_VERSION) throw new MailboxStoreError('mailbox database is from a newer relay');
      store.#transaction(() => {
        store.#exec(SCHEMA);
        store.#exec(`PRAGMA user_version = ${MAILBOX_SCHEMA_VERSION}`);
      });
      const totals = store.#get('SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM envelopes');
      store.#envelopes = Number(totals?.n ?? 0);
      store.#bytes = Number(totals?.b ?? 0);
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  deposit(entry: NewEnvelope, quotas: DepositQuotas, now: number): DepositOutcome {
    const size = entry.envelope.length;
    return this.#transaction(() => {
      if (this.#envelopes + 1 > quotas.relayMaxEnvelopes || this.#bytes + size > quotas.relayMaxBytes) return 'relayFull';
      const mailbox = this.#get(
        'SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM envelopes WHERE mailbox = ? AND expires_at > ?',
        [entry.mailboxId, now],
      );
      if (Number(mailbox?.n) + 1 > quotas.mailboxMaxEnvelopes || Number(mailbox?.b) + size > quotas.mailboxMaxBytes) {
        return 'mailboxFull';
      }
      const depositor = this.#get(
        'SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM envelopes WHERE depositor = ? AND expires_at > ?',
        [entry.depositor, now],
      );
      if (Number(depositor?.n) + 1 > quotas.depositorMaxEnvelopes || Number(depositor?.b) + size > quotas.depositorMaxBytes) {
        return 'depositorQuota';
      }
      this.#run(
        'INSERT INTO envelopes (mailbox, depositor, size, deposited_at, expires_at, envelope) VALUES (?, ?, ?, ?, ?, ?)',
        [entry.mailboxId, entry.depositor, size, entry.depositedAt, entry.expiresAt, entry.envelope],
      );
      this.#envelopes += 1;
      this.#bytes += size;
      return 'ok';
    });
  }

  list(mailboxId: Uint8Array, after: number, maxCount: number, now: number): Page<MailboxEntryInfo> {
    const rows = this.#all(
      'SELECT id, deposited_at, size FROM envelopes WHERE mailbox = ? AND id > ? AND expires_at > ? ORDER BY id LIMIT ?',
      [mailboxId, after, now, maxCount + 1],
    );
    const items = rows.slice(0, maxCount).map((r) => ({ id: Number(r.id), depositedAt: Number(r.deposited_at), size: Number(r.size) }));
    return { items, more: rows.length > maxCount };
  }

  fetch(mailboxId: Uint8Array, after: number, maxCount: number, maxBytes: number, now: number): Page<MailboxEnvelope> {
    // Sizes first, so envelopes past the byte budget are never read into memory.
    const sizes = this.#all('SELECT id, size FROM envelopes WHERE mailbox = ? AND id > ? AND expires_at > ? ORDER BY id LIMIT ?', [
      mailboxId,
      after,
      now,
      maxCount + 1,
    ]);
    let count = 0;
    let bytes = 0;
    for (const row of sizes.slice(0, maxCount)) {
      const size = Number(row.size);
      if (count > 0 && bytes + size > maxBytes) break;
      count++;
      bytes += size;
    }
    if (count === 0) return { items: [], more: false };
    const last = Number(sizes[count - 1]?.id);
    const rows = this.#all(
      'SELECT id, deposited_at, envelope FROM envelopes WHERE mailbox = ? AND id > ? AND id <= ? AND expires_at > ? ORDER BY id',
      [mailboxId, after, last, now],
    );
    const items = rows.map((r) => ({ id: Number(r.id), depositedAt: Number(r.deposited_at), envelope: blob(r.envelope) }));
    return { items, more: sizes.length > count };
  }

  delete(mailboxId: Uint8Array, ids: readonly number[]): number {
    const deleted = this.#transaction(() => {
      let n = 0;
      for (const id of new Set(ids)) {
        const row = this.#get('DELETE FROM envelopes WHERE mailbox = ? AND id = ? RETURNING size', [mailboxId, id]);
        if (row === undefined) continue;
        n++;
        this.#envelopes -= 1;
        this.#bytes -= Number(row.size);
      }
      return n;
    });
    if (deleted > 0) this.#deletedSinceCheckpoint = true;
    return deleted;
  }

  sweep(now: number): number {
    const swept = this.#transaction(() => {
      const gone = this.#get('SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM envelopes WHERE expires_at <= ?', [now]);
      const n = Number(gone?.n ?? 0);
      if (n === 0) return 0;
      this.#run('DELETE FROM envelopes WHERE expires_at <= ?', [now]);
      this.#envelopes -= n;
      this.#bytes -= Number(gone?.b ?? 0);
      return n;
    });
    if (swept > 0 || this.#deletedSinceCheckpoint) this.checkpoint();
    return swept;
  }

  stats(): MailboxStoreStats {
    return { envelopes: this.#envelopes, bytes: this.#bytes };
  }

  /** Folds the WAL into the database and truncates it, so deleted envelopes leave the WAL too. */
  checkpoint(): void {
    this.#exec('PRAGMA wal_checkpoint(TRUNCATE)');
    this.#deletedSinceCheckpoint = false;
  }

  /** Idempotent; checkpoints first, so the folder holds one database file at rest. */
  close(): void {
    const db = this.#db;
    if (db === undefined) return;
    try {
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // The WAL is replayed at the next open; nothing is lost.
    } finally {
      this.#statements.clear();
      this.#db = undefined;
      db.close();
    }
  }

  #raw(): Database.Database {
    if (this.#db === undefined) throw new MailboxStoreError('mailbox store is closed');
    return this.#db;
  }

  #statement(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.#raw().prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #get(sql: string, params: readonly SqlValue[] = []): Row | undefined {
    return this.#use(sql, (stmt) => stmt.get([...params]) as Row | undefined);
  }

  #all(sql: string, params: readonly SqlValue[] = []): Row[] {
    return this.#use(sql, (stmt) => stmt.all([...params]) as Row[]);
  }

  #run(sql: string, params: readonly SqlValue[] = []): number {
    return this.#use(sql, (stmt) => stmt.run([...params]).changes);
  }

  #use<T>(sql: string, fn: (stmt: Database.Statement) => T): T {
    const stmt = this.#statement(sql);
    try {
      return fn(stmt);
    } catch (err) {
      this.#statements.delete(sql);
      throw err;
    }
  }

  #exec(sql: string): void {
    this.#raw().exec(sql);
  }

  /** Synchronous transaction; the totals kept in memory are restored if it rolls back. */
  #transaction<T>(fn: () => T): T {
    const envelopes = this.#envelopes;
    const bytes = this.#bytes;
    this.#exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#exec('COMMIT');
      return result;
    } catch (err) {
      this.#envelopes = envelopes;
      this.#bytes = bytes;
      try {
        this.#exec('ROLLBACK');
      } catch {
        // Already rolled back by SQLite (e.g. SQLITE_FULL); the original error matters.
      }
      throw err;
    }
  }
}

/** A BLOB column as a Uint8Array of its own (Buffer from get(), ArrayBuffer from all()). */
function blob(value: unknown): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (value instanceof Uint8Array) return new Uint8Array(value);
  throw new MailboxStoreError('mailbox database holds a non-BLOB envelope');
}
