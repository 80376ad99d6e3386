/**
 * Migrations: each one applies on an empty database and on a database at the previous version
 * holding data, which it keeps. Migrations run on raw encrypted databases (Db.open) here, not
 * through createStore, so a test can stop at any version.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Db } from './database';
import { isStoreError } from './errors';
import { readKeyFile } from './keyfile';
import { LATEST_VERSION, MIGRATIONS, migrate, schemaVersion, type Migration } from './migrations';
import { createStore, openStore } from './store';
import { fastTestWrapper, makeTempDir, randomKey, removeTempDir } from './store.test-util';

let dir: string;
let db: Db;

beforeEach(() => {
  dir = makeTempDir();
  db = Db.open(path.join(dir, 'm.db'), randomKey());
});

afterEach(() => {
  db.close();
  removeTempDir(dir);
});

const tables = (d: Db): string[] =>
  d
    .all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .map((r) => String(r.name))
    .filter((n) => !n.startsWith('sqlite_'));

/**
 * Per version: data written at that version, and a check that it is still readable after
 * migrating to the latest. A new migration adds its entry (and its own expectations).
 */
const FIXTURES: Record<number, { seed: (d: Db) => void; check: (d: Db) => void }> = {
  1: {
    seed: (d) => {
      d.exec(`
        INSERT INTO identity (id, key_pair, public_key, display_name, created_at) VALUES (1, x'01', zeroblob(32), 'Me', 1);
        INSERT INTO contacts (id, identity_key, display_name, request_state, created_at, updated_at)
          VALUES (7, randomblob(32), 'Alice', 'accepted', 1, 1);
        INSERT INTO devices (id, contact_id, peer_id, card, card_created_at, created_at) VALUES (3, 7, 'peer', x'00', 1, 1);
        INSERT INTO conversations (id, contact_id, last_activity_at, created_at) VALUES (5, 7, 10, 1);
        INSERT INTO messages (message_id, conversation_id, kind, direction, sender_device_id, sender_seq, body, sent_at,
          received_at, state, path, state_changed_at)
          VALUES (zeroblob(16), 5, 'text', 'in', 3, 1, 'hello', 9, 10, 'delivered', 'lan', 10);
        INSERT INTO settings (key, value) VALUES ('theme', 'dark');
      `);
    },
    check: (d) => {
      expect(d.get('SELECT display_name FROM identity')?.display_name).toBe('Me');
      expect(d.get('SELECT body FROM messages WHERE conversation_id = 5')?.body).toBe('hello');
      expect(d.get("SELECT value FROM settings WHERE key = 'theme'")?.value).toBe('dark');
      expect(d.all('PRAGMA foreign_key_check')).toEqual([]);
    },
  },
};

describe('migrations', () => {
  it('migrations - are numbered 1, 2, 3… and LATEST_VERSION is the last', () => {
    MIGRATIONS.forEach((m, i) => expect(m.version).toBe(i + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
    for (const m of MIGRATIONS) expect(FIXTURES[m.version], `fixture for migration ${m.version}`).toBeDefined();
  });

  describe.each(MIGRATIONS.map((m) => [m.version, m.name, m] as const))('migration %i (%s)', (version, _name, migration) => {
    it(`migration ${version} - applies on an empty database`, () => {
      expect(migrate(db, MIGRATIONS, version)).toEqual(MIGRATIONS.filter((m) => m.version <= version).map((m) => m.version));
      expect(schemaVersion(db)).toBe(version);
      expect(db.all('PRAGMA integrity_check')[0]).toMatchObject({ integrity_check: 'ok' });
    });

    it(`migration ${version} - applies on a database at version ${version - 1} with data, and keeps it`, () => {
      migrate(db, MIGRATIONS, version - 1);
      for (let v = 1; v < version; v++) FIXTURES[v]?.seed(db);
      expect(migrate(db, [...MIGRATIONS], version)).toEqual([migration.version]);
      for (let v = 1; v < version; v++) FIXTURES[v]?.check(db);
      // And data written at this version survives everything after it.
      FIXTURES[version]?.seed(db);
      migrate(db);
      FIXTURES[version]?.check(db);
    });
  });

  it('migration 1 - creates every table issue 3 needs', () => {
    migrate(db);
    expect(tables(db)).toEqual(
      [
        'contacts',
        'conversations',
        'counters',
        'devices',
        'identity',
        'messages',
        'one_time_prekeys',
        'outbox',
        'sessions',
        'settings',
        'signed_prekeys',
      ].sort(),
    );
  });

  it('migrations - running again is a no-op', () => {
    migrate(db);
    expect(migrate(db)).toEqual([]);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
  });

  it('migrations - a failing migration rolls back completely and is MIGRATION_FAILED', () => {
    migrate(db);
    FIXTURES[1]?.seed(db);
    const broken: Migration = {
      version: LATEST_VERSION + 1,
      name: 'half done',
      up: (d) => {
        d.exec('ALTER TABLE contacts ADD COLUMN nickname TEXT');
        d.exec('UPDATE messages SET body = NULL'); // violates a CHECK: the whole step must roll back
      },
    };
    let error: unknown;
    try {
      migrate(db, [...MIGRATIONS, broken]);
    } catch (e) {
      error = e;
    }
    expect(isStoreError(error, 'MIGRATION_FAILED')).toBe(true);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.all('PRAGMA table_info(contacts)').map((c) => c.name)).not.toContain('nickname');
    FIXTURES[1]?.check(db);
  });

  it('migrations - a later migration runs on data and keeps it (the runner, with a test-only step)', () => {
    migrate(db);
    FIXTURES[1]?.seed(db);
    const next: Migration = {
      version: LATEST_VERSION + 1,
      name: 'add a column with a default',
      up: (d) => d.exec("ALTER TABLE contacts ADD COLUMN nickname TEXT NOT NULL DEFAULT ''"),
    };
    expect(migrate(db, [...MIGRATIONS, next])).toEqual([next.version]);
    expect(db.get('SELECT nickname, display_name FROM contacts WHERE id = 7')).toMatchObject({ nickname: '', display_name: 'Alice' });
    FIXTURES[1]?.check(db);
  });

  it('migrations - a database from a newer version is refused, not touched', async () => {
    const storeDir = path.join(dir, 'newer');
    const store = await createStore(storeDir, fastTestWrapper());
    store.close();
    const keyFile = readKeyFile(path.join(storeDir, 'keyfile'));
    if (!keyFile) throw new Error('no key file');
    const raw = Db.open(path.join(storeDir, 'parley.db'), (await fastTestWrapper().unwrap(keyFile.wrapped)).expose());
    raw.exec(`PRAGMA user_version = ${LATEST_VERSION + 1}`);
    raw.close();
    const error = await openStore(storeDir, fastTestWrapper()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStoreError(error, 'UNSUPPORTED_VERSION')).toBe(true);
    // The refused open released the folder: a second try is refused for the same reason, not IN_USE.
    const again = await openStore(storeDir, fastTestWrapper()).catch((e: unknown) => e);
    expect(isStoreError(again, 'UNSUPPORTED_VERSION')).toBe(true);
  });
});
