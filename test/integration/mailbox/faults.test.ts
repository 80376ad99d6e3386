/**
 * A relay that misbehaves (issue 5, "Bad input and faults"): it refuses, drops, duplicates,
 * reorders, leaves out and corrupts envelopes, loses its answers and ignores acknowledgements
 * (faulty-relay.ts). The app retries, and the UI (messages.page) still shows every message
 * exactly once and intact.
 *
 * - With an honest relay beside it, as the app is meant to be used (two relays, each envelope
 *   deposited on both), even the faults that destroy the faulty relay's copy lose nothing.
 * - Alone, with the faults a relay can recover from (refusals, lost answers, duplicates,
 *   reordering, omissions, ignored acknowledgements), it delays messages, never loses or
 *   repeats one. (A lone relay that lies about storing, or corrupts its only copy, delays that
 *   message by hours: the sender keeps it until the delivery receipt and deposits it again,
 *   lost-deposit.test.ts; the second relay is what spares that wait.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultyRelay, type FaultyRelay, type Faults } from './faulty-relay';
import { LogCapture, TestPeer, TestRelay, becomeContacts, freePort, receivedExactlyOnce, removeDir, tempDir, until } from './fixtures';

/** Fixed, so a failure can be replayed; PARLEY_FAULT_SEED picks another. */
const SEED = Number(process.env.PARLEY_FAULT_SEED ?? 20_260_105);
/** Polls every second, so envelopes a fetch left out come back within the test's time. */
const FAST_POLL_MS = 1_000;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function peer(name: string): Promise<TestPeer> {
  const p = await TestPeer.create(name, { mailboxPollIntervalMs: FAST_POLL_MS });
  cleanup.push(() => p.dispose());
  return p;
}

async function faultyRelay(faults: Faults): Promise<FaultyRelay> {
  const dir = tempDir('parley-faulty-relay-');
  const relay = await startFaultyRelay(dir, await freePort(), faults, SEED);
  cleanup.push(async () => {
    await relay.stop();
    removeDir(dir);
  });
  return relay;
}

/** Sends `count` messages from A while B is offline and waits until each is deposited. */
async function sendWhileOffline(alice: TestPeer, count: number, label: string): Promise<Map<string, string>> {
  const sent = new Map<string, string>();
  const deposited = new Set<string>();
  const off = alice.on('message.stateChanged', (e) => {
    if (e.state === 'sent' && e.path === 'mailbox') deposited.add(e.messageId);
  });
  for (let i = 1; i <= count; i++) {
    const body = `${label} #${i}`;
    const m = await alice.call('messages.send', { conversationId: alice.conversationId, body });
    sent.set(m.id, body);
  }
  await until('every message deposited', async () => ([...sent.keys()].every((id) => deposited.has(id)) ? true : undefined), 90_000);
  off();
  return sent;
}

describe('mailbox - a misbehaving relay', () => {
  it('mailbox - beside an honest relay, a relay that drops, duplicates, reorders and corrupts loses and repeats nothing', async () => {
    const honest = await TestRelay.start(new LogCapture());
    cleanup.push(() => honest.dispose());
    const faulty = await faultyRelay({
      depositRefused: 0.15,
      depositAnswerLost: 0.1,
      depositDuplicated: 0.2,
      depositDropped: 0.15,
      fetchReordered: 0.5,
      fetchDuplicated: 0.5,
      fetchOmitted: 0.3,
      fetchTruncated: 0.5,
      ackIgnored: 0.3,
    });
    const alice = await peer('alice');
    const bob = await peer('bob');
    // The faulty relay first: it gets every envelope first, and is fetched too.
    await alice.useRelays([faulty.address, honest.address]);
    await bob.useRelays([faulty.address, honest.address]);
    await becomeContacts(bob, alice);

    await bob.stop();
    const sent = await sendWhileOffline(alice, 40, 'two relays');
    await bob.restart();
    const arrived = await until('all 40 at B', async () => {
      const got = await receivedExactlyOnce(bob, sent);
      return got.length === sent.size ? got : undefined;
    }, 60_000);
    // From the mailboxes, or resent directly by A (which keeps them until B's receipts) once
    // B's receipts connect the two while a fetch left some out.
    expect(arrived.every((m) => m.path === 'mailbox' || m.path === 'relayed')).toBe(true);
    expect(arrived.some((m) => m.path === 'mailbox')).toBe(true);
    // Both mailboxes drained (acknowledgements the faulty relay ignored are sent again).
    await until('both mailboxes empty', async () =>
      faulty.store.stats().envelopes === 0 && honest.relay?.store.stats().envelopes === 0 ? true : undefined,
    );
    expect(await receivedExactlyOnce(bob, sent)).toHaveLength(sent.size);
    const counts = faulty.store.counts;
    for (const fault of ['depositDropped', 'depositDuplicated', 'fetchDuplicated', 'fetchTruncated', 'ackIgnored'] as const) {
      expect(counts[fault], fault).toBeGreaterThan(0);
    }
  });

  it('mailbox - alone, a relay that refuses, loses answers, duplicates, reorders and omits only delays messages', async () => {
    const faulty = await faultyRelay({
      depositRefused: 0.15,
      depositAnswerLost: 0.1,
      depositDuplicated: 0.2,
      fetchReordered: 0.5,
      fetchDuplicated: 0.5,
      fetchOmitted: 0.3,
      ackIgnored: 0.3,
    });
    const alice = await peer('alice');
    const bob = await peer('bob');
    await alice.useRelays([faulty.address]);
    await bob.useRelays([faulty.address]);
    await becomeContacts(bob, alice);

    await bob.stop();
    // Refused deposits are retried with backoff until the relay takes them.
    const sent = await sendWhileOffline(alice, 30, 'one relay');
    expect(faulty.store.counts.depositRefused + faulty.store.counts.depositAnswerLost).toBeGreaterThan(0);
    await bob.restart();
    await until('all 30 at B', async () => {
      const got = await receivedExactlyOnce(bob, sent);
      return got.length === sent.size ? true : undefined;
    }, 60_000);
    await until('the mailbox drained', async () => (faulty.store.stats().envelopes === 0 ? true : undefined));
    // Two more polls: nothing shows up twice later.
    const fetches = faulty.store.fetches;
    await until('two more fetches', async () => (faulty.store.fetches >= fetches + 2 ? true : undefined));
    expect(await receivedExactlyOnce(bob, sent)).toHaveLength(sent.size);
    const timeline = await bob.timeline();
    expect(timeline.filter((m) => m.direction === 'in')).toHaveLength(sent.size);
  });
});
