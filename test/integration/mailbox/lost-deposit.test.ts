/**
 * A lone relay that acknowledges deposits and then loses them (issue 5, "delivered exactly
 * once or visibly pending"): the sender keeps each deposited envelope in its outbox until the
 * recipient's end-to-end delivery receipt, so the loss only delays the messages. They reach B
 * exactly once, by a re-deposit (B offline, then back with no connection to A) or by a direct
 * resend (B back and in touch with A), and A's messages end delivered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultyRelay, type FaultyRelay } from './faulty-relay';
import { TestPeer, becomeContacts, freePort, receivedExactlyOnce, removeDir, tempDir, until, type PeerOptions } from './fixtures';

const MESSAGES = 12;
/** Polls every second, so a re-deposited envelope is fetched within the test's time. */
const FAST_POLL_MS = 1_000;
/** Deposits again after 2 s without a receipt (hours in the app), so the test sees it happen. */
const FAST_REDEPOSIT_MS = 2_000;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function peer(name: string, options: PeerOptions): Promise<TestPeer> {
  const p = await TestPeer.create(name, options);
  cleanup.push(() => p.dispose());
  return p;
}

async function lyingRelay(): Promise<FaultyRelay> {
  const dir = tempDir('parley-lying-relay-');
  const relay = await startFaultyRelay(dir, await freePort(), {}, 1);
  cleanup.push(async () => {
    await relay.stop();
    removeDir(dir);
  });
  return relay;
}

/**
 * With B stopped, the relay set to lose the next MESSAGES deposits: A sends MESSAGES texts,
 * each is deposited, acknowledged and lost. Returns id → body of what A sent.
 */
async function sendIntoTheVoid(alice: TestPeer, bob: TestPeer, relay: FaultyRelay): Promise<Map<string, string>> {
  await bob.stop();
  relay.store.loseAfterAck(MESSAGES);
  const sent = new Map<string, string>();
  const deposited = new Set<string>();
  const off = alice.on('message.stateChanged', (e) => {
    if (e.state === 'sent' && e.path === 'mailbox') deposited.add(e.messageId);
  });
  for (let i = 1; i <= MESSAGES; i++) {
    const m = await alice.call('messages.send', { conversationId: alice.conversationId, body: `lost and found #${i}` });
    sent.set(m.id, m.body);
  }
  await until('every message deposited', async () => ([...sent.keys()].every((id) => deposited.has(id)) ? true : undefined), 90_000);
  off();
  expect(relay.store.lostAfterAck).toBe(MESSAGES);
  // Shown sent to the mailbox, not delivered: A is still waiting for B's receipts.
  const mine = (await alice.timeline()).filter((m) => sent.has(m.id));
  expect(mine.map((m) => [m.state, m.path])).toEqual([...sent.keys()].map(() => ['sent', 'mailbox']));
  return sent;
}

async function deliveredAtAlice(alice: TestPeer, sent: Map<string, string>): Promise<void> {
  await until(
    'delivery receipts at A',
    async () => {
      const mine = (await alice.timeline()).filter((m) => sent.has(m.id));
      return mine.length === sent.size && mine.every((m) => m.state === 'delivered' || m.state === 'read') ? true : undefined;
    },
    60_000,
  );
}

describe('mailbox - a relay that acknowledges deposits and loses them', () => {
  it('mailbox - lost deposits are deposited again until B, back with no connection to A, has each message exactly once', async () => {
    const relay = await lyingRelay();
    const alice = await peer('alice', { mailboxPollIntervalMs: FAST_POLL_MS, outboxRedepositAfterMs: FAST_REDEPOSIT_MS });
    const bob = await peer('bob', { mailboxPollIntervalMs: FAST_POLL_MS });
    await alice.useRelays([relay.address]);
    await bob.useRelays([relay.address]);
    await becomeContacts(bob, alice);

    const sent = await sendIntoTheVoid(alice, bob, relay);
    // The lost ones are deposited again while B is away (the same ciphertext: the relay keeps these).
    await until('the re-deposits on the relay', async () => (relay.store.stats().envelopes >= MESSAGES ? true : undefined), 60_000);

    // B comes back; nothing connects it to A (both dial-only, neither writes): only its mailbox brings them.
    await bob.restart();
    const arrived = await until(
      `all ${MESSAGES} at B`,
      async () => {
        const got = await receivedExactlyOnce(bob, sent);
        return got.length === sent.size ? got : undefined;
      },
      60_000,
    );
    expect(arrived.every((m) => m.path === 'mailbox')).toBe(true);
    await deliveredAtAlice(alice, sent);

    // Receipts in, re-deposits stop; what is left on the relay is B's to fetch and drop as duplicates.
    await until('the mailbox drained', async () => (relay.store.stats().envelopes === 0 ? true : undefined), 60_000);
    const fetches = relay.store.fetches;
    await until('two more fetches', async () => (relay.store.fetches >= fetches + 2 ? true : undefined));
    expect(relay.store.stats().envelopes).toBe(0);
    expect(await receivedExactlyOnce(bob, sent)).toHaveLength(sent.size);
    expect((await bob.timeline()).filter((m) => m.direction === 'in')).toHaveLength(sent.size);
  });

  it('mailbox - with the re-deposit hours away, B back and in touch with A gets the lost messages resent directly, exactly once', async () => {
    const relay = await lyingRelay();
    // The app's re-deposit interval (hours): only the direct resend can deliver within the test.
    const alice = await peer('alice', { mailboxPollIntervalMs: FAST_POLL_MS });
    const bob = await peer('bob', { mailboxPollIntervalMs: FAST_POLL_MS });
    await alice.useRelays([relay.address]);
    await bob.useRelays([relay.address]);
    await becomeContacts(bob, alice);

    const sent = await sendIntoTheVoid(alice, bob, relay);
    await bob.restart();
    // B writes: its connection to A (through the relay) makes A resend what still waits for a receipt.
    const hello = await bob.call('messages.send', { conversationId: bob.conversationId, body: 'back' });
    await until('B’s note at A', async () => ((await alice.timeline()).some((m) => m.id === hello.id) ? true : undefined));
    const arrived = await until(
      `all ${MESSAGES} at B`,
      async () => {
        const got = await receivedExactlyOnce(bob, sent);
        return got.length === sent.size ? got : undefined;
      },
      60_000,
    );
    expect(arrived.every((m) => m.path === 'relayed')).toBe(true);
    await deliveredAtAlice(alice, sent);
    expect(relay.store.stats().envelopes).toBe(0);
    expect(await receivedExactlyOnce(bob, sent)).toHaveLength(sent.size);
  });
});
