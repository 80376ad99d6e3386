/**
 * Opening, creating and re-keying the encrypted store of a peer.
 *
 * A data folder holds `parley.db` (libsql, encrypted with a random 32-byte storage key),
 * `keyfile` (that key, wrapped by a KeyWrapper) and `parley.lock` (empty; its OS lock marks
 * the folder as in use). The database key never changes; a passphrase change rewrites only
 * the key file, atomically.
 *
 * Crash safety of createStore: the key file is written first, then the database. The database
 * is what "a store exists here" means: a key file without a database is the trace of an
 * interrupted create and is replaced by the next createStore; a database is never overwritten.
 */
import { initCrypto } from '../../crypto/sodium';
import type { StorageKey } from '../../crypto/keys';
import { generateStorageKey } from '../../crypto/storage-key';
import { ContactRepo } from './contact-repo';
import { ConversationRepo } from './conversation-repo';
import { Db, type TransactionOptions } from './database';
import { DeviceRepo } from './device-repo';
import { StoreError } from './errors';
import {
  ensurePrivateDir,
  ensurePrivateFile,
  existingDbFiles,
  hasDatabase,
  io,
  removeStaleTemporaries,
  storePaths,
  tightenMode,
  type StorePaths,
} from './files';
import { FolderLock } from './folder-lock';
import { IdentityRepo } from './identity-repo';
import { passphraseKeyWrapper, type KeyWrapper } from './key-wrapper';
import { readKeyFile, writeKeyFile } from './keyfile';
import { MessageRepo } from './message-repo';
import { migrate, type Migration, MIGRATIONS } from './migrations';
import { OutboxRepo } from './outbox-repo';
import { PrekeyRepo } from './prekey-repo';
import { SessionRepo } from './session-repo';
import { SettingsRepo } from './settings-repo';
import { DIR_MODE, FILE_MODE } from './constants';

/** A passphrase, or a wrapper (the keychain one from src/main/electron, or a custom one). */
export type Unlock = string | KeyWrapper;

export interface StoreOptions {
  /** Milliseconds since the epoch; default Date.now. Injected so tests control time. */
  readonly clock?: () => number;
  /** For migration tests only: the list to apply instead of MIGRATIONS. */
  readonly migrations?: readonly Migration[];
}

function wrapperOf(unlock: Unlock): KeyWrapper {
  return typeof unlock === 'string' ? passphraseKeyWrapper(unlock) : unlock;
}

export class Store {
  readonly dir: string;
  readonly identity: IdentityRepo;
  readonly prekeys: PrekeyRepo;
  readonly contacts: ContactRepo;
  readonly devices: DeviceRepo;
  readonly sessions: SessionRepo;
  readonly conversations: ConversationRepo;
  readonly messages: MessageRepo;
  readonly outbox: OutboxRepo;
  readonly settings: SettingsRepo;
  readonly #db: Db;
  readonly #lock: FolderLock;

  /** Use createStore / openStore. */
  private constructor(dir: string, db: Db, lock: FolderLock, clock: () => number) {
    this.dir = dir;
    this.#db = db;
    this.#lock = lock;
    this.identity = new IdentityRepo(db, clock);
    this.prekeys = new PrekeyRepo(db, clock);
    this.outbox = new OutboxRepo(db, clock);
    this.contacts = new ContactRepo(db, clock, this.outbox);
    this.devices = new DeviceRepo(db, clock);
    this.sessions = new SessionRepo(db, clock);
    this.conversations = new ConversationRepo(db, clock);
    this.messages = new MessageRepo(db, clock);
    this.settings = new SettingsRepo(db);
  }

  /**
   * Creates a store in `dir` (created if missing, made owner-only) with a fresh random storage
   * key wrapped by `unlock`. ALREADY_EXISTS if the folder holds a database.
   */
  static async create(dir: string, unlock: Unlock, options: StoreOptions = {}): Promise<Store> {
    const wrapper = wrapperOf(unlock);
    const paths = storePaths(dir);
    if (hasDatabase(paths)) throw new StoreError('ALREADY_EXISTS');
    await initCrypto();
    ensurePrivateDir(paths.dir);
    const lock = FolderLock.acquire(paths.lock);
    let key: StorageKey | undefined;
    try {
      // Checked again under the lock: another process may have created it meanwhile.
      if (hasDatabase(paths)) throw new StoreError('ALREADY_EXISTS');
      key = generateStorageKey();
      writeKeyFile(paths.keyFile, { kind: wrapper.kind, wrapped: await wrapper.wrap(key) });
      ensurePrivateFile(paths.db);
    } catch (error) {
      key?.wipe();
      lock.release();
      throw error;
    }
    return Store.#attach(paths, key, lock, options);
  }

  /**
   * Opens the store in `dir`. The key file is unwrapped before anything on disk is touched, so
   * a wrong passphrase (WRONG_PASSPHRASE) or the wrong method (WRONG_UNLOCK_METHOD) changes
   * nothing. NO_STORE if there is no database; CORRUPT if the key file is missing or does not
   * belong to the database; IN_USE if another store holds the folder; UNSUPPORTED_VERSION if a
   * newer Parley wrote it.
   */
  static async open(dir: string, unlock: Unlock, options: StoreOptions = {}): Promise<Store> {
    const wrapper = wrapperOf(unlock);
    const paths = storePaths(dir);
    if (!hasDatabase(paths)) throw new StoreError('NO_STORE');
    const keyFile = readKeyFile(paths.keyFile);
    if (!keyFile) throw new StoreError('CORRUPT', 'key file missing');
    if (keyFile.kind !== wrapper.kind) throw new StoreError('WRONG_UNLOCK_METHOD');
    await initCrypto();
    const key = await wrapper.unwrap(keyFile.wrapped);
    let lock: FolderLock;
    try {
      io(() => tightenMode(paths.dir, DIR_MODE), 'data folder');
      lock = FolderLock.acquire(paths.lock);
    } catch (error) {
      key.wipe();
      throw error;
    }
    try {
      io(() => removeStaleTemporaries(paths.keyFile), 'data folder');
    } catch (error) {
      key.wipe();
      lock.release();
      throw error;
    }
    return Store.#attach(paths, key, lock, options);
  }

  /** Opens the database of an unlocked, locked-for-us folder. Takes ownership of key and lock. */
  static #attach(paths: StorePaths, key: StorageKey, lock: FolderLock, options: StoreOptions): Store {
    let db: Db | undefined;
    try {
      db = Db.open(paths.db, key.expose());
      migrate(db, options.migrations ?? MIGRATIONS);
      for (const file of existingDbFiles(paths)) io(() => tightenMode(file, FILE_MODE), 'database file');
      return new Store(paths.dir, db, lock, options.clock ?? Date.now);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    } finally {
      key.wipe();
    }
  }

  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  /**
   * Runs `fn` in one transaction: all its writes commit together or not at all. Nested calls
   * are savepoints. `fn` must be synchronous (the store API is). Use it to bind what must not
   * be separated: decrypt → session state + message + consumed prekey; encrypt → message +
   * session state + outbox envelope.
   */
  transaction<T>(fn: () => T, options: TransactionOptions = {}): T {
    return this.#db.transaction(fn, options);
  }

  /** Deferred commits not yet made durable by `sync()`. */
  get unsyncedCommits(): number {
    return this.#db.unsyncedCommits;
  }

  /** Makes every deferred commit durable: one fsync of the WAL, shared by concurrent callers. */
  sync(): Promise<void> {
    return this.#db.sync();
  }

  /** Changes the passphrase (or, with wrappers, the unlock method) of this store's key file. */
  async changePassphrase(oldUnlock: Unlock, newUnlock: Unlock): Promise<void> {
    if (!this.isOpen) throw new StoreError('LOCKED');
    await rewrapKeyFile(this.dir, oldUnlock, newUnlock);
  }

  /** Folds the WAL into the database file and truncates the WAL. */
  checkpoint(): void {
    this.#db.checkpoint();
  }

  /** Runs SQLite's full integrity check; CORRUPT if it finds anything. Cost grows with size. */
  checkIntegrity(): void {
    const rows = this.#db.all('PRAGMA integrity_check');
    const first = rows[0] && Object.values(rows[0])[0];
    if (rows.length !== 1 || first !== 'ok') throw new StoreError('CORRUPT', 'integrity check');
    if (this.#db.all('PRAGMA foreign_key_check').length > 0) throw new StoreError('CORRUPT', 'foreign key check');
  }

  /** Checkpoints, closes the database and releases the folder. Idempotent; later calls are LOCKED. */
  close(): void {
    if (!this.#db.isOpen) return;
    try {
      this.#db.close();
    } finally {
      this.#lock.release();
    }
  }
}

/** Creates a store in `dir`; see Store.create. */
export function createStore(dir: string, unlock: Unlock, options: StoreOptions = {}): Promise<Store> {
  return Store.create(dir, unlock, options);
}

/** Opens the store in `dir`; see Store.open. */
export function openStore(dir: string, unlock: Unlock, options: StoreOptions = {}): Promise<Store> {
  return Store.open(dir, unlock, options);
}

/**
 * Re-wraps the storage key of the store in `dir`: unwrap with `oldUnlock`, wrap with
 * `newUnlock`, replace the key file atomically. The database is not touched (its key does not
 * change), so this works whether the store is open or not. A wrong old passphrase changes
 * nothing.
 */
export async function rewrapKeyFile(dir: string, oldUnlock: Unlock, newUnlock: Unlock): Promise<void> {
  const from = wrapperOf(oldUnlock);
  const to = wrapperOf(newUnlock);
  const paths = storePaths(dir);
  // One re-wrap at a time per folder: two overlapping changes would each check the old
  // passphrase against the same file and the later write would silently win.
  const previous = rewrapsInFlight.get(paths.keyFile) ?? Promise.resolve();
  const current = previous.catch(() => undefined).then(() => rewrap(paths, from, to));
  rewrapsInFlight.set(paths.keyFile, current);
  try {
    await current;
  } finally {
    if (rewrapsInFlight.get(paths.keyFile) === current) rewrapsInFlight.delete(paths.keyFile);
  }
}

const rewrapsInFlight = new Map<string, Promise<void>>();

async function rewrap(paths: StorePaths, from: KeyWrapper, to: KeyWrapper): Promise<void> {
  const keyFile = readKeyFile(paths.keyFile);
  if (!keyFile) throw new StoreError(hasDatabase(paths) ? 'CORRUPT' : 'NO_STORE', 'key file missing');
  if (keyFile.kind !== from.kind) throw new StoreError('WRONG_UNLOCK_METHOD');
  await initCrypto();
  const key = await from.unwrap(keyFile.wrapped);
  try {
    writeKeyFile(paths.keyFile, { kind: to.kind, wrapped: await to.wrap(key) });
  } finally {
    key.wipe();
  }
}

/** Changes the passphrase of the store in `dir` (open or not). WRONG_PASSPHRASE changes nothing. */
export async function changePassphrase(dir: string, oldPassphrase: string, newPassphrase: string): Promise<void> {
  await rewrapKeyFile(dir, passphraseKeyWrapper(oldPassphrase), passphraseKeyWrapper(newPassphrase));
}

/** True if `dir` holds a Parley database (so the UI asks to unlock rather than to create). */
export function storeExists(dir: string): boolean {
  return hasDatabase(storePaths(dir));
}
