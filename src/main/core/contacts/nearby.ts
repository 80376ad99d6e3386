/**
 * Who is nearby: the peers whose signed cards we fetched after mDNS or a connection showed
 * them, newest first, for the "nearby" list a contact request starts from. Bounded, and each
 * card fetched at most every CARD_REFRESH_MS. Split from contact-book.ts, which decides what a
 * fetched card means for a contact; this only keeps the list.
 */
import { fingerprint } from '../../../crypto';
import type { NearbyPeer } from '../../../shared';
import type { Store } from '../../store';
import type { EventBus } from '../events';
import { toApiId } from '../ids';
import type { VerifiedCard } from './card';

/** Nearby peers shown (a conference Wi-Fi is big; the list is for the people around you). */
const MAX_NEARBY = 200;
/** A peer's card is fetched at most this often: discovery repeats every mDNS interval. */
const CARD_REFRESH_MS = 60_000;

interface NearbyEntry {
  card: VerifiedCard;
  lastSeen: number;
}

export class Nearby {
  readonly #store: Store;
  readonly #events: EventBus;
  readonly #peers = new Map<string, NearbyEntry>();
  readonly #lastFetch = new Map<string, number>();

  constructor(store: Store, events: EventBus) {
    this.#store = store;
    this.#events = events;
  }

  list(): NearbyPeer[] {
    return [...this.#peers.values()]
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .map(({ card, lastSeen }) => {
        const contact = this.#store.contacts.getByIdentityKey(card.identityKey);
        return {
          peerId: card.peerId,
          displayName: card.displayName,
          fingerprint: fingerprint(card.identityKey),
          ...(contact ? { contactId: toApiId(contact.id) } : {}),
          lastSeen,
        };
      });
  }

  /** The card of a peer still in the list. */
  card(peerId: string): VerifiedCard | undefined {
    return this.#peers.get(peerId)?.card;
  }

  /** Whether the peer's card is due for a fetch (at most every CARD_REFRESH_MS); if so, the fetch is noted. */
  fetchDue(peerId: string, now: number): boolean {
    if (now - (this.#lastFetch.get(peerId) ?? 0) < CARD_REFRESH_MS) return false;
    this.#lastFetch.set(peerId, now);
    return true;
  }

  /** A peer's verified card came in: listed (while there is room) and the list announced. */
  seen(peerId: string, card: VerifiedCard, now: number): void {
    if (this.#peers.size >= MAX_NEARBY && !this.#peers.has(peerId)) return;
    this.#peers.set(peerId, { card, lastSeen: now });
    this.#events.emit('nearby.changed', { peers: this.list() });
  }
}
