/**
 * Conversations: one per contact, listed by last activity with the unread count and a preview
 * of the last text message.
 */
import { MAX_BATCH, MAX_DRAFT_BYTES, PREVIEW_CHARS } from './constants';
import type { Db, Row } from './database';
import { StoreError } from './errors';
import { checkId, checkLimit, checkText, checkTime, int, oneOf, optBytes, optInt, optText, text } from './validate';
import { DIRECTIONS, MESSAGE_STATES, type Direction, type MessageState } from './message-types';

export interface Conversation {
  readonly id: number;
  readonly contactId: number;
  readonly lastActivityAt: number;
  readonly unreadCount: number;
  readonly draft: string | undefined;
  readonly createdAt: number;
}

export interface LastMessagePreview {
  readonly messageId: Uint8Array;
  /** The first PREVIEW_CHARS characters of the body. */
  readonly body: string;
  readonly direction: Direction;
  readonly sentAt: number;
  readonly state: MessageState;
}

export interface ConversationSummary extends Conversation {
  readonly contactDisplayName: string;
  readonly lastMessage: LastMessagePreview | undefined;
}

const COLUMNS = 'id, contact_id, last_activity_at, unread_count, draft, created_at';

function fromRow(row: Row): Conversation {
  return {
    id: int(row, 'id'),
    contactId: int(row, 'contact_id'),
    lastActivityAt: int(row, 'last_activity_at'),
    unreadCount: int(row, 'unread_count'),
    draft: optText(row, 'draft'),
    createdAt: int(row, 'created_at'),
  };
}

// The correlated subquery walks messages_timeline backwards: one index probe per conversation.
const LIST_SQL = `
SELECT c.id, c.contact_id, c.last_activity_at, c.unread_count, c.draft, c.created_at,
       ct.display_name AS contact_display_name,
       m.message_id AS last_id, substr(m.body, 1, ${PREVIEW_CHARS}) AS last_body, m.direction AS last_direction,
       m.sent_at AS last_sent_at, m.state AS last_state
FROM conversations c
JOIN contacts ct ON ct.id = c.contact_id
LEFT JOIN messages m ON m.message_id = (
  SELECT message_id FROM messages
  WHERE conversation_id = c.id AND kind = 'text'
  ORDER BY sent_at DESC, message_id DESC LIMIT 1)
ORDER BY c.last_activity_at DESC, c.id DESC
LIMIT ?`;

function summaryFromRow(row: Row): ConversationSummary {
  const lastId = optBytes(row, 'last_id');
  return {
    ...fromRow(row),
    contactDisplayName: text(row, 'contact_display_name'),
    lastMessage: lastId && {
      messageId: lastId,
      body: text(row, 'last_body'),
      direction: oneOf(row, 'last_direction', DIRECTIONS),
      sentAt: optInt(row, 'last_sent_at') ?? 0,
      state: oneOf(row, 'last_state', MESSAGE_STATES),
    },
  };
}

export class ConversationRepo {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** The contact's conversation, created empty if it does not exist yet. */
  getOrCreate(contactId: number, now: number = this.#now()): Conversation {
    checkId(contactId, 'contact id');
    checkTime(now, 'now');
    return this.#db.transaction(() => {
      this.#db.run(
        'INSERT INTO conversations (contact_id, last_activity_at, created_at) VALUES (?, ?, ?) ON CONFLICT (contact_id) DO NOTHING',
        [contactId, now, now],
      );
      return fromRow(this.#db.get(`SELECT ${COLUMNS} FROM conversations WHERE contact_id = ?`, [contactId]) as Row);
    });
  }

  get(id: number): Conversation | undefined {
    checkId(id, 'conversation id');
    const row = this.#db.get(`SELECT ${COLUMNS} FROM conversations WHERE id = ?`, [id]);
    return row && fromRow(row);
  }

  getByContact(contactId: number): Conversation | undefined {
    checkId(contactId, 'contact id');
    const row = this.#db.get(`SELECT ${COLUMNS} FROM conversations WHERE contact_id = ?`, [contactId]);
    return row && fromRow(row);
  }

  /** Most recently active first, with unread counts and the last text message. */
  list(options: { limit?: number } = {}): ConversationSummary[] {
    const limit = checkLimit(options.limit, MAX_BATCH, MAX_BATCH);
    return this.#db.all(LIST_SQL, [limit]).map(summaryFromRow);
  }

  /** Saves (or with undefined / '' clears) the unsent draft. */
  setDraft(id: number, draft: string | undefined): void {
    checkId(id, 'conversation id');
    const value = draft === undefined || draft === '' ? null : checkText(draft, 'draft', MAX_DRAFT_BYTES);
    if (this.#db.run('UPDATE conversations SET draft = ? WHERE id = ?', [value, id]) === 0) {
      throw new StoreError('NOT_FOUND', 'conversation');
    }
  }

  /** Deletes the conversation with its messages and their outbox entries. */
  remove(id: number): boolean {
    checkId(id, 'conversation id');
    return this.#db.run('DELETE FROM conversations WHERE id = ?', [id]) > 0;
  }
}
