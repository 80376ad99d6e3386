/**
 * The network as the core sees it: a running node with Parley's protocols, described in plain
 * strings and callbacks so that nothing outside net/ imports libp2p (STYLE.md, "Core").
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
 * A contact reached only through a relay is dialed directly in the background as soon as
 * identify tells us its direct addresses: DCUtR upgrades only between public addresses, so two
 * peers on one LAN (or one machine) that met through a relay would otherwise stay relayed.
 *
 * Our own relays are kept by RelayKeeper (reservations, so contacts can reach us); mailbox
 * deposits, fetches and acknowledgements go through MailboxClient.
 */
import type { AbortOptions, Connection, DialTarget, PeerId, Stream } from '@libp2p/interface';
import type { SingleKadDHT } from '@libp2p/kad-dht';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { Hello, type IntroduceStatus } from './protocols/hello';
import { MailboxClient, type MailboxEnvelope, type MailboxKey } from './protocols/mailbox';
import { Msg, type DeliveryStatus } from './protocols/msg';
import { DHT_PROTOCOL } from './constants';
import { PeerUnreachableError, toError } from './errors';
import { createParleyNode, type ParleyNode } from './node';
import { RelayKeeper, relayPeerOf, type RelayStatus } from './relay-keeper';
import type { ProtocolHost } from './request-response';

export type { IntroduceStatus } from './protocols/hello';
export type { DeliveryStatus } from './protocols/msg';
export type { RelayStatus } from './relay-keeper';

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
/**
 * Addresses dialed from one DHT answer. The answer comes from a relay, not from the peer: a
 * device has a few interfaces, each with TCP and WebSockets, plus one circuit per relay it
 * uses; more is noise or a hostile server, and each address costs a dial.
 */
export const DHT_MAX_FOUND_ADDRESSES = 16;
/**
 * Checks a relay address strictly: a multiaddr that names its relay (`/…/p2p/<PeerId>`) and is
 * not itself a circuit. Returns the canonical text and the relay's PeerId; throws RangeError.
 */
export function parseRelayAddress(address: string): { address: string; relayPeerId: string } {
  let addr: Multiaddr;
  try {
    addr = multiaddr(address);
  } catch {
    throw new RangeError('not a multiaddr');
  }
  if (addr.getComponents().some((c) => c.name === 'p2p-circuit')) throw new RangeError('a relay address cannot be a circuit address');
  let relay: PeerId;
  try {
    relay = relayPeerOf(addr);
  } catch {
    throw new RangeError('a relay address must end in /p2p/<peerId>');
  }
  const last = addr.getComponents().at(-1);
  if (last?.name !== 'p2p') throw new RangeError('a relay address must end in /p2p/<peerId>');
  return { address: addr.toString(), relayPeerId: relay.toString() };
}

/** How a connection reaches a peer, as the UI shows it (ARCHITECTURE.md §6). */
export type ConnectionPath = 'lan' | 'direct' | 'relayed';

export interface ConnectionInfo {
  readonly peerId: string;
  readonly address: string;
  readonly path: ConnectionPath;
}

export interface NetworkHandlers {
  /** Contacts (and peers we asked to become one) may use msg and skip the stranger cap. */
  isContact(peerId: string): boolean;
  isBlocked(peerId: string): boolean;
  /** Our current signed contact card, for hello GET_CARD. */
  card(): Uint8Array;
  introduce(peerId: string, envelope: Uint8Array): Promise<IntroduceStatus>;
  /** A batch from a contact, processed in order; resolves after commit. */
  deliver(peerId: string, envelopes: Uint8Array[], path: ConnectionPath): Promise<DeliveryStatus[]>;
  peerDiscovered(peerId: string): void;
  connectionChanged(peerId: string, connected: boolean): void;
  /** identify told us where a peer listens: worth remembering for the next start. */
  peerAddresses(peerId: string, addresses: string[]): void;
  /** The relays (addresses) a contact's card names, to reach it through them. */
  relaysOf?(peerId: string): readonly string[];
  /** A reservation on one of our relays came into place (start, or back after a loss). */
  relayReserved?(relayPeerId: string): void;
}

export interface NetworkOptions {
  readonly deviceKey: Uint8Array;
  readonly listen: readonly string[];
  readonly lan: boolean;
  /** Our relays: reservations are kept on them (RelayKeeper); change them with `setRelays`. */
  readonly relays?: readonly string[];
  readonly bootstrap?: readonly string[];
  readonly handlers: NetworkHandlers;
}

/** RFC 1918, link-local, CGNAT, loopback and IPv6 ULA/link-local: reachable only nearby. */
function isLocalIp(ip: string): boolean {
  if (/^(10\.|127\.|192\.168\.|169\.254\.)/.test(ip)) return true;
  const m = /^172\.(\d+)\./.exec(ip);
  if (m && Number(m[1]) >= 16 && Number(m[1]) <= 31) return true;
  const cgnat = /^100\.(\d+)\./.exec(ip);
  if (cgnat && Number(cgnat[1]) >= 64 && Number(cgnat[1]) <= 127) return true;
  const lower = ip.toLowerCase();
  return lower === '::1' || lower.startsWith('fe80:') || lower.startsWith('fc') || lower.startsWith('fd');
}

export function pathOf(connection: Pick<Connection, 'remoteAddr' | 'limits'>): ConnectionPath {
  const address = connection.remoteAddr.toString();
  if (connection.limits !== undefined || address.includes('/p2p-circuit')) return 'relayed';
  const ip = /^\/ip[46]\/([^/]+)/.exec(address)?.[1];
  return ip !== undefined && isLocalIp(ip) ? 'lan' : 'direct';
}

/** The open connection to use for a stream: direct before relayed, relayed only where allowed. */
function openConnectionFor(node: ParleyNode, peer: PeerId, limitedOk: boolean): Connection | undefined {
  const open = node.getConnections(peer).filter((c) => c.status === 'open');
  return open.find((c) => c.limits === undefined) ?? (limitedOk ? open[0] : undefined);
}

/**
 * The host our protocols dial through: streams to a peer go over a connection we already
 * have, a relayed one included, instead of libp2p's dial, which reuses only unlimited
 * connections and would try to dial a peer that is reachable only through a relay again.
 */
function protocolHost(node: ParleyNode): ProtocolHost {
  return {
    handle: node.handle.bind(node),
    unhandle: node.unhandle.bind(node),
    logger: node.logger,
    dialProtocol: async (peer: DialTarget, protocols: string | string[], options?: AbortOptions & { runOnLimitedConnection?: boolean }): Promise<Stream> => {
      if (isPeerId(peer)) {
        const connection = openConnectionFor(node, peer, options?.runOnLimitedConnection === true);
        if (connection) return connection.newStream(protocols, options);
      }
      return node.dialProtocol(peer, protocols, options);
    },
  };
}

function isPeerId(target: DialTarget): target is PeerId {
  return typeof (target as PeerId).toMultihash === 'function' && !Array.isArray(target);
}

/** `address` as a dial target for `peer`: ends in /p2p/<peer> (circuit addresses get it appended). */
function addressFor(address: Multiaddr, peer: PeerId): Multiaddr {
  const last = address.getComponents().at(-1);
  return last?.name === 'p2p' && last.value === peer.toString() ? address : address.encapsulate(`/p2p/${peer.toString()}`);
}

const isCircuit = (address: Multiaddr): boolean => address.getComponents().some((c) => c.name === 'p2p-circuit');

/**
 * The addresses of a DHT answer worth dialing for `peer`, circuits first (a peer behind NAT is
 * reachable only through its relays), at most DHT_MAX_FOUND_ADDRESSES. Dropped: addresses that
 * name another peer as their destination and circuits through circuits. Private addresses stay:
 * Parley is LAN-first, and a relay passes them on only when its operator allows it.
 */
export function foundAddresses(addresses: readonly Multiaddr[], peer: PeerId): Multiaddr[] {
  const usable = addresses.filter((address) => leadsTo(address, peer.toString()));
  return [...usable.filter(isCircuit), ...usable.filter((a) => !isCircuit(a))].slice(0, DHT_MAX_FOUND_ADDRESSES);
}

/** `address` reaches `peer`: it names no other destination; a circuit names its relay, one hop only. */
function leadsTo(address: Multiaddr, peer: string): boolean {
  const components = address.getComponents();
  const hop = components.findIndex((c) => c.name === 'p2p-circuit');
  const tail = hop === -1 ? components : components.slice(hop + 1);
  const destination = tail.filter((c) => c.name === 'p2p').at(-1)?.value;
  if (destination !== undefined && destination !== peer) return false;
  if (hop === -1) return true;
  // After the hop only the destination may follow: no second circuit, no further transport.
  if (tail.some((c) => c.name !== 'p2p')) return false;
  const relay = components.slice(0, hop).filter((c) => c.name === 'p2p').at(-1)?.value;
  return relay !== undefined && relay !== peer;
}

export class ParleyNetwork {
  readonly peerId: string;
  readonly #node: ParleyNode;
  readonly #hello: Hello;
  readonly #msg: Msg;
  readonly #mailbox: MailboxClient;
  readonly #keeper: RelayKeeper;
  readonly #handlers: NetworkHandlers;
  /** One ladder climb per peer at a time: concurrent senders wait for the same attempt. */
  readonly #connecting = new Map<string, Promise<void>>();

  private constructor(node: ParleyNode, hello: Hello, msg: Msg, keeper: RelayKeeper, handlers: NetworkHandlers) {
    this.#node = node;
    this.peerId = node.peerId.toString();
    this.#hello = hello;
    this.#msg = msg;
    this.#mailbox = new MailboxClient(node);
    this.#keeper = keeper;
    this.#handlers = handlers;
  }

  static async start(options: NetworkOptions): Promise<ParleyNetwork> {
    const { handlers } = options;
    const node = await createParleyNode({
      privateKey: options.deviceKey,
      listen: [...options.listen],
      lan: options.lan,
      bootstrap: options.bootstrap ? [...options.bootstrap] : undefined,
      isContact: (peerId) => handlers.isContact(peerId.toString()),
      isBlocked: (peerId) => handlers.isBlocked(peerId.toString()),
    });
    const host = protocolHost(node);
    const hello = new Hello(host, { card: () => handlers.card(), introduce: (peerId, e) => handlers.introduce(peerId, e) });
    const msg = new Msg(host, {
      isContact: (peerId) => handlers.isContact(peerId) && !handlers.isBlocked(peerId),
      deliver: (peerId, envelopes, context) => handlers.deliver(peerId, envelopes, pathOf(context.connection)),
    });
    await hello.start();
    await msg.start();
    node.addEventListener('peer:discovery', (event) => handlers.peerDiscovered(event.detail.id.toString()));
    node.addEventListener('connection:open', (event) => handlers.connectionChanged(event.detail.remotePeer.toString(), true));
    const upgrading = new Set<string>();
    node.addEventListener('peer:identify', (event) => {
      const { peerId, listenAddrs } = event.detail;
      const addresses = listenAddrs.map((a) => a.toString()).filter((a) => !a.includes('/p2p-circuit/p2p-circuit'));
      if (addresses.length > 0) handlers.peerAddresses(peerId.toString(), addresses);
      const direct = listenAddrs.filter((a) => !isCircuit(a));
      const onlyRelayed = node.getConnections(peerId).every((c) => c.limits !== undefined);
      if (direct.length === 0 || !onlyRelayed || upgrading.has(peerId.toString()) || !handlers.isContact(peerId.toString())) return;
      upgrading.add(peerId.toString());
      node
        .dial(direct.map((a) => addressFor(a, peerId)), { signal: AbortSignal.timeout(DIRECT_DIAL_TIMEOUT_MS) })
        .catch(() => undefined) // unreachable directly (NAT, another network): the relayed connection stays
        .finally(() => upgrading.delete(peerId.toString()));
    });
    node.addEventListener('connection:close', (event) => {
      const peer = event.detail.remotePeer;
      // Several connections may exist to one peer; it is offline only when the last one closed.
      if (node.getConnections(peer).length === 0) handlers.connectionChanged(peer.toString(), false);
    });
    await node.start();
    const keeper = new RelayKeeper(node, node.services.transportListen, {
      reserved: (relayPeerId) => handlers.relayReserved?.(relayPeerId),
    });
    keeper.set(options.relays ?? []);
    return new ParleyNetwork(node, hello, msg, keeper, handlers);
  }

  /** Replaces our relays: reserves on new ones, releases dropped ones (addresses from parseRelayAddress). */
  setRelays(addresses: readonly string[]): void {
    this.#keeper.set(addresses);
  }

  /** Our relays and whether a reservation is in place on each. */
  relays(): RelayStatus[] {
    return this.#keeper.status();
  }

  addresses(): string[] {
    return this.#node.getMultiaddrs().map((a) => a.toString());
  }

  connections(): ConnectionInfo[] {
    return this.#node.getConnections().map((c) => ({ peerId: c.remotePeer.toString(), address: c.remoteAddr.toString(), path: pathOf(c) }));
  }

  isConnected(peerId: string): boolean {
    return this.#node.getConnections(toPeerId(peerId)).length > 0;
  }

  /** The best current path to a peer (a direct connection over a relayed one), if connected. */
  pathTo(peerId: string): ConnectionPath | undefined {
    const paths = this.#node.getConnections(toPeerId(peerId)).map(pathOf);
    return paths.find((p) => p !== 'relayed') ?? paths[0];
  }

  /**
   * A connected peer, climbing the ladder (see the top of this file) if it is not connected.
   * Throws PeerUnreachableError when no rung worked: at once for a peer we know no way to,
   * within the rungs' timeouts otherwise, never waiting out a request's whole deadline.
   */
  async #reachable(peerId: string): Promise<PeerId> {
    const peer = toPeerId(peerId);
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
    for (const relay of this.#handlers.relaysOf?.(peer.toString()) ?? []) {
      try {
        const { address, relayPeerId } = parseRelayAddress(relay);
        if (relayPeerId === this.peerId || relayPeerId === peer.toString()) continue;
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

  async fetchCard(peerId: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#hello.fetchCard(await this.#reachable(peerId), signal);
  }

  async introduce(peerId: string, envelope: Uint8Array, signal?: AbortSignal): Promise<IntroduceStatus> {
    return this.#hello.introduce(await this.#reachable(peerId), envelope, signal);
  }

  async send(peerId: string, envelopes: readonly Uint8Array[], signal?: AbortSignal): Promise<DeliveryStatus[]> {
    return this.#msg.send(await this.#reachable(peerId), envelopes, signal);
  }

  // ── mailboxes (issue 5, item 3) ─────────────────────────────────────────────────────────

  /** Leaves an envelope in mailbox `mailboxId` on the relay at `relayAddress`; throws MailboxError or a transport error. */
  async deposit(relayAddress: string, mailboxId: Uint8Array, envelope: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.#mailbox.deposit(multiaddr(relayAddress), mailboxId, envelope, { signal });
  }

  /** Every envelope waiting in our mailbox on a relay, oldest first; nothing is deleted. */
  async fetchMailbox(relayAddress: string, key: MailboxKey, signal?: AbortSignal): Promise<MailboxEnvelope[]> {
    return this.#mailbox.fetchAll(multiaddr(relayAddress), key, { signal });
  }

  /** Deletes fetched envelopes (by the relay's ids) from our mailbox on a relay. */
  async ackMailbox(relayAddress: string, key: MailboxKey, ids: readonly number[], signal?: AbortSignal): Promise<number> {
    return this.#mailbox.ack(multiaddr(relayAddress), key, ids, { signal });
  }

  /** Remembers addresses learned from a card or the store, so the peer can be dialled by id. */
  async rememberAddresses(peerId: string, addresses: readonly string[]): Promise<void> {
    if (addresses.length === 0) return;
    const { multiaddr } = await import('@multiformats/multiaddr');
    await this.#node.peerStore.merge(toPeerId(peerId), { multiaddrs: addresses.map((a) => multiaddr(a)) });
  }

  async hangUp(peerId: string): Promise<void> {
    await this.#node.hangUp(toPeerId(peerId));
  }

  async stop(): Promise<void> {
    await this.#keeper.stop();
    await this.#msg.stop();
    await this.#hello.stop();
    await this.#node.stop();
  }
}

function toPeerId(peerId: string): PeerId {
  return peerIdFromString(peerId);
}
