/**
 * The network as the core sees it: a running node with Parley's protocols, described in plain
 * strings and callbacks so that nothing outside net/ imports libp2p (STYLE.md, "Core").
 *
 * Reaching a peer that is not connected climbs a ladder of bounded rungs (open connection,
 * direct addresses, relays, DHT lookup, else PeerUnreachableError): see dialer.ts. What
 * addresses mean and which are worth dialing (relay addresses, DHT answers, LAN or relayed
 * paths) is in addresses.ts.
 *
 * A contact reached only through a relay is dialed directly in the background as soon as
 * identify tells us its direct addresses: DCUtR upgrades only between public addresses, so two
 * peers on one LAN (or one machine) that met through a relay would otherwise stay relayed.
 *
 * Our own relays are kept by RelayKeeper (reservations, so contacts can reach us); mailbox
 * deposits, fetches and acknowledgements go through MailboxClient.
 */
import type { AbortOptions, Connection, DialTarget, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { Hello, type IntroduceStatus } from './protocols/hello';
import { MailboxClient, type MailboxEnvelope, type MailboxKey } from './protocols/mailbox';
import { Msg, type DeliveryStatus } from './protocols/msg';
import { addressFor, isCircuit, pathOf, type ConnectionPath } from './addresses';
import { Dialer, DIRECT_DIAL_TIMEOUT_MS } from './dialer';
import { createParleyNode, type ParleyNode } from './node';
import { RelayKeeper, type RelayStatus } from './relay-keeper';
import type { ProtocolHost } from './request-response';

export type { IntroduceStatus } from './protocols/hello';
export type { DeliveryStatus } from './protocols/msg';
export type { RelayStatus } from './relay-keeper';
export { DHT_MAX_FOUND_ADDRESSES, foundAddresses, parseRelayAddress, pathOf, type ConnectionPath } from './addresses';
export { DHT_LOOKUP_TIMEOUT_MS, DIRECT_DIAL_TIMEOUT_MS, RELAYED_DIAL_TIMEOUT_MS } from './dialer';

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

export class ParleyNetwork {
  readonly peerId: string;
  readonly #node: ParleyNode;
  readonly #hello: Hello;
  readonly #msg: Msg;
  readonly #mailbox: MailboxClient;
  readonly #keeper: RelayKeeper;
  readonly #dialer: Dialer;

  private constructor(node: ParleyNode, hello: Hello, msg: Msg, keeper: RelayKeeper, handlers: NetworkHandlers) {
    this.#node = node;
    this.peerId = node.peerId.toString();
    this.#hello = hello;
    this.#msg = msg;
    this.#mailbox = new MailboxClient(node);
    this.#keeper = keeper;
    this.#dialer = new Dialer(node, keeper, (peerId) => handlers.relaysOf?.(peerId) ?? []);
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


  async fetchCard(peerId: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#hello.fetchCard(await this.#dialer.reachable(peerId), signal);
  }

  async introduce(peerId: string, envelope: Uint8Array, signal?: AbortSignal): Promise<IntroduceStatus> {
    return this.#hello.introduce(await this.#dialer.reachable(peerId), envelope, signal);
  }

  async send(peerId: string, envelopes: readonly Uint8Array[], signal?: AbortSignal): Promise<DeliveryStatus[]> {
    return this.#msg.send(await this.#dialer.reachable(peerId), envelopes, signal);
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
