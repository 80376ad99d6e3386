/**
 * One running store per data folder. Two peers on one folder would each advance the same
 * ratchet sessions and hand out the same one-time prekeys: keys reused, messages lost.
 *
 * The lock is SQLite's own exclusive lock on an empty side file (LOCK_FILE), held by an open
 * `BEGIN EXCLUSIVE` on a connection of its own. It is an OS byte-range lock, so the kernel
 * releases it when the process dies, even by SIGKILL: no stale pid file, no pid reuse. A
 * second process, or a second openStore in this process, gets SQLITE_BUSY at once.
 *
 * Why not `PRAGMA locking_mode = EXCLUSIVE` on the database itself: libsql 0.5's close() does
 * not close the connection while statements made from it are alive (they are freed by the
 * garbage collector), and an exclusive WAL database cannot go back to NORMAL, so a closed
 * store would keep its folder locked in this process until a GC. The lock connection runs no
 * prepared statements and releases by ROLLBACK, which does not depend on close().
 */
import Database from 'libsql';
import { ensurePrivateFile } from './files';
import { StoreError } from './errors';

export class FolderLock {
  #db: Database.Database | undefined;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Takes the lock or throws StoreError IN_USE. */
  static acquire(lockPath: string): FolderLock {
    ensurePrivateFile(lockPath);
    let db: Database.Database;
    try {
      db = new Database(lockPath);
    } catch {
      throw new StoreError('IO', 'lock file');
    }
    try {
      // No waiting: the holder is a live peer that will not let go soon.
      db.exec('PRAGMA busy_timeout = 0');
      // Nothing is ever written here, so no rollback journal either (SQLite would otherwise
      // leave a hot `-journal` beside the lock file when the holder is killed).
      db.exec('PRAGMA journal_mode = OFF');
      db.exec('BEGIN EXCLUSIVE');
    } catch {
      db.close();
      throw new StoreError('IN_USE');
    }
    return new FolderLock(db);
  }

  release(): void {
    const db = this.#db;
    if (!db) return;
    this.#db = undefined;
    try {
      db.exec('ROLLBACK');
    } finally {
      db.close();
    }
  }
}
