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
  // Seeded after version 1's rows (it uses its conversation and device).
  2: {
    seed: (d) => {
      d.exec(`
        INSERT INTO messages (message_id, conversation_id, kind, direction, sender_seq, body, sent_at, state, path, state_changed_at)
          VALUES (x'02020202020202020202020202020202', 5, 'text', 'out', 1, 'waiting', 20, 'sent', 'mailbox', 21);
        INSERT INTO outbox (id, message_id, device_id, envelope, state, attempts, next_attempt_at, created_at, deposited_at, deposits)
          VALUES (11, x'02020202020202020202020202020202', 3, x'0102', 'pending', 2, 5000, 20, 21, 1);
      `);
    },
    check: (d) => {
      expect(d.get('SELECT state, deposited_at, deposits, next_attempt_at FROM outbox WHERE id = 11')).toMatchObject({
        state: 'pending',
        deposited_at: 21,
        deposits: 1,
        next_attempt_at: 5000,
      });
      expect(d.all('PRAGMA foreign_key_check')).toEqual([]);
    },
  },
  3: {
    seed: (d) => {
      d.exec(`INSERT INTO seen_base_keys (base_key, seen_at) VALUES (x'${'33'.repeat(32)}', 77);`);
    },
    check: (d) => {
      expect(d.get(`SELECT seen_at FROM seen_base_keys WHERE base_key = x'${'33'.repeat(32)}'`)?.seen_at).toBe(77);
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

  it('migrations - create every table the store needs', () => {
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
        'seen_base_keys',
        'sessions',
        'settings',
        'signed_prekeys',
      ].sort(),
    );
  });

  it('migration 2 - keeps queued envelopes byte for byte, not deposited, and admits deposited and expired ones', () => {
    migrate(db, MIGRATIONS, 1);
    FIXTURES[1]?.seed(db);
    db.exec(`
      INSERT INTO messages (message_id, conversation_id, kind, direction, sender_seq, body, sent_at, state, state_changed_at)
        VALUES (x'01010101010101010101010101010101', 5, 'text', 'out', 1, 'queued one', 30, 'queued', 30);
      INSERT INTO outbox (id, message_id, device_id, envelope, state, attempts, next_attempt_at, last_attempt_at, created_at)
        VALUES (4, x'01010101010101010101010101010101', 3, x'cafe', 'held', 3, 900, 800, 30);
    `);
    expect(migrate(db, MIGRATIONS, 2)).toEqual([2]);
    expect(db.get('SELECT hex(message_id) AS m, hex(envelope) AS e FROM outbox WHERE id = 4')).toMatchObject({ m: '01'.repeat(16), e: 'CAFE' });
    expect(db.get('SELECT * FROM outbox WHERE id = 4')).toMatchObject({
      device_id: 3,
      state: 'held',
      attempts: 3,
      next_attempt_at: 900,
      last_attempt_at: 800,
      created_at: 30,
      deposited_at: null,
      deposits: 0,
    });
    db.exec("UPDATE outbox SET state = 'expired', deposited_at = 40, deposits = 2 WHERE id = 4");
    // A deposit count without a first deposit time (or the reverse) is refused.
    expect(() => db.exec('UPDATE outbox SET deposited_at = NULL WHERE id = 4')).toThrow();
    expect(() => db.exec("UPDATE outbox SET state = 'deposited' WHERE id = 4")).toThrow();
    // The indexes came back with the rebuilt table; the cascade from messages still holds.
    const indexes = db.all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' AND sql IS NOT NULL").map((r) => r.name);
    expect(indexes.sort()).toEqual(['outbox_device', 'outbox_due']);
    // Received messages gain the digest of their envelope: none for those received before.
    expect(db.get("SELECT envelope_digest FROM messages WHERE body = 'hello'")).toMatchObject({ envelope_digest: null });
    expect(() => db.exec("UPDATE messages SET envelope_digest = x'00' WHERE body = 'hello'")).toThrow();
    db.exec("UPDATE messages SET envelope_digest = zeroblob(16) WHERE body = 'hello'");
    db.exec("DELETE FROM messages WHERE message_id = x'01010101010101010101010101010101'");
    expect(db.get('SELECT count(*) AS n FROM outbox')?.n).toBe(0);
  });

  it('migration 3 - remembers the base key of every session already stored, and only 32-byte keys', () => {
    migrate(db, MIGRATIONS, 2);
    FIXTURES[1]?.seed(db);
    db.exec(`INSERT INTO sessions (device_id, state, base_key, inbound_tag, outbound_tag, active, created_at, updated_at)
      VALUES (3, x'01', x'${'ab'.repeat(32)}', x'${'01'.repeat(16)}', x'${'02'.repeat(16)}', 1, 123, 124);`);
    expect(migrate(db, MIGRATIONS, 3)).toEqual([3]);
    expect(db.all('SELECT hex(base_key) AS k, seen_at FROM seen_base_keys')).toEqual([{ k: 'AB'.repeat(32), seen_at: 123 }]);
    expect(() => db.exec("INSERT INTO seen_base_keys (base_key, seen_at) VALUES (x'00', 1)")).toThrow();
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
