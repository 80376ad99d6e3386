/**
 * Double Ratchet sessions, stored as the ratchet's own serialization. One active session per
 * device; replaced sessions are kept (inactive, newest first, at most
 * MAX_ARCHIVED_SESSIONS_PER_DEVICE) so an envelope that was in flight when the session
 * changed can still be opened. Routing on receive goes by the envelope's recipient tag.
 *
 * A session's state must be written in the same `store.transaction` as the message it
 * decrypted (ARCHITECTURE.md §6) and, for a prekey message, the one-time prekey it consumed.
 */
import { RECIPIENT_TAG_BYTES } from '../../crypto/envelope';
import { MAX_ARCHIVED_SESSIONS_PER_DEVICE, MAX_SESSION_STATE_BYTES, PUBLIC_KEY_BYTES } from './constants';
import type { Db, Row, SqlValue } from './database';
import { StoreError } from './errors';
import { SecretBytes } from './secret-bytes';
import { bool, bytes, checkBytes, checkId, checkTime, int } from './validate';

export interface Session {
  readonly id: number;
  readonly deviceId: number;
  readonly contactId: number;
  /** The serialized ratchet state. */
  readonly state: SecretBytes;
  readonly baseKey: Uint8Array;
  readonly inboundTag: Uint8Array;
  readonly outboundTag: Uint8Array;
  readonly active: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewSession {
  readonly deviceId: number;
  readonly state: Uint8Array;
  readonly baseKey: Uint8Array;
  readonly inboundTag: Uint8Array;
  readonly outboundTag: Uint8Array;
}

export interface SessionUpdate {
  readonly state: Uint8Array;
  readonly inboundTag?: Uint8Array;
  readonly outboundTag?: Uint8Array;
}

const SELECT = `SELECT s.id, s.device_id, d.contact_id, s.state, s.base_key, s.inbound_tag, s.outbound_tag, s.active,
  s.created_at, s.updated_at FROM sessions s JOIN devices d ON d.id = s.device_id`;

function fromRow(row: Row): Session {
  return {
    id: int(row, 'id'),
    deviceId: int(row, 'device_id'),
    contactId: int(row, 'contact_id'),
    state: new SecretBytes(bytes(row, 'state')),
    baseKey: bytes(row, 'base_key'),
    inboundTag: bytes(row, 'inbound_tag'),
    outboundTag: bytes(row, 'outbound_tag'),
    active: bool(row, 'active'),
    createdAt: int(row, 'created_at'),
    updatedAt: int(row, 'updated_at'),
  };
}

const checkState = (state: unknown): Uint8Array => checkBytes(state, 'session state', 1, MAX_SESSION_STATE_BYTES);
const checkTag = (tag: unknown, field: string): Uint8Array => checkBytes(tag, field, RECIPIENT_TAG_BYTES);

export class SessionRepo {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Stores a new session as the device's active one; the previous active one is archived and
   * the oldest archived ones beyond the cap are deleted. CONFLICT if the inbound tag is taken.
   */
  create(input: NewSession, now: number = this.#now()): Session {
    const deviceId = checkId(input.deviceId, 'device id');
    const state = checkState(input.state);
    const baseKey = checkBytes(input.baseKey, 'base key', PUBLIC_KEY_BYTES);
    const inboundTag = checkTag(input.inboundTag, 'inbound tag');
    const outboundTag = checkTag(input.outboundTag, 'outbound tag');
    checkTime(now, 'now');
    return this.#db.transaction(() => {
      this.#db.run('UPDATE sessions SET active = 0 WHERE device_id = ? AND active = 1', [deviceId]);
      const inserted = this.#db.get(
        `INSERT INTO sessions (device_id, state, base_key, inbound_tag, outbound_tag, active, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
        [deviceId, state, baseKey, inboundTag, outboundTag, now, now],
      );
      const id = int(inserted as Row, 'id');
      // Remembered beyond the session's own life: a replayed first message must not start it again.
      this.#db.run('INSERT OR IGNORE INTO seen_base_keys (base_key, seen_at) VALUES (?, ?)', [baseKey, now]);
      this.#db.run(
        `DELETE FROM sessions WHERE device_id = ? AND active = 0 AND id NOT IN (
           SELECT id FROM sessions WHERE device_id = ? AND active = 0 ORDER BY updated_at DESC, id DESC LIMIT ?)`,
        [deviceId, deviceId, MAX_ARCHIVED_SESSIONS_PER_DEVICE],
      );
      return this.#require(id);
    });
  }

  /** Writes the advanced ratchet state (and new tags, if the ratchet rotated them). */
  update(id: number, update: SessionUpdate, now: number = this.#now()): void {
    checkId(id, 'session id');
    checkTime(now, 'now');
    const sets = ['state = ?', 'updated_at = ?'];
    const params: SqlValue[] = [checkState(update.state), now];
    if (update.inboundTag !== undefined) {
      sets.push('inbound_tag = ?');
      params.push(checkTag(update.inboundTag, 'inbound tag'));
    }
    if (update.outboundTag !== undefined) {
      sets.push('outbound_tag = ?');
      params.push(checkTag(update.outboundTag, 'outbound tag'));
    }
    params.push(id);
    if (this.#db.run(`UPDATE sessions SET ${sets.join(', ')} WHERE id = ?`, params) === 0) {
      throw new StoreError('NOT_FOUND', 'session');
    }
  }

  get(id: number): Session | undefined {
    checkId(id, 'session id');
    const row = this.#db.get(`${SELECT} WHERE s.id = ?`, [id]);
    return row && fromRow(row);
  }

  #require(id: number): Session {
    const session = this.get(id);
    if (!session) throw new StoreError('NOT_FOUND', 'session');
    return session;
  }

  /** The session (active or archived) an incoming envelope's recipient tag belongs to. */
  getByInboundTag(tag: Uint8Array): Session | undefined {
    checkTag(tag, 'inbound tag');
    const row = this.#db.get(`${SELECT} WHERE s.inbound_tag = ?`, [tag]);
    return row && fromRow(row);
  }

  getActiveForDevice(deviceId: number): Session | undefined {
    checkId(deviceId, 'device id');
    const row = this.#db.get(`${SELECT} WHERE s.device_id = ? AND s.active = 1`, [deviceId]);
    return row && fromRow(row);
  }

  /** The active sessions with each of a contact's devices. */
  listActiveForContact(contactId: number): Session[] {
    checkId(contactId, 'contact id');
    return this.#db.all(`${SELECT} WHERE d.contact_id = ? AND s.active = 1 ORDER BY s.device_id`, [contactId]).map(fromRow);
  }

  /** A session with this device started from this X3DH base key (a retransmitted first message). */
  getByBaseKey(deviceId: number, baseKey: Uint8Array): Session | undefined {
    checkId(deviceId, 'device id');
    checkBytes(baseKey, 'base key', PUBLIC_KEY_BYTES);
    const row = this.#db.get(`${SELECT} WHERE s.device_id = ? AND s.base_key = ? ORDER BY s.id DESC LIMIT 1`, [deviceId, baseKey]);
    return row && fromRow(row);
  }

  /**
   * A session was once started from this X3DH base key, even if it has since been archived
   * away or its contact removed: a first message carrying it again is a replay.
   */
  baseKeySeen(baseKey: Uint8Array): boolean {
    checkBytes(baseKey, 'base key', PUBLIC_KEY_BYTES);
    return this.#db.get('SELECT 1 AS seen FROM seen_base_keys WHERE base_key = ?', [baseKey]) !== undefined;
  }

  /** Forgets base keys seen before `before`: their signed prekeys are deleted, so no replay can open. */
  forgetBaseKeysBefore(before: number): number {
    checkTime(before, 'before');
    return this.#db.run('DELETE FROM seen_base_keys WHERE seen_at < ?', [before]);
  }

  /** Archives every session with the contact's devices (identity key changed, contact reset). */
  deactivateForContact(contactId: number): number {
    checkId(contactId, 'contact id');
    return this.#db.run(
      'UPDATE sessions SET active = 0 WHERE active = 1 AND device_id IN (SELECT id FROM devices WHERE contact_id = ?)',
      [contactId],
    );
  }

  remove(id: number): boolean {
    checkId(id, 'session id');
    return this.#db.run('DELETE FROM sessions WHERE id = ?', [id]) > 0;
  }
}
