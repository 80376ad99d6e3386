/**
 * Our signed prekey (current and recently rotated) and the pool of one-time prekeys
 * (ARCHITECTURE.md §3). Key pairs are stored serialized by the crypto library; the store
 * never parses them.
 *
 * A one-time prekey is consumed by `consumeOneTime` inside the same `store.transaction` that
 * saves the session it started, so a handshake that fails (and rolls back) consumes nothing.
 */
import { MAX_BATCH, MAX_KEY_PAIR_BYTES, MAX_PREKEY_ID, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './constants';
import type { Db, Row } from './database';
import { StoreError } from './errors';
import { SecretBytes } from './secret-bytes';
import { bytes, checkBytes, checkIntRange, checkTime, int, optInt } from './validate';

export interface StoredSignedPrekey {
  readonly id: number;
  /** crypto `serializeSignedPrekey` output. */
  readonly keyPair: SecretBytes;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly createdAt: number;
  /** When it stopped being the current one; undefined for the current one. */
  readonly retiredAt: number | undefined;
}

export interface NewSignedPrekey {
  readonly id: number;
  readonly keyPair: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly createdAt: number;
}

export interface StoredOneTimePrekey {
  readonly id: number;
  /** crypto `serializeOneTimePrekey` output. */
  readonly keyPair: SecretBytes;
  readonly publicKey: Uint8Array;
  readonly createdAt: number;
  readonly handedOutAt: number | undefined;
}

export interface NewOneTimePrekey {
  readonly id: number;
  readonly keyPair: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Counter names in the `counters` table. */
const SIGNED_PREKEY_COUNTER = 'signed_prekey_id';
const ONE_TIME_PREKEY_COUNTER = 'one_time_prekey_id';
const PREKEY_ID_SPACE = MAX_PREKEY_ID + 1;

const SIGNED_COLUMNS = 'id, key_pair, public_key, signature, created_at, retired_at';
const ONE_TIME_COLUMNS = 'id, key_pair, public_key, created_at, handed_out_at';

function signedFromRow(row: Row): StoredSignedPrekey {
  return {
    id: int(row, 'id'),
    keyPair: new SecretBytes(bytes(row, 'key_pair')),
    publicKey: bytes(row, 'public_key'),
    signature: bytes(row, 'signature'),
    createdAt: int(row, 'created_at'),
    retiredAt: optInt(row, 'retired_at'),
  };
}

function oneTimeFromRow(row: Row): StoredOneTimePrekey {
  return {
    id: int(row, 'id'),
    keyPair: new SecretBytes(bytes(row, 'key_pair')),
    publicKey: bytes(row, 'public_key'),
    createdAt: int(row, 'created_at'),
    handedOutAt: optInt(row, 'handed_out_at'),
  };
}

export class PrekeyRepo {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Reserves `count` consecutive prekey ids (wrapping at 2^32) and returns the first, for
   * crypto's generateSignedPrekey / generateOneTimePrekeys. Ids are never reused before the
   * counter wraps, so a late message naming an old id cannot pick up a newer key.
   */
  allocateSignedPrekeyIds(count = 1): number {
    return this.#allocate(SIGNED_PREKEY_COUNTER, count);
  }

  allocateOneTimePrekeyIds(count: number): number {
    return this.#allocate(ONE_TIME_PREKEY_COUNTER, count);
  }

  #allocate(counter: string, count: number): number {
    checkIntRange(count, 1, MAX_BATCH, 'id count');
    return this.#db.transaction(() => {
      const row = this.#db.get('SELECT value FROM counters WHERE name = ?', [counter]);
      const first = row ? int(row, 'value') : 1;
      this.#db.run('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [
        counter,
        (first + count) % PREKEY_ID_SPACE,
      ]);
      return first;
    });
  }

  /**
   * Makes `prekey` the current signed prekey; the previous current one is retired at the new
   * one's creation time and kept until `deleteRetiredSignedPrekeys` (grace period).
   */
  rotateSignedPrekey(prekey: NewSignedPrekey): void {
    const id = checkIntRange(prekey.id, 0, MAX_PREKEY_ID, 'signed prekey id');
    const keyPair = checkBytes(prekey.keyPair, 'signed prekey key pair', 1, MAX_KEY_PAIR_BYTES);
    const publicKey = checkBytes(prekey.publicKey, 'signed prekey public key', PUBLIC_KEY_BYTES);
    const signature = checkBytes(prekey.signature, 'signed prekey signature', SIGNATURE_BYTES);
    const createdAt = checkTime(prekey.createdAt, 'created at');
    this.#db.transaction(() => {
      this.#db.run('UPDATE signed_prekeys SET retired_at = ? WHERE retired_at IS NULL', [createdAt]);
      this.#db.run(
        'INSERT INTO signed_prekeys (id, key_pair, public_key, signature, created_at) VALUES (?, ?, ?, ?, ?)',
        [id, keyPair, publicKey, signature, createdAt],
      );
    });
  }

  currentSignedPrekey(): StoredSignedPrekey | undefined {
    const row = this.#db.get(`SELECT ${SIGNED_COLUMNS} FROM signed_prekeys WHERE retired_at IS NULL`);
    return row && signedFromRow(row);
  }

  /** The current or a retired signed prekey, by the id a prekey message names. */
  getSignedPrekey(id: number): StoredSignedPrekey | undefined {
    checkIntRange(id, 0, MAX_PREKEY_ID, 'signed prekey id');
    const row = this.#db.get(`SELECT ${SIGNED_COLUMNS} FROM signed_prekeys WHERE id = ?`, [id]);
    return row && signedFromRow(row);
  }

  listSignedPrekeys(): StoredSignedPrekey[] {
    return this.#db.all(`SELECT ${SIGNED_COLUMNS} FROM signed_prekeys ORDER BY created_at DESC, id DESC`).map(signedFromRow);
  }

  /** Deletes signed prekeys retired at or before `retiredBefore`; returns how many. */
  deleteRetiredSignedPrekeys(retiredBefore: number): number {
    checkTime(retiredBefore, 'retired before');
    return this.#db.run('DELETE FROM signed_prekeys WHERE retired_at IS NOT NULL AND retired_at <= ?', [retiredBefore]);
  }

  addOneTimePrekeys(prekeys: readonly NewOneTimePrekey[], createdAt: number = this.#now()): void {
    if (!Array.isArray(prekeys) || prekeys.length > MAX_BATCH) throw new StoreError('INVALID_INPUT', 'one-time prekeys');
    checkTime(createdAt, 'created at');
    const rows = prekeys.map((p) => [
      checkIntRange(p.id, 0, MAX_PREKEY_ID, 'one-time prekey id'),
      checkBytes(p.keyPair, 'one-time prekey key pair', 1, MAX_KEY_PAIR_BYTES),
      checkBytes(p.publicKey, 'one-time prekey public key', PUBLIC_KEY_BYTES),
    ] as const);
    this.#db.transaction(() => {
      for (const [id, keyPair, publicKey] of rows) {
        this.#db.run('INSERT INTO one_time_prekeys (id, key_pair, public_key, created_at) VALUES (?, ?, ?, ?)', [
          id,
          keyPair,
          publicKey,
          createdAt,
        ]);
      }
    });
  }

  getOneTime(id: number): StoredOneTimePrekey | undefined {
    checkIntRange(id, 0, MAX_PREKEY_ID, 'one-time prekey id');
    const row = this.#db.get(`SELECT ${ONE_TIME_COLUMNS} FROM one_time_prekeys WHERE id = ?`, [id]);
    return row && oneTimeFromRow(row);
  }

  /**
   * The one-time prekey for the next bundle we give out: the oldest not yet handed out, now
   * marked as handed out so the next bundle gets another. Undefined when the pool is dry (the
   * bundle then goes without one, as X3DH allows).
   */
  handOutOneTime(now: number = this.#now()): StoredOneTimePrekey | undefined {
    checkTime(now, 'now');
    return this.#db.transaction(() => {
      const row = this.#db.get(`SELECT ${ONE_TIME_COLUMNS} FROM one_time_prekeys WHERE handed_out_at IS NULL ORDER BY id LIMIT 1`);
      if (!row) return undefined;
      const prekey = oneTimeFromRow(row);
      this.#db.run('UPDATE one_time_prekeys SET handed_out_at = ? WHERE id = ?', [now, prekey.id]);
      return { ...prekey, handedOutAt: now };
    });
  }

  /**
   * Returns the one-time prekey and deletes it. Call inside the transaction that saves the
   * session, so a failed handshake rolls the deletion back. NOT_FOUND if it is gone (used or
   * never ours): the handshake must fail rather than go on without it.
   */
  consumeOneTime(id: number): StoredOneTimePrekey {
    checkIntRange(id, 0, MAX_PREKEY_ID, 'one-time prekey id');
    return this.#db.transaction(() => {
      const row = this.#db.get(`SELECT ${ONE_TIME_COLUMNS} FROM one_time_prekeys WHERE id = ?`, [id]);
      if (!row) throw new StoreError('NOT_FOUND', 'one-time prekey');
      this.#db.run('DELETE FROM one_time_prekeys WHERE id = ?', [id]);
      return oneTimeFromRow(row);
    });
  }

  /** Prekeys not yet handed out: refill the pool when this falls below the low-water mark. */
  countFreshOneTime(): number {
    return int(this.#db.get('SELECT count(*) AS n FROM one_time_prekeys WHERE handed_out_at IS NULL') as Row, 'n');
  }

  /** Deletes one-time prekeys handed out at or before `handedOutBefore` and never used. */
  deleteStaleOneTime(handedOutBefore: number): number {
    checkTime(handedOutBefore, 'handed out before');
    return this.#db.run('DELETE FROM one_time_prekeys WHERE handed_out_at IS NOT NULL AND handed_out_at <= ?', [handedOutBefore]);
  }
}
