/**
 * Schema migrations: an ordered list in code, each applied in its own transaction together
 * with `PRAGMA user_version = <its version>`, so a crash or an error leaves the database at the
 * previous version, never half-migrated. A database newer than this build is refused
 * (UNSUPPORTED_VERSION) rather than written with an older idea of the schema.
 *
 * Rules for adding one: append, never edit a released migration; give it the next version;
 * add a test in migrations.test.ts that applies it on an empty database and on a database at
 * the previous version holding data, and checks the data survived.
 */
import type { Db } from './database';
import { StoreError } from './errors';

export interface Migration {
  readonly version: number;
  /** A short name for tests and review; never shown to users. */
  readonly name: string;
  readonly up: (db: Db) => void;
}

/**
 * Version 1: everything issue 3 needs. Conventions: STRICT tables (a wrong type is an error,
 * not a silent conversion); BLOB for bytes; INTEGER milliseconds since the epoch for time;
 * booleans as 0/1 with a CHECK; enumerations as TEXT with a CHECK listing the values.
 */
const SCHEMA_V1 = `
-- The user's identity: one row. key_pair is the serialized Ed25519 key pair
-- (crypto serializeIdentity: version ‖ seed); public_key is kept beside it for lookups.
CREATE TABLE identity (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  key_pair     BLOB    NOT NULL,
  public_key   BLOB    NOT NULL CHECK (length(public_key) = 32),
  display_name TEXT    NOT NULL,
  created_at   INTEGER NOT NULL
) STRICT;

-- Monotonic counters (prekey ids): an id is never handed out twice, even after its row is gone.
CREATE TABLE counters (
  name  TEXT    PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Signed prekeys: the current one (retired_at NULL) and rotated-out ones kept for a grace period.
CREATE TABLE signed_prekeys (
  id         INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 4294967295),
  key_pair   BLOB    NOT NULL,
  public_key BLOB    NOT NULL CHECK (length(public_key) = 32),
  signature  BLOB    NOT NULL CHECK (length(signature) = 64),
  created_at INTEGER NOT NULL,
  retired_at INTEGER
) STRICT;
-- At most one current signed prekey.
CREATE UNIQUE INDEX signed_prekeys_current ON signed_prekeys ((retired_at IS NULL)) WHERE retired_at IS NULL;

-- One-time prekeys. handed_out_at: put in a bundle given to a peer (each bundle gets a fresh one).
-- A row is deleted in the same transaction as the session it starts (never on a failed handshake).
CREATE TABLE one_time_prekeys (
  id            INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 4294967295),
  key_pair      BLOB    NOT NULL,
  public_key    BLOB    NOT NULL CHECK (length(public_key) = 32),
  created_at    INTEGER NOT NULL,
  handed_out_at INTEGER
) STRICT;
CREATE INDEX one_time_prekeys_fresh ON one_time_prekeys (id) WHERE handed_out_at IS NULL;

-- Contacts. request_state follows the contact request; pending_identity_key is set when a known
-- contact shows up with another identity key: sending stops until the user accepts it.
CREATE TABLE contacts (
  id                   INTEGER PRIMARY KEY,
  identity_key         BLOB    NOT NULL UNIQUE CHECK (length(identity_key) = 32),
  display_name         TEXT    NOT NULL,
  request_state        TEXT    NOT NULL CHECK (request_state IN ('outgoing', 'incoming', 'accepted', 'declined')),
  verified             INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
  blocked              INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
  pending_identity_key BLOB    CHECK (pending_identity_key IS NULL OR length(pending_identity_key) = 32),
  key_changed_at       INTEGER CHECK ((pending_identity_key IS NULL) = (key_changed_at IS NULL)),
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
) STRICT;

-- A contact's devices (libp2p PeerIds) with the signed card that binds each to the identity.
-- card_created_at (from the signed record) only moves forward: an old card cannot be replayed.
CREATE TABLE devices (
  id              INTEGER PRIMARY KEY,
  contact_id      INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  peer_id         TEXT    NOT NULL UNIQUE,
  card            BLOB    NOT NULL,
  card_created_at INTEGER NOT NULL,
  addresses       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(addresses) AND json_type(addresses) = 'array'),
  last_seen_at    INTEGER,
  created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX devices_contact ON devices (contact_id);

-- Double Ratchet sessions, one active per device plus a few archived ones for late messages.
-- base_key: the X3DH ephemeral (base) key, to recognise a retransmitted or simultaneous start.
-- inbound_tag: the recipient tag on envelopes sealed to us in this session (routing on receive).
CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY,
  device_id    INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  state        BLOB    NOT NULL,
  base_key     BLOB    NOT NULL CHECK (length(base_key) = 32),
  inbound_tag  BLOB    NOT NULL UNIQUE,
  outbound_tag BLOB    NOT NULL,
  active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX sessions_one_active ON sessions (device_id) WHERE active = 1;
CREATE INDEX sessions_device ON sessions (device_id, updated_at);

-- One conversation per contact. next_send_seq numbers our messages in it (order per sender).
CREATE TABLE conversations (
  id               INTEGER PRIMARY KEY,
  contact_id       INTEGER NOT NULL UNIQUE REFERENCES contacts (id) ON DELETE CASCADE,
  last_activity_at INTEGER NOT NULL,
  unread_count     INTEGER NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
  draft            TEXT,
  next_send_seq    INTEGER NOT NULL DEFAULT 1 CHECK (next_send_seq >= 1),
  created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_activity ON conversations (last_activity_at, id);

-- Messages, in both directions. Receipts are messages too (kind), so they are deduplicated,
-- queued and retried like text. message_id is the sender's random 128-bit id: the dedup key.
-- sent_at is the sender's clock, received_at ours. state: outbound queued → sent → delivered
-- → read (or failed); inbound delivered → read. path: how it travelled.
CREATE TABLE messages (
  message_id       BLOB    PRIMARY KEY NOT NULL CHECK (length(message_id) = 16),
  conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  kind             TEXT    NOT NULL CHECK (kind IN ('text', 'delivery_receipt', 'read_receipt')),
  direction        TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
  sender_device_id INTEGER REFERENCES devices (id) ON DELETE SET NULL,
  sender_seq       INTEGER CHECK (sender_seq IS NULL OR sender_seq >= 1),
  body             TEXT,
  refs             BLOB,
  sent_at          INTEGER NOT NULL,
  received_at      INTEGER,
  state            TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'read', 'failed')),
  path             TEXT    CHECK (path IN ('lan', 'direct', 'relayed', 'mailbox')),
  state_changed_at INTEGER NOT NULL,
  CHECK ((kind = 'text') = (body IS NOT NULL)),
  CHECK ((kind = 'text') = (refs IS NULL)),
  CHECK (refs IS NULL OR (length(refs) > 0 AND length(refs) % 16 = 0)),
  CHECK (kind <> 'text' OR sender_seq IS NOT NULL),
  CHECK ((direction = 'in') = (received_at IS NOT NULL)),
  CHECK (direction = 'out' OR state IN ('delivered', 'read'))
) STRICT;
-- Keyset pagination of the timeline, newest first, and the list preview.
CREATE INDEX messages_timeline ON messages (conversation_id, sent_at, message_id) WHERE kind = 'text';
CREATE INDEX messages_unread ON messages (conversation_id) WHERE direction = 'in' AND kind = 'text' AND state = 'delivered';
CREATE INDEX messages_sender ON messages (sender_device_id);

-- Envelopes waiting for an acknowledgement. envelope is the exact sealed ciphertext: a retry
-- resends these bytes, never re-encrypts (a message key is used once). held: not sent while
-- the contact's identity key change is unaccepted or the contact is blocked.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  message_id      BLOB    NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
  device_id       INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  envelope        BLOB    NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'held')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  created_at      INTEGER NOT NULL,
  UNIQUE (message_id, device_id)
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_device ON outbox (device_id, id);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`;

/**
 * Version 2 (issue 5, a relay that acknowledges a deposit and then loses it): a deposited
 * envelope stays in the outbox until the recipient's delivery receipt arrives, so it can be
 * resent directly or deposited again. deposited_at: the first accepted deposit (NULL: never
 * deposited); deposits: how many were accepted; state 'expired': given up on after the mailbox
 * TTL with no receipt, the message shown failed, the envelope kept for Retry. SQLite cannot
 * change a CHECK in place, so the table is rebuilt (nothing references it). And the receiving
 * side: messages.envelope_digest, so a resent copy of a message is receipted again.
 */
const SCHEMA_V2_OUTBOX_DEPOSITS = `
CREATE TABLE outbox_v2 (
  id              INTEGER PRIMARY KEY,
  message_id      BLOB    NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
  device_id       INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  envelope        BLOB    NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'held', 'expired')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  created_at      INTEGER NOT NULL,
  deposited_at    INTEGER,
  deposits        INTEGER NOT NULL DEFAULT 0 CHECK (deposits >= 0),
  CHECK ((deposited_at IS NULL) = (deposits = 0)),
  UNIQUE (message_id, device_id)
) STRICT;
INSERT INTO outbox_v2 (id, message_id, device_id, envelope, state, attempts, next_attempt_at, last_attempt_at, created_at)
  SELECT id, message_id, device_id, envelope, state, attempts, next_attempt_at, last_attempt_at, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_device ON outbox (device_id, id);

-- The digest of the envelope that brought an incoming message: a resent or re-deposited copy,
-- which the ratchet refuses as a duplicate, is found by it and receipted again.
ALTER TABLE messages ADD COLUMN envelope_digest BLOB CHECK (envelope_digest IS NULL OR length(envelope_digest) = 16);
CREATE INDEX messages_envelope ON messages (envelope_digest) WHERE envelope_digest IS NOT NULL;
`;

/**
 * Version 3: every X3DH base key a session was ever started from, kept as long as a prekey
 * message could still be opened (signed prekey lifetime + grace; pruned by prekey
 * maintenance). Sessions are archived and pruned sooner, so without this a relay that kept an
 * old first message could serve it again and make a long-replaced session the active one.
 */
const SCHEMA_V3_SEEN_BASE_KEYS = `
CREATE TABLE seen_base_keys (
  base_key BLOB    PRIMARY KEY CHECK (length(base_key) = 32),
  seen_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX seen_base_keys_age ON seen_base_keys (seen_at);
INSERT OR IGNORE INTO seen_base_keys (base_key, seen_at) SELECT base_key, created_at FROM sessions;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', up: (db) => db.exec(SCHEMA_V1) },
  { version: 2, name: 'outbox keeps deposited envelopes', up: (db) => db.exec(SCHEMA_V2_OUTBOX_DEPOSITS) },
  { version: 3, name: 'seen X3DH base keys', up: (db) => db.exec(SCHEMA_V3_SEEN_BASE_KEYS) },
];

export const LATEST_VERSION = MIGRATIONS.length === 0 ? 0 : (MIGRATIONS[MIGRATIONS.length - 1] as Migration).version;

export function schemaVersion(db: Db): number {
  const v = db.pragma('user_version');
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new StoreError('CORRUPT', 'schema version');
  return v;
}

/**
 * Brings the database up to `target` (default: the latest). Returns the versions applied.
 * `migrations` is a parameter so tests can run a prefix or a list with a failing step.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS, target?: number): number[] {
  checkOrder(migrations);
  const latest = migrations.length === 0 ? 0 : (migrations[migrations.length - 1] as Migration).version;
  const goal = target ?? latest;
  const current = schemaVersion(db);
  if (current > latest) throw new StoreError('UNSUPPORTED_VERSION', 'database schema');
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current || m.version > goal) continue;
    try {
      db.transaction(() => {
        m.up(db);
        // user_version lives in the database header, inside the same transaction.
        db.exec(`PRAGMA user_version = ${m.version}`);
      });
    } catch {
      throw new StoreError('MIGRATION_FAILED', `migration ${m.version}`);
    }
    applied.push(m.version);
  }
  // A migration must not leave rows that break a foreign key (SQLite does not check those
  // made by ALTER or table rebuilds).
  if (applied.length > 0 && db.all('PRAGMA foreign_key_check').length > 0) {
    throw new StoreError('MIGRATION_FAILED', 'foreign key check');
  }
  return applied;
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error('migrations must be numbered 1, 2, 3… in order');
  });
}
