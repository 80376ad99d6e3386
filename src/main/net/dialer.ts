/**
 * How ParleyNetwork reaches a peer it is not connected to: the dialing strategy and the DHT
 * lookup, split from the network's wiring so the ladder, its timeouts and the reasons for
 * each rung read in one place.
 *
 * Reaching a peer (issue 5, item 3) goes down a ladder, each rung bounded in time:
 *
 * 1. an open connection, direct or relayed (a relayed one is used as is: libp2p's own dial
 *    would ignore it and dial again);
 * 2. the peer's known direct addresses (identify, the store, mDNS);
 * 3. its relays: `<relay>/p2p-circuit/p2p/<peer>` for each relay of its contact card (and any
 *    circuit address identify told us); DCUtR then tries to upgrade to a direct connection;
 * 4. a Kademlia lookup by PeerId through the DHT servers we are connected to (our relays):
 *    every server's answer, the peer's relayed addresses first (a peer behind NAT is reachable
 *    only through them), then whatever direct ones a relay passes on;
 * 5. else PeerUnreachableError, which tells the outbox to use the peer's mailboxes.
 *
 * Logs say how many addresses were dialed or found and error names only: never whom.
 */
import type { PeerId } from '@libp2p/interface';
import type { SingleKadDHT } from '@libp2p/kad-dht';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { addressFor, DHT_MAX_FOUND_ADDRESSES, foundAddresses, isCircuit, parseRelayAddress } from './addresses';
import { DHT_PROTOCOL } from './constants';
import { PeerUnreachableError, toError } from './errors';
import type { ParleyNode } from './node';
import { relayPeerOf, type RelayKeeper } from './relay-keeper';

/**
 * Dialing a peer's known direct addresses: a TCP + Noise handshake takes well under a second
 * even across the internet; a stale address that swallows SYNs must not hold the ladder for
 * the whole DIAL_TIMEOUT_MS before relays are tried.
 */
export const DIRECT_DIAL_TIMEOUT_MS = 5_000;
/** Dialing through a relay: two hops (relay, then the hop and stop streams) plus Noise end to end. */
export const RELAYED_DIAL_TIMEOUT_MS = 10_000;
/**
 * A DHT lookup by PeerId. Parley's DHT is small (relays are its servers), so an answer comes
 * in one or two round trips or not at all; bounded so an unreachable contact falls through to
 * its mailbox quickly. It includes the wait, right after a start, for a relay we are connected
 * to to finish identify and enter the routing table (milliseconds).
 */
export const DHT_LOOKUP_TIMEOUT_MS = 5_000;

export class Dialer {
  readonly #node: ParleyNode;
  /** Our own PeerId: never a relay route to someone else. */
  readonly #self: string;
  readonly #keeper: RelayKeeper;
  /** The relays (addresses) a contact's card names (NetworkHandlers.relaysOf). */
  readonly #relaysOf: (peerId: string) => readonly string[];
  /** One ladder climb per peer at a time: concurrent senders wait for the same attempt. */
  readonly #connecting = new Map<string, Promise<void>>();

  constructor(node: ParleyNode, keeper: RelayKeeper, relaysOf: (peerId: string) => readonly string[]) {
    this.#node = node;
    this.#self = node.peerId.toString();
    this.#keeper = keeper;
    this.#relaysOf = relaysOf;
  }

  /**
   * A connected peer, climbing the ladder (see the top of this file) if it is not connected.
   * Throws PeerUnreachableError when no rung worked: at once for a peer we know no way to,
   * within the rungs' timeouts otherwise, never waiting out a request's whole deadline.
   */
  async reachable(peerId: string): Promise<PeerId> {
    const peer = peerIdFromString(peerId);
    if (this.#hasOpenConnection(peer)) return peer;
    let climbing = this.#connecting.get(peerId);
    if (!climbing) {
      climbing = this.#connect(peer).finally(() => this.#connecting.delete(peerId));
      this.#connecting.set(peerId, climbing);
    }
    await climbing;
    return peer;
  }

  async #connect(peer: PeerId): Promise<void> {
    const log = this.#node.logger.forComponent('parley:net:connect');
    const tried = new Set<string>();
    const attempt = async (addresses: Multiaddr[], timeoutMs: number): Promise<boolean> => {
      const fresh = addresses.map((a) => addressFor(a, peer)).filter((a) => !tried.has(a.toString()));
      if (fresh.length === 0) return false;
      for (const a of fresh) tried.add(a.toString());
      try {
        await this.#node.dial(fresh, { signal: AbortSignal.timeout(timeoutMs) });
        return true;
      } catch (err) {
        log('dial of %d addresses failed: %s', fresh.length, toError(err).name);
        // Another dial may have won meanwhile (the DHT query dials the peer it finds; the peer
        // may dial us), and libp2p then closes ours as a duplicate: that one is as good.
        return this.#hasOpenConnection(peer);
      }
    };
    const known = (await this.#node.peerStore.get(peer).catch(() => undefined))?.addresses.map((a) => a.multiaddr) ?? [];
    if (await attempt(known.filter((a) => !isCircuit(a)), DIRECT_DIAL_TIMEOUT_MS)) return;
    if (await attempt([...this.#relayRoutes(peer), ...known.filter(isCircuit)], RELAYED_DIAL_TIMEOUT_MS)) return;
    const found = await this.#lookup(peer);
    if (this.#hasOpenConnection(peer)) return;
    if (found.length > 0 && (await attempt(found, RELAYED_DIAL_TIMEOUT_MS))) return;
    throw new PeerUnreachableError();
  }

  #hasOpenConnection(peer: PeerId): boolean {
    return this.#node.getConnections(peer).some((c) => c.status === 'open');
  }

  /** Circuit addresses through each relay the peer's card names (malformed ones skipped). */
  #relayRoutes(peer: PeerId): Multiaddr[] {
    const routes: Multiaddr[] = [];
    for (const relay of this.#relaysOf(peer.toString())) {
      try {
        const { address, relayPeerId } = parseRelayAddress(relay);
        if (relayPeerId === this.#self || relayPeerId === peer.toString()) continue;
        routes.push(multiaddr(address).encapsulate('/p2p-circuit'));
      } catch {
        // A card is signed by its owner, not checked by us: skip what does not parse.
      }
    }
    return routes;
  }

  /**
   * The peer's addresses from the DHT (our relays are its servers): a relay answers with the
   * addresses the peer told it by identify, so a contact that moved to a relay we did not know
   * of is found by its circuit address there (`<relay>/p2p-circuit`), and by its direct ones
   * where the relay passes them on. Logs counts and error names only: never whom we looked for.
   */
  async #lookup(peer: PeerId): Promise<Multiaddr[]> {
    const log = this.#node.logger.forComponent('parley:net:lookup');
    // With no DHT server to ask, libp2p would wait out the whole timeout for one to appear.
    if (((this.#node.services.dht as Partial<SingleKadDHT>).routingTable?.size ?? 0) === 0 && !(await this.#dhtServerPending())) {
      log('dht lookup skipped: no DHT server connected');
      return [];
    }
    // Every server's answer, not just the first: a relay the peer has left still holds its old
    // addresses (libp2p keeps them for an hour), and may well answer before the relay it is on.
    const answered = new Map<string, Multiaddr>();
    const started = Date.now();
    let answers = 0;
    try {
      // useCache false: our peer store holds the addresses that just failed.
      for await (const event of this.#node.services.dht.findPeer(peer, { signal: AbortSignal.timeout(DHT_LOOKUP_TIMEOUT_MS), useCache: false })) {
        if (event.name !== 'FINAL_PEER' || !event.peer.id.equals(peer)) continue;
        answers++;
        for (const address of event.peer.multiaddrs.slice(0, DHT_MAX_FOUND_ADDRESSES)) answered.set(address.toString(), address);
      }
    } catch (err) {
      // NotFoundError: nobody knew the peer. Out of time: what has come in so far is used.
      if (answers === 0) {
        log('dht lookup failed after %d ms: %s', Date.now() - started, toError(err).name);
        return [];
      }
    }
    const found = foundAddresses([...answered.values()], peer);
    log('dht lookup in %d ms: %d answers, %d addresses, %d relayed', Date.now() - started, answers, found.length, found.filter(isCircuit).length);
    return found;
  }

  /**
   * True while a DHT server is connected but not yet in the routing table: a relay's identify
   * still running (its protocols unknown), or done and the routing table update still queued.
   * The lookup then waits for it (within its timeout) instead of giving up right after a start.
   */
  async #dhtServerPending(): Promise<boolean> {
    const relays = new Set<string>();
    for (const { address } of this.#keeper.status()) {
      try {
        relays.add(relayPeerOf(multiaddr(address)).toString());
      } catch {
        // The keeper holds validated addresses only.
      }
    }
    for (const connection of this.#node.getConnections()) {
      if (connection.status !== 'open') continue;
      const protocols = (await this.#node.peerStore.get(connection.remotePeer).catch(() => undefined))?.protocols ?? [];
      if (protocols.includes(DHT_PROTOCOL)) return true;
      if (protocols.length === 0 && relays.has(connection.remotePeer.toString())) return true;
    }
    return false;
  }
}
