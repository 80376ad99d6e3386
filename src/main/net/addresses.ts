/**
 * Address bookkeeping for the network: which addresses are worth dialing, and what they say.
 * Pure functions over multiaddrs (no node, no I/O), split from ParleyNetwork so the checks on
 * addresses that come from others (a relay's DHT answer, a contact's card) read and test on
 * their own: a relay address is checked strictly, a DHT answer is filtered and capped, and a
 * connection's address tells the UI whether it is on the LAN, direct or relayed.
 */
import type { Connection, PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { relayPeerOf } from './relay-keeper';

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

/** `address` as a dial target for `peer`: ends in /p2p/<peer> (circuit addresses get it appended). */
export function addressFor(address: Multiaddr, peer: PeerId): Multiaddr {
  const last = address.getComponents().at(-1);
  return last?.name === 'p2p' && last.value === peer.toString() ? address : address.encapsulate(`/p2p/${peer.toString()}`);
}

export const isCircuit = (address: Multiaddr): boolean => address.getComponents().some((c) => c.name === 'p2p-circuit');

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
