/**
 * The libp2p node of a Parley peer or relay (ARCHITECTURE.md §5): TCP and WebSockets, Noise,
 * yamux; identify, ping; mDNS on the LAN; circuit-relay-v2 client (and server in relay mode);
 * DCUtR and AutoNAT; a Parley-only Kademlia DHT (client in the app, server on relays).
 *
 * Nothing here is implicit: listen addresses, LAN discovery and relay/bootstrap peers are
 * options the caller must pass; there are no public bootstrap nodes or relays anywhere.
 *
 * The node is returned unstarted, so protocol handlers can be registered before any peer can
 * connect (and before identify advertises our protocol list): `await node.start()` after.
 */
import '../polyfills';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { autoNAT } from '@libp2p/autonat';
import { circuitRelayServer, circuitRelayTransport, type CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { dcutr } from '@libp2p/dcutr';
import { InvalidParametersError } from '@libp2p/interface';
import type { ComponentLogger, Libp2p, PeerId, PrivateKey, Transport } from '@libp2p/interface';
import { identify, identifyPush, type Identify, type IdentifyPush } from '@libp2p/identify';
import { kadDHT, passthroughMapper, removePrivateAddressesMapper, type KadDHT } from '@libp2p/kad-dht';
import { mdns } from '@libp2p/mdns';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { ping, type Ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2pOptions } from 'libp2p';
import {
  BOOTSTRAP_TAG,
  BOOTSTRAP_TAG_VALUE,
  DHT_PROTOCOL,
  DIAL_TIMEOUT_MS,
  INBOUND_CONNECTION_THRESHOLD,
  MAX_CONNECTIONS,
  MAX_INCOMING_PENDING_CONNECTIONS,
  MAX_STRANGER_PEERS,
  MDNS_QUERY_INTERVAL_MS,
  MDNS_SERVICE_TAG,
  RELAY_CONNECTION_DATA_LIMIT_BYTES,
  RELAY_CONNECTION_DURATION_LIMIT_MS,
  RELAY_MAX_RESERVATIONS,
  RELAY_RESERVATION_TTL_MS,
} from './constants';
import { InvalidDeviceKeyError, toError } from './errors';
import { createConnectionGater } from './gater';
import { transportListen, type TransportListen } from './relay-keeper';

export interface ConnectionLimits {
  /** Most open connections before pruning (default MAX_CONNECTIONS). */
  maxConnections?: number;
  /** Most distinct inbound non-contact peers at once (default MAX_STRANGER_PEERS); needs `isContact`. */
  maxStrangerPeers?: number;
  /** Inbound connections mid-upgrade at once (default MAX_INCOMING_PENDING_CONNECTIONS). */
  maxIncomingPendingConnections?: number;
  /** New inbound connections per second per host (default INBOUND_CONNECTION_THRESHOLD). */
  inboundConnectionThreshold?: number;
  /** One dial, upgrade included (default DIAL_TIMEOUT_MS). */
  dialTimeoutMs?: number;
}

/** Limits of relay mode (circuit-relay-v2 server). */
export interface RelayServerLimits {
  /** Reservations held at once (default RELAY_MAX_RESERVATIONS). */
  maxReservations?: number;
  /** Reservation lifetime (default RELAY_RESERVATION_TTL_MS). */
  reservationTtlMs?: number;
  /** Longest a relayed connection may stay open (default RELAY_CONNECTION_DURATION_LIMIT_MS). */
  connectionDurationLimitMs?: number;
  /** Most bytes a relayed connection may carry (default RELAY_CONNECTION_DATA_LIMIT_BYTES). */
  connectionDataLimitBytes?: number;
  /** Concurrent inbound hop streams (reservation and connect requests); libp2p default if unset. */
  maxInboundHopStreams?: number;
}

export interface ParleyNodeOptions {
  /** The device key: a protobuf-encoded Ed25519 libp2p private key (`generateDeviceKey`), persisted by the caller. */
  privateKey: Uint8Array;
  /**
   * Addresses to listen on. Never defaulted: the app passes `/ip4/0.0.0.0/tcp/0` (and a `/ws`
   * address if wanted), tests `/ip4/127.0.0.1/tcp/0`. Empty means dial-only.
   */
  listen: string[];
  /** Addresses to announce instead of the listen addresses (a relay with a public IP). */
  announce?: string[];
  /** mDNS discovery of Parley peers on the LAN. */
  lan: boolean;
  /** mDNS query interval (default MDNS_QUERY_INTERVAL_MS). */
  lanQueryIntervalMs?: number;
  /** Peers to connect to on start and keep connected (DHT entry points); each `/…/p2p/<peerId>`. Default none. */
  bootstrap?: string[];
  /** Relays to reserve a slot on, so contacts can reach us through them; each `/…/p2p/<peerId>`. Default none. */
  relays?: string[];
  /** Relay mode: serve circuit-relay-v2 reservations with these limits (true: the defaults). */
  relayServer?: boolean | RelayServerLimits;
  /** Kademlia mode (default 'client'; relays use 'server'). */
  dhtMode?: 'client' | 'server';
  /**
   * Server mode (relays): keep private and loopback addresses in the DHT's answers. Off by
   * default: in the wide-area DHT they are useless to others and reveal LAN layout. For LAN-only
   * or test networks. A client answers nothing and always keeps them (see `dhtPeerInfoMapper`).
   */
  dhtKeepPrivateAddresses?: boolean;
  /** Contacts are exempt from the stranger cap. Protocol admission is separate (gater.ts). */
  isContact?: (peerId: PeerId) => boolean;
  /** Blocked peers: no connections either way. */
  isBlocked?: (peerId: PeerId) => boolean;
  limits?: ConnectionLimits;
  /** Log sink (libp2p's debug logger, silent unless DEBUG is set, if omitted). */
  logger?: ComponentLogger;
}

export interface ParleyServices extends Record<string, unknown> {
  identify: Identify;
  identifyPush: IdentifyPush;
  ping: Ping;
  dcutr: unknown;
  autoNAT: unknown;
  dht: KadDHT;
  relay?: CircuitRelayService;
  /** Listening after start (relay reservations made and remade at run time: relay-keeper.ts). */
  transportListen: TransportListen;
}

export type ParleyNode = Libp2p<ParleyServices>;

/** A new device key (Ed25519), protobuf-encoded: the bytes `createParleyNode` takes. */
export async function generateDeviceKey(): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair('Ed25519'));
}

/** The PeerId a device key gives, without starting a node. */
export function peerIdFromDeviceKey(privateKey: Uint8Array): PeerId {
  return peerIdFromPrivateKey(decodeDeviceKey(privateKey));
}

function decodeDeviceKey(bytes: Uint8Array): PrivateKey {
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch {
    throw new InvalidDeviceKeyError();
  }
  // One key type for every device: short PeerIds (identity multihash) and fast Noise/identify.
  if (key.type !== 'Ed25519') throw new InvalidDeviceKeyError();
  return key;
}

/** A multiaddr that names its peer: `/…/p2p/<peerId>`. */
function peerAddress(address: string, what: string): { addr: Multiaddr; peerId: PeerId } {
  let addr: Multiaddr;
  try {
    addr = multiaddr(address);
  } catch {
    throw new InvalidParametersError(`Invalid ${what} address`);
  }
  const id = addr
    .getComponents()
    .filter((c) => c.name === 'p2p')
    .pop()?.value;
  if (id === undefined) throw new InvalidParametersError(`A ${what} address must end in /p2p/<peerId>`);
  try {
    return { addr, peerId: peerIdFromString(id) };
  } catch {
    throw new InvalidParametersError(`Invalid peer id in a ${what} address`);
  }
}

function checkAddresses(addresses: string[], what: string): void {
  for (const address of addresses) {
    try {
      multiaddr(address);
    } catch {
      throw new InvalidParametersError(`Invalid ${what} address`);
    }
  }
}

/**
 * Which addresses the DHT keeps. kad-dht applies this mapper to a connected DHT server before
 * adding it to the routing table, and to the peers a server puts in its answers.
 *
 * A client (the app) answers no query, so for it the mapper only decides which servers it may
 * ask. Parley is LAN-first: a relay on the LAN (or in a test's namespace) has a private address,
 * and the default mapper would leave it out of the routing table, so the app could never look a
 * contact up through it. The client keeps private addresses; what it learns is only ever dialed
 * to the one PeerId looked up (Noise checks it), and it publishes nothing.
 *
 * A server (a relay) tells anyone who asks: private addresses there only when its operator runs
 * it on a LAN or test network (`dhtKeepPrivateAddresses`).
 */
export function dhtPeerInfoMapper(mode: 'client' | 'server', keepPrivateAddresses: boolean): typeof passthroughMapper {
  return mode === 'client' || keepPrivateAddresses ? passthroughMapper : removePrivateAddressesMapper;
}

/**
 * WebSockets: listening works everywhere (the `ws` server inside @libp2p/websockets), dialing
 * needs a global `WebSocket`, which Node 20 has only behind --experimental-websocket (Node 22+
 * and Electron 45 have it). Where it is missing, WebSocket addresses are filtered out of dials
 * so the dialer goes straight to TCP instead of failing each /ws attempt with a ReferenceError.
 */
function webSocketsTransport(): NonNullable<Libp2pOptions['transports']>[number] {
  const factory = webSockets();
  return (components) => {
    const transport: Transport = factory(components);
    if (typeof globalThis.WebSocket !== 'function') {
      transport.dialFilter = () => [];
    }
    return transport;
  };
}

export async function createParleyNode(options: ParleyNodeOptions): Promise<ParleyNode> {
  if (!Array.isArray(options.listen)) throw new InvalidParametersError('listen addresses must be given explicitly');
  if (typeof options.lan !== 'boolean') throw new InvalidParametersError('lan must be true or false');
  checkAddresses(options.listen, 'listen');
  checkAddresses(options.announce ?? [], 'announce');
  const privateKey = decodeDeviceKey(options.privateKey);
  const bootstrap = (options.bootstrap ?? []).map((a) => peerAddress(a, 'bootstrap'));
  const relays = (options.relays ?? []).map((a) => peerAddress(a, 'relay'));
  const limits = options.limits ?? {};

  // The gater counts strangers among connected peers; the node exists only after createLibp2p.
  const late: { node?: ParleyNode } = {};
  const connectionGater = createConnectionGater({
    isContact: options.isContact,
    isBlocked: options.isBlocked,
    maxStrangerPeers: limits.maxStrangerPeers ?? MAX_STRANGER_PEERS,
    connectedPeers: () => late.node?.getPeers() ?? [],
  });

  const relayLimits = options.relayServer === true ? {} : options.relayServer || undefined;
  const dhtMode = options.dhtMode ?? 'client';

  const node = await createLibp2p<ParleyServices>({
    start: false,
    privateKey,
    // A fixed user agent: libp2p's default tells every peer our libp2p, Node and Electron versions.
    nodeInfo: { name: 'parley', version: '1', userAgent: 'parley' },
    addresses: {
      // A relay listen address makes the relay transport reserve a slot there.
      listen: [...options.listen, ...relays.map(({ addr }) => `${addr.toString()}/p2p-circuit`)],
      announce: options.announce ?? [],
    },
    transports: [tcp(), webSocketsTransport(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater,
    connectionManager: {
      maxConnections: limits.maxConnections ?? MAX_CONNECTIONS,
      maxIncomingPendingConnections: limits.maxIncomingPendingConnections ?? MAX_INCOMING_PENDING_CONNECTIONS,
      inboundConnectionThreshold: limits.inboundConnectionThreshold ?? INBOUND_CONNECTION_THRESHOLD,
      dialTimeout: limits.dialTimeoutMs ?? DIAL_TIMEOUT_MS,
    },
    peerDiscovery: options.lan
      ? [mdns({ serviceTag: MDNS_SERVICE_TAG, interval: options.lanQueryIntervalMs ?? MDNS_QUERY_INTERVAL_MS })]
      : [],
    logger: options.logger,
    services: {
      identify: identify(),
      // Tells connected peers when our addresses change (a new relay reservation, a new LAN).
      identifyPush: identifyPush(),
      // Also a DHT dependency: the service must be named `ping`.
      ping: ping(),
      transportListen: transportListen(),
      dcutr: dcutr(),
      autoNAT: autoNAT(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: dhtMode === 'client',
        peerInfoMapper: dhtPeerInfoMapper(dhtMode, options.dhtKeepPrivateAddresses === true),
      }),
      ...(relayLimits === undefined
        ? {}
        : {
            relay: circuitRelayServer({
              maxInboundHopStreams: relayLimits.maxInboundHopStreams,
              reservations: {
                maxReservations: relayLimits.maxReservations ?? RELAY_MAX_RESERVATIONS,
                reservationTtl: relayLimits.reservationTtlMs ?? RELAY_RESERVATION_TTL_MS,
                defaultDurationLimit: relayLimits.connectionDurationLimitMs ?? RELAY_CONNECTION_DURATION_LIMIT_MS,
                defaultDataLimit: BigInt(relayLimits.connectionDataLimitBytes ?? RELAY_CONNECTION_DATA_LIMIT_BYTES),
              },
            }),
          }),
    },
  });

  late.node = node;

  if (bootstrap.length > 0) {
    const log = node.logger.forComponent('parley:net:node');
    node.addEventListener('start', () => {
      for (const { addr, peerId } of bootstrap) {
        // The KEEP_ALIVE-prefixed tag makes libp2p's reconnect queue redial it when it drops.
        node.peerStore
          .merge(peerId, { multiaddrs: [addr], tags: { [BOOTSTRAP_TAG]: { value: BOOTSTRAP_TAG_VALUE } } })
          .then(() => node.dial(peerId))
          .catch((err: unknown) => log('bootstrap dial failed: %s', toError(err).name));
      }
    });
  }

  return node;
}
