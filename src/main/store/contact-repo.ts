/**
 * Contacts: who we talk to, by identity key. A changed identity key is never applied silently:
 * it waits in `pendingIdentityKey` (keyChanged) until the user accepts the new safety number,
 * and meanwhile the contact's outbox items are held (as they are while it is blocked).
 */
import { MAX_BATCH, MAX_DISPLAY_NAME_BYTES, PUBLIC_KEY_BYTES } from './constants';
import type { Db, Row, SqlValue } from './database';
import { StoreError } from './errors';
import type { OutboxRepo } from './outbox-repo';
import { bool, bytes, checkBool, checkBytes, checkId, checkLimit, checkOneOf, checkText, checkTime, int, oneOf, optBytes, optInt, text } from './validate';

export const REQUEST_STATES = ['outgoing', 'incoming', 'accepted', 'declined'] as const;
/** outgoing: we asked; incoming: they asked; accepted: both agreed; declined: we said no. */
export type RequestState = (typeof REQUEST_STATES)[number];

export interface Contact {
  readonly id: number;
  readonly identityKey: Uint8Array;
  readonly displayName: string;
  readonly requestState: RequestState;
  readonly verified: boolean;
  readonly blocked: boolean;
  /** True while a new identity key waits for the user's decision; sending is stopped. */
  readonly keyChanged: boolean;
  readonly pendingIdentityKey: Uint8Array | undefined;
  readonly keyChangedAt: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewContact {
  readonly identityKey: Uint8Array;
  readonly displayName: string;
  readonly requestState: RequestState;
  readonly verified?: boolean;
}

export interface ContactPatch {
  readonly displayName?: string;
  readonly requestState?: RequestState;
  readonly verified?: boolean;
  readonly blocked?: boolean;
}

const COLUMNS =
  'id, identity_key, display_name, request_state, verified, blocked, pending_identity_key, key_changed_at, created_at, updated_at';

function fromRow(row: Row): Contact {
  const pendingIdentityKey = optBytes(row, 'pending_identity_key');
  return {
    id: int(row, 'id'),
    identityKey: bytes(row, 'identity_key'),
    displayName: text(row, 'display_name'),
    requestState: oneOf(row, 'request_state', REQUEST_STATES),
    verified: bool(row, 'verified'),
    blocked: bool(row, 'blocked'),
    keyChanged: pendingIdentityKey !== undefined,
    pendingIdentityKey,
    keyChangedAt: optInt(row, 'key_changed_at'),
    createdAt: int(row, 'created_at'),
    updatedAt: int(row, 'updated_at'),
  };
}

export class ContactRepo {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #outbox: OutboxRepo;

  constructor(db: Db, now: () => number, outbox: OutboxRepo) {
    this.#db = db;
    this.#now = now;
    this.#outbox = outbox;
  }

  /** Holds the contact's outbox while it may not be sent to, releases it otherwise. */
  #syncOutbox(contact: Contact, now: number): void {
    if (contact.blocked || contact.keyChanged) this.#outbox.holdForContact(contact.id);
    else this.#outbox.releaseForContact(contact.id, now);
  }

  /** CONFLICT if a contact with this identity key exists. */
  add(contact: NewContact, now: number = this.#now()): Contact {
    const identityKey = checkBytes(contact.identityKey, 'identity key', PUBLIC_KEY_BYTES);
    const displayName = checkText(contact.displayName, 'display name', MAX_DISPLAY_NAME_BYTES);
    const requestState = checkOneOf(contact.requestState, REQUEST_STATES, 'request state');
    const verified = contact.verified === undefined ? false : checkBool(contact.verified, 'verified');
    checkTime(now, 'now');
    const row = this.#db.get(
      `INSERT INTO contacts (identity_key, display_name, request_state, verified, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
      [identityKey, displayName, requestState, verified ? 1 : 0, now, now],
    );
    return fromRow(row as Row);
  }

  get(id: number): Contact | undefined {
    checkId(id, 'contact id');
    const row = this.#db.get(`SELECT ${COLUMNS} FROM contacts WHERE id = ?`, [id]);
    return row && fromRow(row);
  }

  /** NOT_FOUND instead of undefined. */
  require(id: number): Contact {
    const contact = this.get(id);
    if (!contact) throw new StoreError('NOT_FOUND', 'contact');
    return contact;
  }

  getByIdentityKey(identityKey: Uint8Array): Contact | undefined {
    checkBytes(identityKey, 'identity key', PUBLIC_KEY_BYTES);
    const row = this.#db.get(`SELECT ${COLUMNS} FROM contacts WHERE identity_key = ?`, [identityKey]);
    return row && fromRow(row);
  }

  /** Contacts by display name; blocked ones only when asked for. */
  list(options: { includeBlocked?: boolean; limit?: number } = {}): Contact[] {
    const limit = checkLimit(options.limit, MAX_BATCH, MAX_BATCH);
    const where = options.includeBlocked ? '' : 'WHERE blocked = 0';
    return this.#db.all(`SELECT ${COLUMNS} FROM contacts ${where} ORDER BY display_name COLLATE NOCASE, id LIMIT ?`, [limit]).map(fromRow);
  }

  update(id: number, patch: ContactPatch, now: number = this.#now()): Contact {
    checkId(id, 'contact id');
    checkTime(now, 'now');
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (patch.displayName !== undefined) {
      sets.push('display_name = ?');
      params.push(checkText(patch.displayName, 'display name', MAX_DISPLAY_NAME_BYTES));
    }
    if (patch.requestState !== undefined) {
      sets.push('request_state = ?');
      params.push(checkOneOf(patch.requestState, REQUEST_STATES, 'request state'));
    }
    if (patch.verified !== undefined) {
      sets.push('verified = ?');
      params.push(checkBool(patch.verified, 'verified') ? 1 : 0);
    }
    if (patch.blocked !== undefined) {
      sets.push('blocked = ?');
      params.push(checkBool(patch.blocked, 'blocked') ? 1 : 0);
    }
    sets.push('updated_at = ?');
    params.push(now, id);
    return this.#db.transaction(() => {
      const row = this.#db.get(`UPDATE contacts SET ${sets.join(', ')} WHERE id = ? RETURNING ${COLUMNS}`, params);
      if (!row) throw new StoreError('NOT_FOUND', 'contact');
      const contact = fromRow(row);
      if (patch.blocked !== undefined) this.#syncOutbox(contact, now);
      return contact;
    });
  }

  /**
   * Records that the contact now presents `newIdentityKey`. The stored key stays in force and
   * `keyChanged` turns true until acceptIdentityKeyChange or rejectIdentityKeyChange.
   */
  markIdentityKeyChanged(id: number, newIdentityKey: Uint8Array, now: number = this.#now()): Contact {
    checkId(id, 'contact id');
    checkBytes(newIdentityKey, 'identity key', PUBLIC_KEY_BYTES);
    checkTime(now, 'now');
    return this.#keyUpdate(
      'pending_identity_key = ?, key_changed_at = ?, updated_at = ? WHERE id = ?',
      [newIdentityKey, now, now, id],
      'contact',
      now,
    );
  }

  /**
   * The user accepted the new safety number: the pending key becomes the identity key and the
   * contact is no longer verified (the user verified the old key, not this one).
   */
  acceptIdentityKeyChange(id: number, now: number = this.#now()): Contact {
    checkId(id, 'contact id');
    checkTime(now, 'now');
    return this.#keyUpdate(
      `identity_key = pending_identity_key, pending_identity_key = NULL, key_changed_at = NULL, verified = 0,
       updated_at = ? WHERE id = ? AND pending_identity_key IS NOT NULL`,
      [now, id],
      'pending identity key',
      now,
    );
  }

  /** The user rejected the new key: forget it, keep the old one. */
  rejectIdentityKeyChange(id: number, now: number = this.#now()): Contact {
    checkId(id, 'contact id');
    checkTime(now, 'now');
    return this.#keyUpdate(
      'pending_identity_key = NULL, key_changed_at = NULL, updated_at = ? WHERE id = ? AND pending_identity_key IS NOT NULL',
      [now, id],
      'pending identity key',
      now,
    );
  }

  /** `UPDATE contacts SET <assignments>` and the outbox hold that follows, in one transaction. */
  #keyUpdate(assignments: string, params: SqlValue[], missing: string, now: number): Contact {
    return this.#db.transaction(() => {
      const row = this.#db.get(`UPDATE contacts SET ${assignments} RETURNING ${COLUMNS}`, params);
      if (!row) throw new StoreError('NOT_FOUND', missing);
      const contact = fromRow(row);
      this.#syncOutbox(contact, now);
      return contact;
    });
  }

  /** Deletes the contact with its devices, sessions, conversation, messages and outbox. */
  remove(id: number): boolean {
    checkId(id, 'contact id');
    return this.#db.run('DELETE FROM contacts WHERE id = ?', [id]) > 0;
  }
}
