import '../polyfills';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { beforeAll, describe, expect, it } from 'vitest';
import { dhtPeerInfoMapper, generateDeviceKey, peerIdFromDeviceKey } from './node';
import { DHT_MAX_FOUND_ADDRESSES, foundAddresses } from './parley-network';

async function newPeerId(): Promise<PeerId> {
  return peerIdFromDeviceKey(await generateDeviceKey());
}

describe('dht lookup - the addresses dialed from an answer', () => {
  let peer: PeerId;
  let relay: PeerId;
  let other: PeerId;

  beforeAll(async () => {
    [peer, relay, other] = await Promise.all([newPeerId(), newPeerId(), newPeerId()]);
  });

  const texts = (addresses: ReturnType<typeof foundAddresses>): string[] => addresses.map((a) => a.toString());

  it('dht lookup - puts the peer’s relayed addresses first and keeps private ones', () => {
    const direct = `/ip4/192.168.1.20/tcp/4001`;
    const circuit = `/ip4/10.0.0.1/tcp/4001/p2p/${relay.toString()}/p2p-circuit`;
    expect(texts(foundAddresses([multiaddr(direct), multiaddr(circuit)], peer))).toEqual([circuit, direct]);
  });

  it('dht lookup - drops addresses that lead to another peer, through the peer itself, or through two relays', () => {
    const mine = `/ip4/203.0.113.5/tcp/4001/p2p/${peer.toString()}`;
    const answer = [
      `/ip4/203.0.113.6/tcp/4001/p2p/${other.toString()}`,
      `/ip4/10.0.0.1/tcp/4001/p2p/${relay.toString()}/p2p-circuit/p2p/${other.toString()}`,
      `/ip4/10.0.0.1/tcp/4001/p2p/${peer.toString()}/p2p-circuit`,
      `/ip4/10.0.0.1/tcp/4001/p2p-circuit`,
      `/ip4/10.0.0.1/tcp/4001/p2p/${relay.toString()}/p2p-circuit/p2p/${other.toString()}/p2p-circuit/p2p/${peer.toString()}`,
      mine,
    ].map((a) => multiaddr(a));
    expect(texts(foundAddresses(answer, peer))).toEqual([mine]);
  });

  it('dht lookup - dials at most DHT_MAX_FOUND_ADDRESSES of a flood', () => {
    const flood = Array.from({ length: DHT_MAX_FOUND_ADDRESSES * 4 }, (_, i) => multiaddr(`/ip4/198.51.100.1/tcp/${1000 + i}`));
    const circuit = multiaddr(`/ip4/198.51.100.2/tcp/4001/p2p/${relay.toString()}/p2p-circuit/p2p/${peer.toString()}`);
    const found = foundAddresses([...flood, circuit], peer);
    expect(found).toHaveLength(DHT_MAX_FOUND_ADDRESSES);
    expect(found[0]?.toString()).toBe(circuit.toString());
  });
});

describe('dht addresses - what the routing table and the answers keep', () => {
  it('dht addresses - a client keeps a relay on a private address; a server answers with private addresses only when told to', async () => {
    const info = { id: await newPeerId(), multiaddrs: [multiaddr('/ip4/192.168.1.2/tcp/4001'), multiaddr('/ip4/1.2.3.4/tcp/4001')] };
    expect(dhtPeerInfoMapper('client', false)(info).multiaddrs).toHaveLength(2);
    expect(dhtPeerInfoMapper('server', true)(info).multiaddrs).toHaveLength(2);
    expect(dhtPeerInfoMapper('server', false)(info).multiaddrs.map((a) => a.toString())).toEqual(['/ip4/1.2.3.4/tcp/4001']);
  });
});
