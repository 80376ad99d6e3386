/**
 * Finding a contact through the DHT (issue 5: "finds a contact's current addresses through the
 * DHT or the relays in its card"), end to end across network namespaces (../netns-topology.ts):
 *
 *   A (10.233.1.1/30) ── veth ── R ── veth ── (10.233.2.1/30) B
 *                        relay on 10.233.0.1 (R's loopback; A and B route it via R)
 *
 * A and B run the app's network (ParleyNetwork) and keep a reservation on the relay in R, a DHT
 * server. What A knows of B is stale, as after B moved: B's card names a relay B has left (gone
 * now) and the address A remembers is one A has no route to. The card's relay and the
 * remembered address fail, so A can reach B only through what the relay's DHT server answers
 * for B's PeerId: B's circuit address through R. A's message then arrives at B over that
 * relayed connection, by msg, not by mailbox. The relay keeps private addresses in its DHT
 * answers (`--dht-private-addresses`), as a relay on a LAN does: every address here is private.
 *
 * Needs root and iproute2; elsewhere it says so and skips (nothing on loopback can stand in:
 * there every peer reaches every other directly).
 */
import '../../../src/main/polyfills';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCrypto, randomBytes, toHex } from '../../../src/crypto';
import { generateDeviceKey, peerIdFromDeviceKey } from '../../../src/main/net';
import { NetnsTopology, NsProcess, REPO, unavailable, unreachable } from '../netns-topology';
import { Relays } from './fixtures';

const PEER = path.join(REPO, 'test/integration/relay/netns-peer.ts');

const topology = new NetnsTopology('prd', 233);
const NS = topology.ns;
const ADDR = topology.addr;

async function device(): Promise<{ key: string; peerId: string }> {
  const key = await generateDeviceKey();
  return { key: toHex(key), peerId: peerIdFromDeviceKey(key).toString() };
}

const reason = unavailable();
if (reason !== undefined) {
  console.warn(`[dht-lookup.test] network namespaces unavailable (${reason}): skipped; on loopback every peer reaches every other directly, so no test there can show a DHT lookup is needed`);
}

describe.skipIf(reason !== undefined)('relay - a contact found through the DHT', () => {
  const processes: NsProcess[] = [];
  const folders = new Relays();

  beforeAll(() => topology.create());

  afterAll(async () => {
    for (const p of processes) p.kill();
    await Promise.all(processes.map((p) => p.exited));
    topology.remove();
    await folders.stopAll();
  });

  it('relay - A finds B’s current relayed address through the DHT when B’s card and remembered address are stale, and the message arrives by msg', async () => {
    expect(unreachable(NS.a, ADDR.b)).toBe(true);
    await initCrypto();
    const [a, b] = await Promise.all([device(), device()]);

    const relay = new NsProcess(NS.r, [PEER, 'relay', '--data', folders.tempDir(), '--listen', `/ip4/${ADDR.relay}/tcp/0`, '--dht-private-addresses']);
    processes.push(relay);
    const [relayAddress] = (await relay.json<{ relay: string[] }>('the relay’s address', 'relay')).relay;
    if (relayAddress === undefined) throw new Error('the relay printed no address');
    const relayPeerId = relayAddress.split('/p2p/').at(-1) as string;
    const relayPort = Number(/\/tcp\/(\d+)\//.exec(relayAddress)?.[1]);
    // The relay B used before: gone, so nothing listens on its port any more.
    const formerRelay = `/ip4/${ADDR.relay}/tcp/${relayPort === 65_535 ? relayPort - 1 : relayPort + 1}/p2p/${(await device()).peerId}`;
    const envelope = randomBytes(200);

    const bob = new NsProcess(NS.b, [PEER, 'contact', '--key', b.key, '--contact', a.peerId, '--relay', relayAddress, '--listen', `/ip4/${ADDR.b}/tcp/0`]);
    const alice = new NsProcess(NS.a, [
      PEER,
      'finder',
      '--key',
      a.key,
      '--contact',
      b.peerId,
      '--relay',
      relayAddress,
      '--listen',
      `/ip4/${ADDR.a}/tcp/0`,
      '--stale-relay',
      formerRelay,
      '--stale-address',
      `/ip4/${ADDR.b}/tcp/4001/p2p/${b.peerId}`,
      '--envelope',
      toHex(envelope),
    ]);
    processes.push(bob, alice);
    expect((await bob.json<{ reserved: string }>('B’s reservation', 'reserved')).reserved).toBe(relayPeerId);
    // Sent only once the relay's DHT server can answer with B's circuit address (B pushes it
    // after its reservation, debounced), so the test does not race identify-push.
    await relay.next('the relay to know B’s circuit address', (line) => {
      if (!line.startsWith('{')) return undefined;
      const known = JSON.parse(line) as { knows?: string; circuit?: string };
      return known.knows === b.peerId && known.circuit?.startsWith(`/ip4/${ADDR.relay}/`) ? known : undefined;
    });
    await alice.json('A’s reservation', 'ready');

    alice.send('send');
    const result = await alice.json<{ sent: string[]; connections: { address: string; path: string }[] }>('A’s send', 'sent');
    expect(result.sent).toEqual(['stored']);
    // The only route A had to B was the one the DHT gave: a circuit through R, which neither
    // B's card nor A's remembered address names.
    expect(result.connections.length).toBeGreaterThan(0);
    expect(result.connections.every((c) => c.path === 'relayed')).toBe(true);
    expect(result.connections.some((c) => c.address.startsWith(`${relayAddress}/p2p-circuit`))).toBe(true);

    const delivered = await bob.json<{ delivered: string[]; from: string; path: string }>('the message at B', 'delivered');
    expect(delivered).toEqual({ delivered: [toHex(envelope)], from: a.peerId, path: 'relayed' });

    // A PeerId the DHT does not know: the ladder gives up (the outbox then uses the mailbox).
    expect((await alice.json<{ stranger: string }>('A’s attempt at an unknown peer', 'stranger')).stranger).toBe('PeerUnreachableError');
    expect(await alice.exited).toBe(0);
    bob.send('stop');
    relay.send('stop');
    expect(await bob.exited).toBe(0);
    expect(await relay.exited).toBe(0);
  });
});
