/**
 * The relay as operators run it: a separate process started with `npm run relay`, talking to
 * client nodes in this process over loopback. Run inside a private network namespace.
 */
import '../../../src/main/polyfills';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { MailboxClient } from '../../../src/main/net/protocols/mailbox';
import { utf8 } from '../../../src/crypto';
import { Nodes, Relays, canaryEnvelope, filesContaining, newMailboxKey, readFolder, textForms } from './fixtures';
import { RelayProcess, killAllRelayProcesses } from './relay-process';

const nodes = new Nodes();
const folders = new Relays();
afterEach(async () => {
  await nodes.stopAll();
  await killAllRelayProcesses();
  await folders.stopAll();
});

describe('relay process', () => {
  it('relay process - `npm run relay` prints its addresses with its PeerId and stops cleanly on SIGTERM', async () => {
    const dir = folders.tempDir();
    const relay = await RelayProcess.start({ dir, args: ['--max-reservations', '4', '--mailbox-ttl', '2d'] });
    expect(relay.addresses).toHaveLength(1);
    expect(relay.addresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW[1-9A-HJ-NP-Za-km-z]+$/);

    // It serves: a client reaches it at the printed address.
    const node = await nodes.start();
    await node.dial(multiaddr(relay.addresses[0]!));
    expect(await node.services.ping.ping(multiaddr(relay.addresses[0]!))).toBeGreaterThanOrEqual(0);

    expect(await relay.stop('SIGTERM')).toBe(0);
    expect(relay.log).toMatch(/relay stopped/);
    // Clean stop: the WAL was folded into the database and emptied.
    const files = readFolder(dir);
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(['mailbox.db', 'relay.key']));
    expect(files.find((f) => f.file === 'mailbox.db-wal')?.bytes.length ?? 0).toBe(0);
  });

  it('relay process - a crashed relay restarts with the same PeerId and no envelope lost; afterwards neither its folder nor its log holds a canary', async () => {
    const dir = folders.tempDir();
    const first = await RelayProcess.start({ dir, via: 'node' });
    const address = first.addresses[0]!;
    const sender = new MailboxClient(await nodes.start());
    const key = await newMailboxKey();
    const sent = Array.from({ length: 10 }, (_, i) => canaryEnvelope(i % 2 === 0 ? 512 : 6144));
    for (const { envelope } of sent) await sender.deposit(multiaddr(address), key.id, envelope);

    // SIGKILL: no clean stop, no checkpoint. Every acknowledged deposit must still be there.
    await first.crash();
    await nodes.stopAll();
    const second = await RelayProcess.start({ dir });
    expect(second.addresses[0]!.split('/p2p/')[1]).toBe(address.split('/p2p/')[1]);

    const owner = new MailboxClient(await nodes.start());
    const fetched = await owner.fetchAll(multiaddr(second.addresses[0]!), key);
    expect(fetched.map((e) => e.envelope)).toEqual(sent.map((s) => s.envelope));
    // Before the acknowledgement the folder holds them (so the scan below can fail)…
    expect(filesContaining(dir, utf8(sent[0]!.canary))).not.toEqual([]);
    expect(await owner.ack(multiaddr(second.addresses[0]!), key, fetched.map((e) => e.id))).toBe(10);
    expect(await second.stop('SIGINT')).toBe(0);

    // …and afterwards no file under it does, and neither does anything either run logged.
    for (const { canary } of sent) expect(filesContaining(dir, utf8(canary))).toEqual([]);
    const log = `${first.log}\n${second.log}`;
    expect(log).toMatch(/mailbox deposit status=ok/);
    expect(log).toMatch(/mailbox ack status=ok mailbox=[0-9a-f]{8} count=10/);
    for (const { envelope, canary } of sent) {
      expect(log).not.toContain(canary);
      for (const form of textForms(envelope.subarray(0, 24))) expect(log).not.toContain(form.slice(0, 16));
    }
    for (const form of textForms(key.id)) expect(log).not.toContain(form.slice(0, 16));
  });

  it('relay process - an unknown flag prints the usage and exits 2', async () => {
    const relay = RelayProcess.spawn(['--data', folders.tempDir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--relay-everything'], 'node');
    expect(await relay.exited).toBe(2);
    expect(relay.log).toMatch(/Unknown option '--relay-everything'/);
    expect(relay.log).toMatch(/usage: npm run relay -- --data DIR --listen MULTIADDR/);
    expect(relay.addresses).toEqual([]);
  });
});
