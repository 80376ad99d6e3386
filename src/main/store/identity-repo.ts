/**
 * The user's own identity: one row, written once, then only the display name changes.
 */
import { MAX_DISPLAY_NAME_BYTES, MAX_KEY_PAIR_BYTES, PUBLIC_KEY_BYTES } from './constants';
import type { Db } from './database';
import { SecretBytes } from './secret-bytes';
import { StoreError } from './errors';
import { bytes, checkBytes, checkText, checkTime, int, text } from './validate';

export interface StoredIdentity {
  /** The serialized key pair (crypto `serializeIdentity`). */
  readonly keyPair: SecretBytes;
  readonly publicKey: Uint8Array;
  readonly displayName: string;
  readonly createdAt: number;
}

export interface NewIdentity {
  readonly keyPair: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly displayName: string;
}

export class IdentityRepo {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  get(): StoredIdentity | undefined {
    const row = this.#db.get('SELECT key_pair, public_key, display_name, created_at FROM identity WHERE id = 1');
    return (
      row && {
        keyPair: new SecretBytes(bytes(row, 'key_pair')),
        publicKey: bytes(row, 'public_key'),
        displayName: text(row, 'display_name'),
        createdAt: int(row, 'created_at'),
      }
    );
  }

  /**
   * Stores the identity. There is one per store and replacing it would orphan every session
   * and contact, so a second call is CONFLICT.
   */
  create(identity: NewIdentity, createdAt: number = this.#now()): StoredIdentity {
    const keyPair = checkBytes(identity.keyPair, 'identity key pair', 1, MAX_KEY_PAIR_BYTES);
    const publicKey = checkBytes(identity.publicKey, 'identity public key', PUBLIC_KEY_BYTES);
    const displayName = checkText(identity.displayName, 'display name', MAX_DISPLAY_NAME_BYTES);
    checkTime(createdAt, 'created at');
    try {
      this.#db.run('INSERT INTO identity (id, key_pair, public_key, display_name, created_at) VALUES (1, ?, ?, ?, ?)', [
        keyPair,
        publicKey,
        displayName,
        createdAt,
      ]);
    } catch (error) {
      if (error instanceof StoreError && error.code === 'CONFLICT') throw new StoreError('CONFLICT', 'identity exists');
      throw error;
    }
    return { keyPair: new SecretBytes(keyPair.slice()), publicKey, displayName, createdAt };
  }

  setDisplayName(displayName: string): void {
    checkText(displayName, 'display name', MAX_DISPLAY_NAME_BYTES);
    if (this.#db.run('UPDATE identity SET display_name = ? WHERE id = 1', [displayName]) === 0) {
      throw new StoreError('NOT_FOUND', 'identity');
    }
  }
}
