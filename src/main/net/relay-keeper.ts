/**
 * Keeps circuit-relay-v2 reservations on the relays the user configured (issue 5, item 3), so
 * contacts can reach this device through them, and says which reservations are in place.
 *
 * libp2p reserves a slot when it listens on `<relay>/p2p-circuit`, but only for addresses
 * given at construction: a start then fails outright when a relay is down, a relay added in
 * the settings needs a restart, and once the relay connection drops (a relay restart, a Wi-Fi
 * change) nothing reserves again. So the keeper listens on each relay itself, after start,
 * through the node's transport manager (the `transportListen` service), and again, with
 * backoff, whenever the reservation is lost; a check every RELAY_CHECK_INTERVAL_MS catches a
 * reservation libp2p dropped without a connection closing (a failed refresh).
 *
 * Reservations are made one relay at a time: libp2p queues concurrent ones and, once the first
 * succeeds with no "discovered" relay wanted, clears its queue, silently dropping the others;
 * each attempt is bounded by RELAY_RESERVE_TIMEOUT_MS so such a dropped one cannot stall us.
 *
 * One listener per relay is made and reused: closing a circuit listener would cancel every
 * reservation (libp2p's listener clears the whole reservation store), so removed relays are
 * released by hanging up on them instead, once no relayed connection runs through them
 * (closing a relay under a live circuit makes libp2p throw from inside its stream code).
 *
 * @example
 * ```ts
 * const keeper = new RelayKeeper(node, { reserved: (relayPeerId) => fetchMailbox(relayPeerId) });
 * keeper.set(['/ip4/198.51.100.7/tcp/4001/p2p/12D3KooW…']);
 * keeper.status(); // [{ address: '/ip4/198.51.100.7/tcp/4001/p2p/12D3KooW…', reserved: true }]
 * await keeper.stop();
 * ```
 */
import type { Listener, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { ParleyNode } from './node';

/** First retry after losing or failing a reservation: a relay restart takes a second or two. */
export const RELAY_RETRY_BASE_MS = 2_000;
/** Retries back off to once a minute: cheap for a relay that is down for a while. */
export const RELAY_RETRY_MAX_MS = 60_000;
/**
 * How often every relay is checked: a reservation libp2p dropped on its own (a refresh the
 * relay refused) shows up here within this time even though no connection closed.
 */
export const RELAY_CHECK_INTERVAL_MS = 30_000;
/**
 * One reservation attempt: the dial (libp2p's own bound is 5 s) and the RESERVE exchange;
 * beyond this it counts as failed and is retried.
 */
export const RELAY_RESERVE_TIMEOUT_MS = 15_000;

/** What the node's transport manager offers the keeper (see `transportListen`). */
export interface TransportListen {
  /**
   * Starts listening on `address`; returns the new listener at once (so a failed listen can be
   * retried on it) and `ready`, which settles when listening succeeded or failed.
   */
  listen(address: Multiaddr): { listener: Listener | undefined; ready: Promise<void> };
}

interface TransportManagerLike {
  listen(addresses: Multiaddr[]): Promise<void>;
  getListeners(): Listener[];
}

/**
 * A libp2p service exposing `listen` after start (libp2p has no public API for it). The
 * transport manager creates its listeners synchronously before its first await, so the
 * listener a call created is the one that was not there before.
 */
export function transportListen(): (components: { transportManager: TransportManagerLike }) => TransportListen {
  return ({ transportManager }) => ({
    listen(address) {
      const before = new Set(transportManager.getListeners());
      const ready = transportManager.listen([address]);
      const listener = transportManager.getListeners().find((l) => !before.has(l));
      return { listener, ready };
    },
  });
}

export interface RelayStatus {
  readonly address: string;
  readonly reserved: boolean;
}

export interface RelayKeeperEvents {
  /** A reservation on this relay (PeerId) came into place: at start, or after it was lost. */
  reserved(relayPeerId: string): void;
}

interface Kept {
  readonly address: string;
  readonly circuit: Multiaddr;
  readonly relay: PeerId;
  listener: Listener | undefined;
  reserving: boolean;
  wasReserved: boolean;
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The relay's PeerId from a relay address; throws for an address that names no peer. */
export function relayPeerOf(address: Multiaddr): PeerId {
  const id = address
    .getComponents()
    .filter((c) => c.name === 'p2p')
    .pop()?.value;
  if (id === undefined) throw new RangeError('A relay address must end in /p2p/<peerId>');
  return peerIdFromString(id);
}

export class RelayKeeper {
  readonly #node: ParleyNode;
  readonly #listen: TransportListen;
  readonly #events: RelayKeeperEvents;
  readonly #kept = new Map<string, Kept>();
  /** Relays taken out of the list, hung up on once no circuit runs through them. */
  readonly #retiring = new Map<string, PeerId>();
  readonly #check: ReturnType<typeof setInterval>;
  readonly #onClose = (event: CustomEvent<{ remotePeer: PeerId }>): void => {
    const kept = this.#kept.get(event.detail.remotePeer.toString());
    if (!kept || this.#node.getConnections(kept.relay).length > 0) return;
    kept.wasReserved = false;
    this.#schedule(kept, RELAY_RETRY_BASE_MS);
  };
  #stopped = false;
  /** Attempts run one after another (see the top of this file). */
  #chain: Promise<void> = Promise.resolve();

  constructor(node: ParleyNode, listen: TransportListen, events: RelayKeeperEvents) {
    this.#node = node;
    this.#listen = listen;
    this.#events = events;
    node.addEventListener('connection:close', this.#onClose);
    this.#check = setInterval(() => this.#checkAll(), RELAY_CHECK_INTERVAL_MS);
    this.#check.unref?.();
  }

  /**
   * The relays to keep (validated addresses, each naming a different relay). New ones are
   * reserved on at once; dropped ones are hung up on, which ends their reservation.
   */
  set(addresses: readonly string[]): void {
    if (this.#stopped) return;
    const next = new Map<string, string>();
    for (const address of addresses) next.set(relayPeerOf(multiaddr(address)).toString(), address);
    for (const [id, kept] of this.#kept) {
      if (next.get(id) === kept.address) continue;
      clearTimeout(kept.timer);
      this.#kept.delete(id);
      this.#retiring.set(id, kept.relay);
    }
    for (const [id, address] of next) {
      this.#retiring.delete(id);
      if (this.#kept.has(id)) continue;
      const addr = multiaddr(address);
      const kept: Kept = {
        address,
        circuit: addr.encapsulate('/p2p-circuit'),
        relay: relayPeerOf(addr),
        listener: undefined,
        reserving: false,
        wasReserved: false,
        failures: 0,
        timer: undefined,
      };
      this.#kept.set(id, kept);
      void this.#reserve(kept);
    }
    this.#release();
  }

  /** Hangs up on retired relays that carry no relayed connection of ours any more. */
  #release(): void {
    if (this.#retiring.size === 0) return;
    const circuits = this.#node.getConnections().map((c) => c.remoteAddr.toString()).filter((a) => a.includes('/p2p-circuit'));
    for (const [id, relay] of this.#retiring) {
      if (circuits.some((a) => a.includes(`/p2p/${id}/p2p-circuit`))) continue;
      this.#retiring.delete(id);
      this.#node.hangUp(relay).catch(() => undefined);
    }
  }

  status(): RelayStatus[] {
    return [...this.#kept.values()].map((kept) => ({ address: kept.address, reserved: this.#isReserved(kept) }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#check);
    this.#node.removeEventListener('connection:close', this.#onClose);
    for (const kept of this.#kept.values()) clearTimeout(kept.timer);
    this.#kept.clear();
    this.#retiring.clear();
  }

  #isReserved(kept: Kept): boolean {
    return (kept.listener?.getAddrs().length ?? 0) > 0 && this.#node.getConnections(kept.relay).length > 0;
  }

  #checkAll(): void {
    this.#release();
    for (const kept of this.#kept.values()) {
      if (!this.#isReserved(kept)) {
        kept.wasReserved = false;
        if (kept.timer === undefined) void this.#reserve(kept);
      }
    }
  }

  #schedule(kept: Kept, delayMs: number): void {
    if (this.#stopped || kept.timer !== undefined || this.#kept.get(kept.relay.toString()) !== kept) return;
    // ±50 % jitter: every client of a restarted relay must not come back in the same instant.
    kept.timer = setTimeout(() => {
      kept.timer = undefined;
      void this.#reserve(kept);
    }, Math.round(delayMs * (0.5 + Math.random())));
    kept.timer.unref?.();
  }

  #reserve(kept: Kept): Promise<void> {
    if (this.#stopped || kept.reserving || this.#kept.get(kept.relay.toString()) !== kept) return Promise.resolve();
    kept.reserving = true;
    const attempt = this.#chain.then(() => this.#attempt(kept));
    this.#chain = attempt;
    return attempt;
  }

  async #attempt(kept: Kept): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if (this.#stopped || this.#kept.get(kept.relay.toString()) !== kept) return;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('reservation timed out')), RELAY_RESERVE_TIMEOUT_MS);
      });
      if (kept.listener) {
        await Promise.race([kept.listener.listen(kept.circuit), timeout]);
      } else {
        const { listener, ready } = this.#listen.listen(kept.circuit);
        kept.listener = listener;
        await Promise.race([ready, timeout]);
      }
      kept.failures = 0;
    } catch {
      kept.failures++;
    } finally {
      clearTimeout(timer);
      kept.reserving = false;
    }
    if (this.#stopped || this.#kept.get(kept.relay.toString()) !== kept) return;
    if (this.#isReserved(kept)) {
      if (!kept.wasReserved) {
        kept.wasReserved = true;
        try {
          this.#events.reserved(kept.relay.toString());
        } catch {
          // A failing subscriber must not stop the keeper.
        }
      }
      return;
    }
    this.#schedule(kept, Math.min(RELAY_RETRY_MAX_MS, RELAY_RETRY_BASE_MS * 2 ** Math.min(kept.failures, 10)));
  }
}
