/**
 * Circuit relay through a real relay node (startRelay) on loopback: a peer reserves a slot, a
 * third peer reaches it via /p2p-circuit, and the relay's per-connection limits hold. Run
 * inside a private network namespace.
 */
import '../../../src/main/polyfills';
import type { Multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyNode } from '../../../src/main/net';
import { MailboxClient, MailboxServer } from '../../../src/main/net/protocols/mailbox';
import { LibsqlMailboxStore } from '../../../src/main/relay';
import path from 'node:path';
import { LogCapture, Nodes, Relays, addressOf, canaryEnvelope, newMailboxKey, within } from './fixtures';

const nodes = new Nodes();
const relays = new Relays();
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await nodes.stopAll();
  await relays.stopAll();
});

/** Resolves with `node`'s first /p2p-circuit address once its reservation is in place. */
function circuitAddress(node: ParleyNode): Promise<Multiaddr> {
  return new Promise((resolve) => {
    const check = (): void => {
      const circuit = node.getMultiaddrs().find((m) => m.toString().includes('/p2p-circuit'));
      if (circuit === undefined) return;
      node.removeEventListener('self:peer:update', check);
      resolve(circuit);
    };
    node.addEventListener('self:peer:update', check);
    check();
  });
}

/** A node behind the relay that serves mailbox deposits (any node can), counting limited connections. */
async function peerBehind(
  relayAddress: string,
  dir: string,
  listen?: string[],
): Promise<{ node: ParleyNode; store: LibsqlMailboxStore; limited: boolean[]; circuit: Promise<Multiaddr> }> {
  const node = await nodes.start({ relays: [relayAddress], ...(listen === undefined ? {} : { listen }) }, false);
  const store = LibsqlMailboxStore.open(path.join(dir, 'peer-mailbox.db'));
  const server = new MailboxServer(node, { store });
  await server.start();
  cleanup.push(() => store.close(), () => server.stop());
  const limited: boolean[] = [];
  node.addEventListener('connection:open', (evt) => limited.push(evt.detail.limits !== undefined));
  const circuit = circuitAddress(node);
  await node.start();
  return { node, store, limited, circuit };
}

describe('relay - circuit', () => {
  it('relay - a peer reserves a slot and a third peer reaches it through /p2p-circuit and opens a stream', async () => {
    const log = new LogCapture();
    const relay = await relays.start({ log });
    const behind = await peerBehind(addressOf(relay).toString(), relays.tempDir());
    const circuit = await within(10_000, 'a reservation on the relay', behind.circuit);
    expect(circuit.toString()).toContain(`/p2p/${relay.peerId}/p2p-circuit/p2p/${behind.node.peerId.toString()}`);
    expect(relay.node.services.relay?.reservations.size).toBe(1);

    const caller = await nodes.start();
    const connection = await caller.dial(circuit);
    expect(connection.limits).toBeDefined();
    expect(connection.remotePeer.equals(behind.node.peerId)).toBe(true);
    // A mailbox stream over the limited connection (runOnLimitedConnection).
    const key = await newMailboxKey();
    await new MailboxClient(caller).deposit(behind.node.peerId, key.id, canaryEnvelope(1024).envelope);
    expect(behind.limited).toContain(true);
    expect(log.text).toMatch(/connection open direction=inbound relayed=false connections=\d+ peers=\d+ reservations=1/);
  });

  it('relay - a relayed connection is cut at the operator data limit', async () => {
    const relay = await relays.start({ relay: { connectionDataLimitBytes: 32 * 1024 } });
    // No listen address of its own: reachable only through the relay, as behind a NAT, so
    // neither a direct dial nor DCUtR can route around the limit on loopback.
    const behind = await peerBehind(addressOf(relay).toString(), relays.tempDir(), []);
    const circuit = await within(10_000, 'a reservation on the relay', behind.circuit);
    const caller = await nodes.start();
    await caller.dial(circuit);
    const client = new MailboxClient(caller, { timeoutMs: 5_000 });
    const key = await newMailboxKey();
    // Within the limit: delivered.
    await client.deposit(behind.node.peerId, key.id, canaryEnvelope(2048).envelope);
    // Past it: the relay closes the circuit mid-envelope; the deposit fails instead of arriving.
    const failure = await client.deposit(behind.node.peerId, key.id, canaryEnvelope(65536).envelope).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(Error);
    // Cut by the relay, not timed out.
    expect((failure as Error).name).not.toMatch(/Timeout|Abort/);
    expect(behind.store.stats().envelopes).toBe(1);
    expect(caller.getConnections(behind.node.peerId).every((c) => c.limits !== undefined)).toBe(true);
  });
});
