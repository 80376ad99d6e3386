/**
 * The outbox (ARCHITECTURE.md §6): each sealed envelope waits here, per recipient device,
 * until that device acknowledges it. A retry resends the stored bytes; nothing is encrypted
 * twice. Items for a contact whose identity key changed, or who is blocked, are `held`: kept
 * but never due, until released.
 *
 * Deposited items (issue 5: a relay may acknowledge a deposit and lose it) stay until the
 * device's end-to-end delivery receipt removes them: `depositedAt` is set, `nextAttemptAt` is
 * when to deposit again. One that never gets a receipt is `expired`: kept for Retry, never due.
 */
import { MAX_ENVELOPE_BYTES } from '../../crypto/envelope';
import { MAX_BATCH } from './constants';
import type { Db, Row } from './database';
import { checkMessageId } from './message-repo';
import { bytes, checkBytes, checkId, checkLimit, checkTime, int, oneOf, optInt } from './validate';

export const OUTBOX_STATES = ['pending', 'held', 'expired'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

export interface OutboxItem {
  readonly id: number;
  readonly messageId: Uint8Array;
  readonly deviceId: number;
  /** The exact sealed envelope to (re)send. */
  readonly envelope: Uint8Array;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastAttemptAt: number | undefined;
  readonly createdAt: number;
  /** First accepted mailbox deposit; undefined if never deposited. */
  readonly depositedAt: number | undefined;
  /** Accepted mailbox deposits so far (each on up to MAILBOX_COPIES relays). */
  readonly deposits: number;
}

export interface NewOutboxItem {
  readonly messageId: Uint8Array;
  readonly deviceId: number;
  readonly envelope: Uint8Array;
  /** First attempt; default now. */
  readonly nextAttemptAt?: number;
}

const COLUMNS = 'id, message_id, device_id, envelope, state, attempts, next_attempt_at, last_attempt_at, created_at, deposited_at, deposits';

function fromRow(row: Row): OutboxItem {
  return {
    id: int(row, 'id'),
    messageId: bytes(row, 'message_id'),
    deviceId: int(row, 'device_id'),
    envelope: bytes(row, 'envelope'),
    state: oneOf(row, 'state', OUTBOX_STATES),
    attempts: int(row, 'attempts'),
    nextAttemptAt: int(row, 'next_attempt_at'),
    lastAttemptAt: optInt(row, 'last_attempt_at'),
    createdAt: int(row, 'created_at'),
    depositedAt: optInt(row, 'deposited_at'),
    deposits: int(row, 'deposits'),
  };
}

/** A device whose contact is blocked or has an unaccepted identity key must not be sent to. */
const HOLD_CONDITION = `(SELECT c.blocked = 1 OR c.pending_identity_key IS NOT NULL
  FROM devices d JOIN contacts c ON c.id = d.contact_id WHERE d.id = ?)`;
/** The same, for the device of the outbox row being updated. */
const ROW_HOLD_CONDITION = HOLD_CONDITION.replace('d.id = ?', 'd.id = outbox.device_id');

export class OutboxRepo {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** Queues an envelope for a device; held at once if its contact may not be sent to. */
  enqueue(item: NewOutboxItem, now: number = this.#now()): OutboxItem {
    const messageId = checkMessageId(item.messageId);
    const deviceId = checkId(item.deviceId, 'device id');
    const envelope = checkBytes(item.envelope, 'envelope', 1, MAX_ENVELOPE_BYTES);
    checkTime(now, 'now');
    const nextAttemptAt = checkTime(item.nextAttemptAt ?? now, 'next attempt at');
    const row = this.#db.get(
      `INSERT INTO outbox (message_id, device_id, envelope, state, next_attempt_at, created_at)
       VALUES (?, ?, ?, CASE WHEN coalesce(${HOLD_CONDITION}, 0) THEN 'held' ELSE 'pending' END, ?, ?)
       RETURNING ${COLUMNS}`,
      [messageId, deviceId, envelope, deviceId, nextAttemptAt, now],
    );
    return fromRow(row as Row);
  }

  get(id: number): OutboxItem | undefined {
    checkId(id, 'outbox id');
    const row = this.#db.get(`SELECT ${COLUMNS} FROM outbox WHERE id = ?`, [id]);
    return row && fromRow(row);
  }

  /** Pending items whose next attempt is due, earliest first. */
  due(now: number = this.#now(), options: { limit?: number } = {}): OutboxItem[] {
    checkTime(now, 'now');
    const limit = checkLimit(options.limit, MAX_BATCH, MAX_BATCH);
    return this.#db
      .all(`SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, [
        now,
        limit,
      ])
      .map(fromRow);
  }

  /**
   * Every pending item for a device in the order it was queued, due or not, deposited or not:
   * what to flush when the device becomes reachable again. `afterId` continues a walk through
   * the queue past the items already handled.
   */
  pendingForDevice(deviceId: number, options: { limit?: number; afterId?: number } = {}): OutboxItem[] {
    checkId(deviceId, 'device id');
    const limit = checkLimit(options.limit, MAX_BATCH, MAX_BATCH);
    const afterId = options.afterId === undefined ? 0 : checkId(options.afterId, 'after id');
    return this.#db
      .all(`SELECT ${COLUMNS} FROM outbox WHERE device_id = ? AND state = 'pending' AND id > ? ORDER BY id LIMIT ?`, [deviceId, afterId, limit])
      .map(fromRow);
  }

  /** The earliest pending next attempt (to arm one timer), or undefined when nothing waits. */
  nextAttemptAt(): number | undefined {
    const row = this.#db.get("SELECT min(next_attempt_at) AS t FROM outbox WHERE state = 'pending'");
    return row && optInt(row, 't');
  }

  /** Records a failed or unacknowledged attempt and when to try again. */
  /**
   * Records a failed attempt. False if the item is gone: a receipt may have ended it while
   * the attempt was in flight, which is not an error for the rest of the batch.
   */
  markAttempt(id: number, nextAttemptAt: number, now: number = this.#now()): boolean {
    checkId(id, 'outbox id');
    checkTime(nextAttemptAt, 'next attempt at');
    checkTime(now, 'now');
    const changed = this.#db.run(
      'UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ? WHERE id = ?',
      [now, nextAttemptAt, id],
    );
    return changed > 0;
  }

  /**
   * A relay accepted the envelope into the device's mailbox: kept until the delivery receipt,
   * deposited again at `nextAttemptAt` if none came. The first deposit's time is kept. False
   * if the item is no longer pending (its receipt came meanwhile, or its contact was blocked).
   */
  markDeposited(id: number, nextAttemptAt: number, now: number = this.#now()): boolean {
    checkId(id, 'outbox id');
    checkTime(nextAttemptAt, 'next attempt at');
    checkTime(now, 'now');
    const changed = this.#db.run(
      `UPDATE outbox SET deposits = deposits + 1, deposited_at = coalesce(deposited_at, ?), last_attempt_at = ?, next_attempt_at = ?
       WHERE id = ? AND state = 'pending'`,
      [now, now, nextAttemptAt, id],
    );
    return changed > 0;
  }

  /** No receipt came in time: keep the envelope for Retry, never due. False if it was not pending. */
  expire(id: number): boolean {
    checkId(id, 'outbox id');
    return this.#db.run("UPDATE outbox SET state = 'expired' WHERE id = ? AND state = 'pending'", [id]) > 0;
  }

  /**
   * Retry of an expired message: its envelopes start over (no deposit yet, first attempt at
   * `now`), held if the contact may not be sent to. Returns how many were re-armed.
   */
  rearm(messageId: Uint8Array, now: number = this.#now()): number {
    const id = checkMessageId(messageId);
    checkTime(now, 'now');
    return this.#db.run(
      `UPDATE outbox SET state = CASE WHEN coalesce(${ROW_HOLD_CONDITION}, 0) THEN 'held' ELSE 'pending' END,
         attempts = 0, deposits = 0, deposited_at = NULL, next_attempt_at = ?, created_at = ?
       WHERE message_id = ? AND state = 'expired'`,
      [now, now, id],
    );
  }

  /** The device acknowledged the message: forget the envelope. False if it was already gone. */
  acknowledge(messageId: Uint8Array, deviceId: number): boolean {
    const id = checkMessageId(messageId);
    checkId(deviceId, 'device id');
    return this.#db.run('DELETE FROM outbox WHERE message_id = ? AND device_id = ?', [id, deviceId]) > 0;
  }

  remove(id: number): boolean {
    checkId(id, 'outbox id');
    return this.#db.run('DELETE FROM outbox WHERE id = ?', [id]) > 0;
  }

  /** Holds every item for the contact's devices (identity key changed, contact blocked). */
  holdForContact(contactId: number): number {
    checkId(contactId, 'contact id');
    return this.#db.run(
      "UPDATE outbox SET state = 'held' WHERE state = 'pending' AND device_id IN (SELECT id FROM devices WHERE contact_id = ?)",
      [contactId],
    );
  }

  /** Releases held items for the contact's devices, due at `now`; still held if the contact still may not be sent to. */
  releaseForContact(contactId: number, now: number = this.#now()): number {
    checkId(contactId, 'contact id');
    checkTime(now, 'now');
    return this.#db.run(
      `UPDATE outbox SET state = 'pending', next_attempt_at = ?
       WHERE state = 'held' AND device_id IN (
         SELECT d.id FROM devices d JOIN contacts c ON c.id = d.contact_id
         WHERE c.id = ? AND c.blocked = 0 AND c.pending_identity_key IS NULL)`,
      [now, contactId],
    );
  }

  count(state?: OutboxState): number {
    const row = state
      ? this.#db.get('SELECT count(*) AS n FROM outbox WHERE state = ?', [state])
      : this.#db.get('SELECT count(*) AS n FROM outbox');
    return int(row as Row, 'n');
  }
}
