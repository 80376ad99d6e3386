/**
 * Who may connect, and who may reach which protocol (ARCHITECTURE.md §5: "a connection gater
 * admits contacts; strangers reach only a rate-limited hello protocol").
 *
 * libp2p's gater decides per connection, and it must let strangers connect, or no one could
 * ever send us a contact request. So admission happens at two levels:
 *
 * 1. Connection (`createConnectionGater`): blocked peers are refused outright, in both
 *    directions and through relays; inbound strangers are capped (MAX_STRANGER_PEERS) so a
 *    flood of throwaway identities cannot crowd contacts out of the connection limit.
 * 2. Protocol (`Admit` policies): every Parley protocol handler must state who it serves —
 *    `admitContacts(isContact)` for everything but hello, `admitAnyone` for hello — and the
 *    request-response helper resets the stream of anyone else before reading a byte.
 *    The policy is a required option there, so no protocol can forget it.
 *
 * libp2p's own protocols (identify, ping, kad, autonat, dcutr, relay) stay reachable for any
 * connected peer: they are what lets strangers and relays connect at all, and carry no
 * Parley data.
 */
import type { Connection, ConnectionGater, PeerId } from '@libp2p/interface';

/** A protocol's admission policy: may this peer, on this connection, use the protocol? */
export type Admit = (peerId: PeerId, connection: Connection) => boolean | Promise<boolean>;

/** Serves only peers the predicate names (contacts). */
export function admitContacts(isContact: (peerId: PeerId) => boolean | Promise<boolean>): Admit {
  return (peerId) => isContact(peerId);
}

/** Serves any connected peer; for hello only, whose handler is rate-limited and validates everything. */
export const admitAnyone: Admit = () => true;

export interface ConnectionGaterInit {
  /** Contacts are never counted against the stranger cap. Without it, no peer is a stranger (relay mode). */
  isContact?: (peerId: PeerId) => boolean;
  /** Blocked peers: no connection in either direction, direct or relayed. */
  isBlocked?: (peerId: PeerId) => boolean;
  /** Most distinct inbound non-contact peers connected at once. */
  maxStrangerPeers: number;
  /** Peers with an open connection now (the node's `getPeers`, bound late). */
  connectedPeers: () => PeerId[];
}

export function createConnectionGater(init: ConnectionGaterInit): ConnectionGater {
  const isBlocked = init.isBlocked ?? ((): boolean => false);
  const isContact = init.isContact;

  /** Would admitting `peerId` as one more stranger exceed the cap? */
  const strangerCapReached = (peerId: PeerId): boolean => {
    if (isContact === undefined || isContact(peerId)) return false;
    let strangers = 0;
    for (const peer of init.connectedPeers()) {
      // Another connection from a stranger already counted costs nothing more.
      if (peer.equals(peerId)) return false;
      if (!isContact(peer)) strangers++;
    }
    return strangers >= init.maxStrangerPeers;
  };

  return {
    denyDialPeer: (peerId) => isBlocked(peerId),
    // The remote PeerId is known (Noise-authenticated) only from the encrypted stage on.
    denyInboundEncryptedConnection: (peerId) => isBlocked(peerId) || strangerCapReached(peerId),
    denyOutboundEncryptedConnection: (peerId) => isBlocked(peerId),
    denyInboundRelayedConnection: (_relay, remotePeer) => isBlocked(remotePeer),
    denyOutboundRelayedConnection: (source, destination) => isBlocked(source) || isBlocked(destination),
  };
}
