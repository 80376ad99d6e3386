/**
 * Messages in both directions, receipts included (ARCHITECTURE.md §6).
 *
 * - Dedup: the sender's random 128-bit id is the primary key; `insertIncoming` inserts only if
 *   absent and says whether the message was new (a retransmission is acknowledged, not stored
 *   twice).
 * - Order per sender: every text message carries the sender's per-conversation sequence
 *   number; ours comes from the conversation's counter, in the insert's transaction.
 * - State only moves forward: queued → sent → delivered → read, failed from queued or sent,
 *   and a failed message that turns out delivered or read says so. Never backward: a late
 *   "sent" after "read" changes nothing.
 * - Pages: keyset pagination by (sent_at, message_id), newest first, bounded page size.
 */
import {
  DEFAULT_PAGE_SIZE,
  MAX_BODY_BYTES,
  MAX_PAGE_SIZE,
  MAX_RECEIPT_REFS,
  MESSAGE_ID_BYTES,
} from './constants';
import type { Db, Row, SqlValue } from './database';
import { StoreError } from './errors';
import {
  MESSAGE_KINDS,
  DIRECTIONS,
  MESSAGE_STATES,
  PATHS,
  type IncomingMessage,
  type Message,
  type MessageContent,
  type MessageCursor,
  type MessagePage,
  type MessagePath,
  type MessageState,
  type OutgoingMessage,
  type ReadMessage,
} from './message-types';
import {
  bytes,
  checkBytes,
  checkId,
  checkIntRange,
  checkLimit,
  checkOneOf,
  checkText,
  checkTime,
  int,
  oneOf,
  optBytes,
  optInt,
  optText,
} from './validate';

/** The states an outgoing message may be in before moving to each state. */
const PREDECESSORS: Readonly<Record<MessageState, readonly MessageState[]>> = {
  queued: [],
  sent: ['queued'],
  delivered: ['queued', 'sent', 'failed'],
  read: ['queued', 'sent', 'delivered', 'failed'],
  failed: ['queued', 'sent'],
};

/** Sender sequence numbers: positive, and below 2^53 so they stay exact in JS. */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;
/** Digest of a received envelope (core/messaging/envelope-digest.ts; the schema checks 16 too). */
const ENVELOPE_DIGEST_BYTES = 16;

const COLUMNS =
  'message_id, conversation_id, kind, direction, sender_device_id, sender_seq, body, refs, sent_at, received_at, state, path, state_changed_at';

function splitRefs(refs: Uint8Array | undefined): Uint8Array[] | undefined {
  if (!refs) return undefined;
  const out: Uint8Array[] = [];
  for (let i = 0; i + MESSAGE_ID_BYTES <= refs.length; i += MESSAGE_ID_BYTES) out.push(refs.slice(i, i + MESSAGE_ID_BYTES));
  return out;
}

function fromRow(row: Row): Message {
  return {
    messageId: bytes(row, 'message_id'),
    conversationId: int(row, 'conversation_id'),
    kind: oneOf(row, 'kind', MESSAGE_KINDS),
    direction: oneOf(row, 'direction', DIRECTIONS),
    senderDeviceId: optInt(row, 'sender_device_id'),
    senderSeq: optInt(row, 'sender_seq'),
    body: optText(row, 'body'),
    refs: splitRefs(optBytes(row, 'refs')),
    sentAt: int(row, 'sent_at'),
    receivedAt: optInt(row, 'received_at'),
    state: oneOf(row, 'state', MESSAGE_STATES),
    path: optText(row, 'path') === undefined ? undefined : oneOf(row, 'path', PATHS),
    stateChangedAt: int(row, 'state_changed_at'),
  };
}

export const checkMessageId = (id: unknown): Uint8Array => checkBytes(id, 'message id', MESSAGE_ID_BYTES);

/** Body for text, concatenated ids for receipts; the other one null. */
function checkContent(content: MessageContent): { body: string | null; refs: Uint8Array | null } {
  const kind = checkOneOf(content.kind, MESSAGE_KINDS, 'kind');
  if (kind === 'text') {
    if (content.refs !== undefined) throw new StoreError('INVALID_INPUT', 'refs on a text message');
    return { body: checkText(content.body, 'body', MAX_BODY_BYTES), refs: null };
  }
  if (content.body !== undefined) throw new StoreError('INVALID_INPUT', 'body on a receipt');
  const refs = content.refs;
  if (!Array.isArray(refs) || refs.length === 0 || refs.length > MAX_RECEIPT_REFS) throw new StoreError('INVALID_INPUT', 'refs');
  const joined = new Uint8Array(refs.length * MESSAGE_ID_BYTES);
  refs.forEach((ref, i) => joined.set(checkMessageId(ref), i * MESSAGE_ID_BYTES));
  return { body: null, refs: joined };
}

function checkCursor(cursor: MessageCursor): [number, Uint8Array] {
  return [checkTime(cursor.sentAt, 'cursor sent at'), checkMessageId(cursor.messageId)];
}

export class MessageRepo {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Stores a received message unless one with its id exists. Returns true if it was new. Call
   * inside the receive transaction (with the session update), and acknowledge after commit.
   * The sender device must belong to the conversation's contact.
   */
  insertIncoming(message: IncomingMessage): boolean {
    const messageId = checkMessageId(message.messageId);
    const conversationId = checkId(message.conversationId, 'conversation id');
    const senderDeviceId = checkId(message.senderDeviceId, 'sender device id');
    const { body, refs } = checkContent(message);
    const senderSeq = message.kind === 'text' ? checkIntRange(message.senderSeq, 1, MAX_SEQ, 'sender seq') : null;
    const sentAt = checkTime(message.sentAt, 'sent at');
    const receivedAt = checkTime(message.receivedAt, 'received at');
    const path = checkOneOf(message.path, PATHS, 'path');
    const digest = message.envelopeDigest === undefined ? null : checkBytes(message.envelopeDigest, 'envelope digest', ENVELOPE_DIGEST_BYTES);
    return this.#db.transaction(() => {
      const member = this.#db.get(
        'SELECT 1 AS ok FROM conversations c JOIN devices d ON d.contact_id = c.contact_id WHERE c.id = ? AND d.id = ?',
        [conversationId, senderDeviceId],
      );
      if (!member) throw new StoreError('NOT_FOUND', 'sender device in this conversation');
      const inserted = this.#db.run(
        `INSERT INTO messages (message_id, conversation_id, kind, direction, sender_device_id, sender_seq, body, refs,
           sent_at, received_at, state, path, state_changed_at, envelope_digest)
         VALUES (?, ?, ?, 'in', ?, ?, ?, ?, ?, ?, 'delivered', ?, ?, ?)
         ON CONFLICT (message_id) DO NOTHING`,
        [messageId, conversationId, message.kind, senderDeviceId, senderSeq, body, refs, sentAt, receivedAt, path, receivedAt, digest],
      );
      if (inserted === 0) return false;
      if (message.kind === 'text') {
        // Our clock, not the sender's: a peer with a clock in the future cannot pin its
        // conversation to the top of the list.
        this.#db.run(
          'UPDATE conversations SET last_activity_at = max(last_activity_at, ?), unread_count = unread_count + 1 WHERE id = ?',
          [receivedAt, conversationId],
        );
      }
      return true;
    });
  }

  /**
   * Stores a message we are sending, state queued. Text messages get the next sender
   * sequence number of the conversation. Enqueue its envelope in the same transaction.
   */
  insertOutgoing(message: OutgoingMessage): Message {
    const messageId = checkMessageId(message.messageId);
    const conversationId = checkId(message.conversationId, 'conversation id');
    const { body, refs } = checkContent(message);
    const sentAt = checkTime(message.sentAt, 'sent at');
    return this.#db.transaction(() => {
      let seq: number | null = null;
      if (message.kind === 'text') {
        const row = this.#db.get(
          `UPDATE conversations SET next_send_seq = next_send_seq + 1, last_activity_at = max(last_activity_at, ?)
           WHERE id = ? RETURNING next_send_seq - 1 AS seq`,
          [sentAt, conversationId],
        );
        if (!row) throw new StoreError('NOT_FOUND', 'conversation');
        seq = int(row, 'seq');
      }
      const row = this.#db.get(
        `INSERT INTO messages (message_id, conversation_id, kind, direction, sender_seq, body, refs, sent_at, state, state_changed_at)
         VALUES (?, ?, ?, 'out', ?, ?, ?, ?, 'queued', ?) RETURNING ${COLUMNS}`,
        [messageId, conversationId, message.kind, seq, body, refs, sentAt, sentAt],
      );
      return fromRow(row as Row);
    });
  }

  /** The newest sent_at of our own text messages in a conversation (0 if none). */
  lastOutgoingSentAt(conversationId: number): number {
    checkId(conversationId, 'conversation id');
    const row = this.#db.get(
      "SELECT coalesce(max(sent_at), 0) AS t FROM messages WHERE conversation_id = ? AND direction = 'out' AND kind = 'text'",
      [conversationId],
    );
    return row ? int(row, 't') : 0;
  }

  get(messageId: Uint8Array): Message | undefined {
    const row = this.#db.get(`SELECT ${COLUMNS} FROM messages WHERE message_id = ?`, [checkMessageId(messageId)]);
    return row && fromRow(row);
  }

  has(messageId: Uint8Array): boolean {
    return this.#db.get('SELECT 1 AS ok FROM messages WHERE message_id = ?', [checkMessageId(messageId)]) !== undefined;
  }

  /** Text messages of a conversation, newest first, strictly before `before` when given. */
  page(conversationId: number, options: { before?: MessageCursor; limit?: number } = {}): MessagePage {
    checkId(conversationId, 'conversation id');
    const limit = checkLimit(options.limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const rows = options.before
      ? this.#db.all(
          `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND kind = 'text' AND (sent_at, message_id) < (?, ?)
           ORDER BY sent_at DESC, message_id DESC LIMIT ?`,
          [conversationId, ...checkCursor(options.before), limit],
        )
      : this.#db.all(
          `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND kind = 'text'
           ORDER BY sent_at DESC, message_id DESC LIMIT ?`,
          [conversationId, limit],
        );
    const messages = rows.map(fromRow);
    const last = messages[messages.length - 1];
    return { messages, next: messages.length === limit && last ? { sentAt: last.sentAt, messageId: last.messageId } : undefined };
  }

  /**
   * Moves one of our messages forward to `state` (and records the path it took, if given).
   * Returns false when the message is already there or further on, or is not ours.
   */
  updateState(messageId: Uint8Array, state: MessageState, options: { path?: MessagePath; now?: number } = {}): boolean {
    const id = checkMessageId(messageId);
    const target = checkOneOf(state, MESSAGE_STATES, 'state');
    const path = options.path === undefined ? null : checkOneOf(options.path, PATHS, 'path');
    const now = checkTime(options.now ?? this.#now(), 'now');
    const from = PREDECESSORS[target];
    if (from.length === 0) return false;
    return (
      this.#db.run(
        `UPDATE messages SET state = ?, path = coalesce(?, path), state_changed_at = ?
         WHERE message_id = ? AND direction = 'out' AND state IN (${from.map(() => '?').join(', ')})`,
        [target, path, now, id, ...from],
      ) > 0
    );
  }

  /** The incoming text message in `conversationId` that an envelope with this digest brought, if any. */
  incomingByEnvelopeDigest(conversationId: number, digest: Uint8Array): Uint8Array | undefined {
    checkId(conversationId, 'conversation id');
    const d = checkBytes(digest, 'envelope digest', ENVELOPE_DIGEST_BYTES);
    const row = this.#db.get(
      "SELECT message_id FROM messages WHERE envelope_digest = ? AND conversation_id = ? AND direction = 'in' AND kind = 'text'",
      [d, conversationId],
    );
    return row && bytes(row, 'message_id');
  }

  /**
   * Whether a delivery receipt of ours naming `messageId` still waits in the outbox: then a
   * resent copy of that message needs no second receipt.
   */
  receiptPending(conversationId: number, messageId: Uint8Array): boolean {
    checkId(conversationId, 'conversation id');
    const id = checkMessageId(messageId);
    // From the outbox side: pending items are few, while a long conversation has a receipt
    // row for almost every message it ever received.
    const rows = this.#db.all(
      `SELECT m.refs FROM outbox o JOIN messages m ON m.message_id = o.message_id
       WHERE o.state = 'pending' AND m.conversation_id = ? AND m.direction = 'out' AND m.kind = 'delivery_receipt'
       AND instr(m.refs, ?) > 0`,
      [conversationId, id],
    );
    // instr finds bytes anywhere; only a whole id at a 16-byte boundary counts.
    return rows.some((row) => {
      const refs = bytes(row, 'refs');
      for (let i = 0; i + MESSAGE_ID_BYTES <= refs.length; i += MESSAGE_ID_BYTES) {
        if (refs.subarray(i, i + MESSAGE_ID_BYTES).every((b, j) => b === id[j])) return true;
      }
      return false;
    });
  }

  /**
   * The user retries one of our failed text messages: queued again (the one step back the
   * state allows, on an explicit request). False if it is not a failed text message of ours.
   */
  requeue(messageId: Uint8Array, now: number = this.#now()): boolean {
    const id = checkMessageId(messageId);
    checkTime(now, 'now');
    return (
      this.#db.run(
        "UPDATE messages SET state = 'queued', state_changed_at = ? WHERE message_id = ? AND direction = 'out' AND kind = 'text' AND state = 'failed'",
        [now, id],
      ) > 0
    );
  }

  /**
   * Applies a receipt from the conversation's contact: moves each of OUR messages among
   * `messageIds` in `conversationId` forward to `state`. Ids from another conversation are
   * ignored (a contact cannot touch messages it was not sent). Returns how many changed.
   */
  applyReceipt(conversationId: number, messageIds: readonly Uint8Array[], state: 'delivered' | 'read', now: number = this.#now()): number {
    checkId(conversationId, 'conversation id');
    checkOneOf(state, ['delivered', 'read'] as const, 'receipt state');
    checkTime(now, 'now');
    if (!Array.isArray(messageIds) || messageIds.length > MAX_RECEIPT_REFS) throw new StoreError('INVALID_INPUT', 'refs');
    const ids = messageIds.map(checkMessageId);
    const from = PREDECESSORS[state];
    const sql = `UPDATE messages SET state = ?, state_changed_at = ?
      WHERE message_id = ? AND conversation_id = ? AND direction = 'out' AND state IN (${from.map(() => '?').join(', ')})`;
    return this.#db.transaction(() => {
      let changed = 0;
      for (const id of ids) changed += this.#db.run(sql, [state, now, id, conversationId, ...from]);
      return changed;
    });
  }

  /**
   * Marks incoming text messages read, all of them or those up to and including `upTo`.
   * Returns the ones that changed, with their sender device, for the read receipts.
   */
  markRead(conversationId: number, options: { upTo?: MessageCursor; now?: number } = {}): ReadMessage[] {
    checkId(conversationId, 'conversation id');
    const now = checkTime(options.now ?? this.#now(), 'now');
    const bound = options.upTo ? ' AND (sent_at, message_id) <= (?, ?)' : '';
    const params: SqlValue[] = [now, conversationId, ...(options.upTo ? checkCursor(options.upTo) : [])];
    return this.#db.transaction(() => {
      const rows = this.#db.all(
        `UPDATE messages SET state = 'read', state_changed_at = ?
         WHERE conversation_id = ? AND direction = 'in' AND kind = 'text' AND state = 'delivered'${bound}
         RETURNING message_id, sender_device_id`,
        params,
      );
      this.#db.run(
        `UPDATE conversations SET unread_count = (
           SELECT count(*) FROM messages WHERE conversation_id = ?1 AND direction = 'in' AND kind = 'text' AND state = 'delivered')
         WHERE id = ?1`,
        [conversationId],
      );
      return rows.map((row) => ({ messageId: bytes(row, 'message_id'), senderDeviceId: optInt(row, 'sender_device_id') }));
    });
  }

  /**
   * Deletes receipts sent or received at or before `before` that no longer wait in the outbox.
   * Their ids only serve deduplication of retransmissions, which stop once acknowledged.
   */
  pruneReceipts(before: number): number {
    checkTime(before, 'before');
    return this.#db.run(
      `DELETE FROM messages WHERE kind <> 'text' AND sent_at <= ?
       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = messages.message_id)`,
      [before],
    );
  }
}
