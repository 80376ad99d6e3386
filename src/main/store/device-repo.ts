/**
 * A contact's devices: libp2p PeerIds with the signed card binding each to the identity, and
 * where the device was last reachable.
 */
import { MAX_ADDRESSES, MAX_ADDRESS_BYTES, MAX_CARD_BYTES, MAX_PEER_ID_BYTES } from './constants';
import type { Db, Row } from './database';
import { StoreError } from './errors';
import { bytes, checkBytes, checkId, checkText, checkTime, int, optInt, text } from './validate';

export interface Device {
  readonly id: number;
  readonly contactId: number;
  readonly peerId: string;
  /** The signed device record / contact card as received (verified by the caller). */
  readonly card: Uint8Array;
  /** createdAt of the signed card: a card older than the stored one is refused. */
  readonly cardCreatedAt: number;
  readonly addresses: readonly string[];
  readonly lastSeenAt: number | undefined;
  readonly createdAt: number;
}

export interface DeviceCard {
  readonly contactId: number;
  readonly peerId: string;
  readonly card: Uint8Array;
  readonly cardCreatedAt: number;
}

const COLUMNS = 'id, contact_id, peer_id, card, card_created_at, addresses, last_seen_at, created_at';

function fromRow(row: Row): Device {
  let addresses: unknown;
  try {
    addresses = JSON.parse(text(row, 'addresses'));
  } catch {
    throw new StoreError('CORRUPT', 'column addresses');
  }
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) {
    throw new StoreError('CORRUPT', 'column addresses');
  }
  return {
    id: int(row, 'id'),
    contactId: int(row, 'contact_id'),
    peerId: text(row, 'peer_id'),
    card: bytes(row, 'card'),
    cardCreatedAt: int(row, 'card_created_at'),
    addresses,
    lastSeenAt: optInt(row, 'last_seen_at'),
    createdAt: int(row, 'created_at'),
  };
}

function checkAddresses(addresses: unknown): string[] {
  if (!Array.isArray(addresses) || addresses.length > MAX_ADDRESSES) throw new StoreError('INVALID_INPUT', 'addresses');
  return addresses.map((a) => checkText(a, 'address', MAX_ADDRESS_BYTES, false));
}

export class DeviceRepo {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Inserts the device or replaces its card with a newer one. Returns the stored device and
   * whether the card was taken. A PeerId already bound to another contact is CONFLICT: a
   * device cannot change owner by presenting a card.
   */
  saveCard(input: DeviceCard, now: number = this.#now()): { device: Device; updated: boolean } {
    const contactId = checkId(input.contactId, 'contact id');
    const peerId = checkText(input.peerId, 'peer id', MAX_PEER_ID_BYTES, false);
    const card = checkBytes(input.card, 'card', 1, MAX_CARD_BYTES);
    const cardCreatedAt = checkTime(input.cardCreatedAt, 'card created at');
    checkTime(now, 'now');
    return this.#db.transaction(() => {
      const existing = this.getByPeerId(peerId);
      if (!existing) {
        const row = this.#db.get(
          `INSERT INTO devices (contact_id, peer_id, card, card_created_at, created_at) VALUES (?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
          [contactId, peerId, card, cardCreatedAt, now],
        );
        return { device: fromRow(row as Row), updated: true };
      }
      if (existing.contactId !== contactId) throw new StoreError('CONFLICT', 'peer id belongs to another contact');
      if (cardCreatedAt <= existing.cardCreatedAt) return { device: existing, updated: false };
      const row = this.#db.get(`UPDATE devices SET card = ?, card_created_at = ? WHERE id = ? RETURNING ${COLUMNS}`, [
        card,
        cardCreatedAt,
        existing.id,
      ]);
      return { device: fromRow(row as Row), updated: true };
    });
  }

  get(id: number): Device | undefined {
    checkId(id, 'device id');
    const row = this.#db.get(`SELECT ${COLUMNS} FROM devices WHERE id = ?`, [id]);
    return row && fromRow(row);
  }

  getByPeerId(peerId: string): Device | undefined {
    checkText(peerId, 'peer id', MAX_PEER_ID_BYTES, false);
    const row = this.#db.get(`SELECT ${COLUMNS} FROM devices WHERE peer_id = ?`, [peerId]);
    return row && fromRow(row);
  }

  listByContact(contactId: number): Device[] {
    checkId(contactId, 'contact id');
    return this.#db.all(`SELECT ${COLUMNS} FROM devices WHERE contact_id = ? ORDER BY id`, [contactId]).map(fromRow);
  }

  /** Records that the device was reachable now, at these addresses (if given). */
  markSeen(peerId: string, now: number = this.#now(), addresses?: readonly string[]): boolean {
    checkText(peerId, 'peer id', MAX_PEER_ID_BYTES, false);
    checkTime(now, 'now');
    if (addresses === undefined) {
      return this.#db.run('UPDATE devices SET last_seen_at = max(coalesce(last_seen_at, 0), ?) WHERE peer_id = ?', [now, peerId]) > 0;
    }
    const json = JSON.stringify(checkAddresses(addresses));
    return (
      this.#db.run('UPDATE devices SET last_seen_at = max(coalesce(last_seen_at, 0), ?), addresses = ? WHERE peer_id = ?', [
        now,
        json,
        peerId,
      ]) > 0
    );
  }

  remove(id: number): boolean {
    checkId(id, 'device id');
    return this.#db.run('DELETE FROM devices WHERE id = ?', [id]) > 0;
  }
}
