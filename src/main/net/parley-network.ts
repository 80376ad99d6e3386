/**
 * The network as the core sees it: a running node with Parley's protocols, described in plain
 * strings and callbacks so that nothing outside net/ imports libp2p (STYLE.md, "Core").
 */
import type { Connection, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { Hello, type IntroduceStatus } from './protocols/hello';
import { Msg, type DeliveryStatus } from './protocols/msg';
import { PeerUnreachableError } from './errors';
import { createParleyNode, type ParleyNode } from './node';

export type { IntroduceStatus } from './protocols/hello';
export type { DeliveryStatus } from './protocols/msg';

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
}

export interface NetworkOptions {
  readonly deviceKey: Uint8Array;
  readonly listen: readonly string[];
  readonly lan: boolean;
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

export class ParleyNetwork {
  readonly peerId: string;
  readonly #node: ParleyNode;
  readonly #hello: Hello;
  readonly #msg: Msg;

  private constructor(node: ParleyNode, hello: Hello, msg: Msg) {
    this.#node = node;
    this.peerId = node.peerId.toString();
    this.#hello = hello;
    this.#msg = msg;
  }

  static async start(options: NetworkOptions): Promise<ParleyNetwork> {
    const { handlers } = options;
    const node = await createParleyNode({
      privateKey: options.deviceKey,
      listen: [...options.listen],
      lan: options.lan,
      relays: options.relays ? [...options.relays] : undefined,
      bootstrap: options.bootstrap ? [...options.bootstrap] : undefined,
      isContact: (peerId) => handlers.isContact(peerId.toString()),
      isBlocked: (peerId) => handlers.isBlocked(peerId.toString()),
    });
    const hello = new Hello(node, { card: () => handlers.card(), introduce: (peerId, e) => handlers.introduce(peerId, e) });
    const msg = new Msg(node, {
      isContact: (peerId) => handlers.isContact(peerId) && !handlers.isBlocked(peerId),
      deliver: (peerId, envelopes, context) => handlers.deliver(peerId, envelopes, pathOf(context.connection)),
    });
    await hello.start();
    await msg.start();
    node.addEventListener('peer:discovery', (event) => handlers.peerDiscovered(event.detail.id.toString()));
    node.addEventListener('connection:open', (event) => handlers.connectionChanged(event.detail.remotePeer.toString(), true));
    node.addEventListener('peer:identify', (event) => {
      const addresses = event.detail.listenAddrs.map((a) => a.toString()).filter((a) => !a.includes('/p2p-circuit/p2p-circuit'));
      if (addresses.length > 0) handlers.peerAddresses(event.detail.peerId.toString(), addresses);
    });
    node.addEventListener('connection:close', (event) => {
      const peer = event.detail.remotePeer;
      // Several connections may exist to one peer; it is offline only when the last one closed.
      if (node.getConnections(peer).length === 0) handlers.connectionChanged(peer.toString(), false);
    });
    await node.start();
    return new ParleyNetwork(node, hello, msg);
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
   * Fails at once for a peer we are not connected to and know no address of: libp2p would
   * otherwise wait for a DHT lookup until the request's deadline, holding up the outbox while
   * the peer may reconnect any moment (the connection kicks the outbox anyway).
   */
  async #reachable(peerId: string): Promise<PeerId> {
    const peer = toPeerId(peerId);
    if (this.#node.getConnections(peer).length > 0) return peer;
    const known = await this.#node.peerStore.get(peer).catch(() => undefined);
    if (!known || known.addresses.length === 0) throw new PeerUnreachableError();
    return peer;
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
    await this.#msg.stop();
    await this.#hello.stop();
    await this.#node.stop();
  }
}

function toPeerId(peerId: string): PeerId {
  return peerIdFromString(peerId);
}
