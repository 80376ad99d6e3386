/**
 * The user's relays (issue 5, item 3): a short list of relay multiaddrs in the store's
 * settings, checked strictly before it is kept, and what a contact's card says about its
 * relays and mailboxes.
 *
 * Nothing is configured by default: no relay ever appears here unless the user (or a test)
 * puts it there (ARCHITECTURE.md §10).
 */
import { ApiFailure, MAX_RELAYS } from '../../../shared';
import { parseRelayAddress } from '../../net/parley-network';
import type { Device, Store } from '../../store';
import { verifyCard } from '../contacts/card';

/** Settings key of our relay list (JSON array of addresses). */
const RELAYS_SETTING = 'network.relays';
/** Settings key of relays taken off the list, still fetched for a while (JSON [{address, until}]). */
const RETIRED_RELAYS_SETTING = 'network.relays.retired';
/**
 * How long a relay taken off our list is still fetched: contacts that had not yet received our
 * new card (they were offline when we sent it) leave mail where we used to be, for as long as
 * such mail lives there (MAILBOX_TTL_MS, 14 days, on a relay with default limits).
 */
export const RETIRED_RELAY_FETCH_MS = 14 * 24 * 60 * 60 * 1000;
/** Retired relays remembered at most (oldest forgotten first): a few moves' worth. */
const MAX_RETIRED_RELAYS = 16;

/** A relay a contact named in its card, and its mailbox there (absent in version 1 cards). */
export interface ContactRelay {
  readonly address: string;
  readonly relayPeerId: string;
  readonly mailboxId: Uint8Array | undefined;
}

/** The relay's PeerId at the end of an address already checked by `checkRelays`. */
export function relayPeerIdOf(address: string): string {
  const id = address.split('/p2p/').at(-1);
  if (id === undefined || id.length === 0 || id.includes('/')) throw new RangeError('a relay address must end in /p2p/<peerId>');
  return id;
}

/**
 * Checks and normalises a relay list from the API: each a multiaddr naming its relay, at most
 * MAX_RELAYS, no relay twice (two addresses of one relay are one reservation and one mailbox).
 * Throws ApiFailure INVALID_ARGUMENT, naming the position, never the value.
 */
export function checkRelays(addresses: readonly string[], selfPeerId: string): string[] {
  if (addresses.length > MAX_RELAYS) throw new ApiFailure('INVALID_ARGUMENT', `at most ${MAX_RELAYS} relays`);
  const seen = new Set<string>();
  return addresses.map((raw, i) => {
    let parsed;
    try {
      parsed = parseRelayAddress(raw.trim());
    } catch (error) {
      throw new ApiFailure('INVALID_ARGUMENT', `relays.${i}: ${error instanceof RangeError ? error.message : 'not a relay address'}`);
    }
    if (parsed.relayPeerId === selfPeerId) throw new ApiFailure('INVALID_ARGUMENT', `relays.${i}: this device cannot be its own relay`);
    if (seen.has(parsed.relayPeerId)) throw new ApiFailure('INVALID_ARGUMENT', `relays.${i}: the same relay twice`);
    seen.add(parsed.relayPeerId);
    return parsed.address;
  });
}

/** Our relay list as stored (checked when it was saved); empty when none is configured. */
export function loadRelays(store: Store): string[] {
  const raw = store.settings.get(RELAYS_SETTING);
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((a): a is string => typeof a === 'string').slice(0, MAX_RELAYS);
  } catch {
    return [];
  }
}

/**
 * Stores a new relay list; relays it drops are retired (still fetched until
 * RETIRED_RELAY_FETCH_MS from now), relays it names again stop being retired.
 */
export function saveRelays(store: Store, addresses: readonly string[], now: number): void {
  const named = new Set(addresses.map(relayPeerIdOf));
  const retired = new Map(loadRetired(store, now).map((r) => [relayPeerIdOf(r.address), r]));
  for (const address of loadRelays(store)) {
    const id = relayPeerIdOf(address);
    if (named.has(id)) continue;
    retired.delete(id); // re-inserted last: the newest retirement is forgotten last
    retired.set(id, { address, until: now + RETIRED_RELAY_FETCH_MS });
  }
  for (const id of named) retired.delete(id);
  store.transaction(() => {
    store.settings.set(RELAYS_SETTING, JSON.stringify(addresses));
    store.settings.set(RETIRED_RELAYS_SETTING, JSON.stringify([...retired.values()].slice(-MAX_RETIRED_RELAYS)));
  });
}

function loadRetired(store: Store, now: number): { address: string; until: number }[] {
  const raw = store.settings.get(RETIRED_RELAYS_SETTING);
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (r): r is { address: string; until: number } =>
        typeof r === 'object' && r !== null && typeof (r as { address?: unknown }).address === 'string' && typeof (r as { until?: unknown }).until === 'number' && (r as { until: number }).until > now,
    );
  } catch {
    return [];
  }
}

/** Every relay our mailboxes are on: the current ones and those retired recently. */
export function mailboxRelays(store: Store, now: number): { address: string; relayPeerId: string }[] {
  const current = loadRelays(store);
  const all = [...current, ...loadRetired(store, now).map((r) => r.address)];
  return [...new Map(all.map((address) => [relayPeerIdOf(address), address])).entries()].map(([relayPeerId, address]) => ({ address, relayPeerId }));
}

/**
 * The relays of contacts' devices, read from their stored cards. A card is verified once per
 * version (its createdAt) and the result kept, since routing asks on every dial and deposit.
 */
export class ContactRelays {
  readonly #cache = new Map<number, { cardCreatedAt: number; relays: ContactRelay[] }>();

  of(device: Device): ContactRelay[] {
    const cached = this.#cache.get(device.id);
    if (cached && cached.cardCreatedAt === device.cardCreatedAt) return cached.relays;
    let relays: ContactRelay[] = [];
    try {
      relays = verifyCard(device.card, { peerId: device.peerId }).relays.flatMap((relay) => {
        try {
          const { address, relayPeerId } = parseRelayAddress(relay.address);
          return [{ address, relayPeerId, mailboxId: relay.mailboxId }];
        } catch {
          return [];
        }
      });
    } catch {
      // A stored card was verified when it was stored; one that no longer verifies names no relay.
    }
    // One entry per relay: a card naming a relay twice gets one deposit there, not two.
    const unique = [...new Map(relays.map((r) => [r.relayPeerId, r])).values()];
    this.#cache.set(device.id, { cardCreatedAt: device.cardCreatedAt, relays: unique });
    return unique;
  }

  /** The relays a contact's mailboxes are on (entries with a mailbox id). */
  mailboxesOf(device: Device): (ContactRelay & { mailboxId: Uint8Array })[] {
    return this.of(device).filter((r): r is ContactRelay & { mailboxId: Uint8Array } => r.mailboxId !== undefined);
  }
}
