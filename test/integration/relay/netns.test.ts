/**
 * Peers A and B in network namespaces of their own that cannot route to each other, joined
 * only through a relay namespace R (../netns-topology.ts):
 *
 *   A (10.231.1.1/30) ── veth ── (10.231.1.2/30) R (10.231.2.2/30) ── veth ── (10.231.2.1/30) B
 *
 * Here the relay listens on R's two veth addresses (not the shared loopback one), so each side
 * knows the relay by a different address. R does not forward IP, and A and B know only their
 * own /30 (and R's loopback), so A reaches B only through the relay node running in R: circuit
 * relay for a live stream, the mailbox for envelopes. Needs root and iproute2; elsewhere it
 * says so and skips (circuit.test.ts covers the same on loopback).
 */
import '../../../src/main/polyfills';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCrypto, randomBytes, toHex } from '../../../src/crypto';
import { MailboxKey } from '../../../src/main/net/protocols/mailbox';
import { forwardsIp, NetnsTopology, NsProcess, REPO, routes, unavailable, unreachable } from '../netns-topology';
import { Relays, canaryEnvelope } from './fixtures';

const PEER = path.join(REPO, 'test/integration/relay/netns-peer.ts');
const RELAY = path.join(REPO, 'src/main/relay/relay.ts');

const topology = new NetnsTopology('prl', 231);
const NS = topology.ns;
const ADDR = topology.addr;

const reason = unavailable();
if (reason !== undefined) console.warn(`[netns.test] network namespaces unavailable (${reason}): skipped; circuit.test.ts runs the relay path on loopback`);

describe.skipIf(reason !== undefined)('relay - separate network namespaces', () => {
  const processes: NsProcess[] = [];
  const folders = new Relays();

  beforeAll(() => topology.create());

  afterAll(async () => {
    for (const p of processes) p.kill();
    await Promise.all(processes.map((p) => p.exited));
    topology.remove();
    await folders.stopAll();
  });

  it('relay - the namespaces route only through R: A cannot reach B directly', () => {
    // The kernel's own answer: a route to R's side, none to B (ENETUNREACH), and the same from B.
    expect(routes(NS.a, ADDR.ra)).toBe(true);
    expect(unreachable(NS.a, ADDR.b)).toBe(true);
    expect(unreachable(NS.b, ADDR.a)).toBe(true);
    expect(forwardsIp(NS.r)).toBe(false);
  });

  it('relay - A reaches B only through the relay in R: a relayed stream, and envelopes through B’s mailbox', async () => {
    await initCrypto();
    const relay = new NsProcess(NS.r, [
      RELAY,
      '--data',
      folders.tempDir(),
      '--listen',
      `/ip4/${ADDR.ra}/tcp/0`,
      '--listen',
      `/ip4/${ADDR.rb}/tcp/0`,
    ]);
    processes.push(relay);
    const relayForA = await relay.next('the relay address on A’s side', (l) => (l.startsWith(`/ip4/${ADDR.ra}/`) ? l : undefined));
    const relayForB = await relay.next('the relay address on B’s side', (l) => (l.startsWith(`/ip4/${ADDR.rb}/`) ? l : undefined));

    const seed = randomBytes(32);
    const key = MailboxKey.fromSeed(seed);
    const b = new NsProcess(NS.b, [PEER, 'behind', '--relay', relayForB, '--listen', `/ip4/${ADDR.b}/tcp/0`, '--seed', toHex(seed)]);
    processes.push(b);
    const { circuit, direct } = await b.json<{ circuit: string; direct: string }>('B’s reservation', 'circuit');
    const bPeerId = circuit.split('/p2p/').at(-1) as string;
    expect(direct).toMatch(new RegExp(`^/ip4/${ADDR.b.replaceAll('.', '\\.')}/tcp/\\d+/p2p/${bPeerId}$`));

    const envelopes = Array.from({ length: 5 }, () => canaryEnvelope(512).envelope);
    const a = new NsProcess(NS.a, [
      PEER,
      'caller',
      '--relay',
      relayForA,
      '--circuit',
      `${relayForA}/p2p-circuit/p2p/${bPeerId}`,
      '--direct',
      direct,
      '--mailbox',
      toHex(key.id),
      ...envelopes.flatMap((e) => ['--envelope', toHex(e)]),
    ]);
    processes.push(a);
    const result = await a.json<{ directError: string; echo: string; limited: boolean; deposited: number }>('A’s report', 'echo');
    expect(result.directError).not.toBe('none');
    expect(result).toMatchObject({ echo: 'through the relay', limited: true, deposited: 5 });
    expect(await a.exited).toBe(0);

    b.send('fetch');
    const fetched = await b.json<{ fetched: string[]; limitedEchoes: number }>('B’s mailbox fetch', 'fetched');
    expect(fetched.fetched).toEqual(envelopes.map(toHex));
    expect(fetched.limitedEchoes).toBe(1);
    b.send('stop');
    expect(await b.exited).toBe(0);

    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
    const log = relay.errors.join('');
    expect(log).toMatch(/mailbox deposit status=ok/);
    expect(log).toMatch(/mailbox ack status=ok mailbox=[0-9a-f]{8} count=5/);
    expect(log).not.toContain(toHex(key.id).slice(0, 16));
  });
});
