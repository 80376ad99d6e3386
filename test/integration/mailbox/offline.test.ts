/**
 * The app with relays, on loopback (issue 5, item 3 and "Tests"): two cores that accept no
 * inbound connection (dial-only, as behind NATs), so every byte between them passes a relay;
 * they become contacts through an invite link, chat through the relay, and while B is offline
 * A's messages wait in B's mailbox on the relay, which is restarted in the middle. B comes
 * back and receives every message exactly once, from the mailbox; the relay's folder and log
 * never contain the canary the messages carry.
 *
 * netns.test.ts runs the same scenario with A, B and the relay in separate network namespaces.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  LogCapture,
  TestPeer,
  TestRelay,
  becomeContacts,
  filesContaining,
  newCanary,
  receivedExactlyOnce,
  until,
} from './fixtures';

const OFFLINE_MESSAGES = 50;
const T0 = Date.now();
/** A's mailbox poll in the first test (the app's is two minutes). */
const FAST_POLL_MS = 1_000;
/** PARLEY_TEST_TIMING=1 prints how long each phase took (stderr). */
const mark = (what: string): void => void (process.env.PARLEY_TEST_TIMING && console.error(`[${Date.now() - T0} ms] ${what}`));

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function peer(name: string, options: Parameters<typeof TestPeer.create>[1] = {}): Promise<TestPeer> {
  const p = await TestPeer.create(name, options);
  cleanup.push(() => p.dispose());
  return p;
}

async function relay(log: LogCapture): Promise<TestRelay> {
  const r = await TestRelay.start(log);
  cleanup.push(() => r.dispose());
  return r;
}

describe('mailbox - offline delivery through a relay', () => {
  it('mailbox - B offline: 50 messages wait in its mailbox across a relay restart and arrive exactly once when B is back', async () => {
    const log = new LogCapture();
    const r = await relay(log);
    // B's receipts may go to A's mailbox too: when B is back, A's reservation on the restarted
    // relay may not be, so B cannot reach A by circuit. The app fetches again 10 s after its
    // reservation returns (RESERVATION_FOLLOW_UP_FETCH_MS) and every two minutes; here A polls
    // every second so the test does not hang on when B's deposit lands against those.
    const alice = await peer('alice', { mailboxPollIntervalMs: FAST_POLL_MS });
    const bob = await peer('bob');
    await alice.useRelays([r.address]);
    await bob.useRelays([r.address]);
    mark('reservations');

    // Cards now carry the relay and each one's mailbox there (card version 2).
    await becomeContacts(bob, alice);

    // Online: through the relay (neither accepts a direct connection).
    const online = await alice.call('messages.send', { conversationId: alice.conversationId, body: 'hello through the relay' });
    const relayed = await until('the relayed message', async () =>
      (await bob.timeline()).find((m) => m.id === online.id),
    );
    expect(relayed.path).toBe('relayed');
    mark('contacts, one relayed message');

    await bob.stop();
    const canary = newCanary();
    const sent = new Map<string, string>();
    const deposited = new Set<string>();
    alice.on('message.stateChanged', (e) => {
      if (e.state === 'sent' && e.path === 'mailbox') deposited.add(e.messageId);
    });
    const sendSome = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i++) {
        const body = `${canary} #${i}`;
        const m = await alice.call('messages.send', { conversationId: alice.conversationId, body });
        sent.set(m.id, body);
      }
      await until('deposits in B’s mailbox', async () => ([...sent.keys()].every((id) => deposited.has(id)) ? true : undefined));
    };

    await sendSome(1, OFFLINE_MESSAGES / 2);
    mark('first half deposited');
    // The relay restarts with half the mail stored: nothing may be lost.
    await r.stop();
    await r.restart();
    await sendSome(OFFLINE_MESSAGES / 2 + 1, OFFLINE_MESSAGES / 2);
    mark('second half deposited');
    expect(r.relay?.store.stats().envelopes).toBeGreaterThanOrEqual(OFFLINE_MESSAGES);

    await bob.restart();
    const arrived = await until('all 50 messages at B', async () => {
      const got = await receivedExactlyOnce(bob, sent);
      return got.length === OFFLINE_MESSAGES ? got : undefined;
    });
    mark('all at B');
    expect(arrived.every((m) => m.path === 'mailbox')).toBe(true);
    expect(new Set(arrived.map((m) => m.body))).toEqual(new Set(sent.values()));

    // B acknowledged after storing: the relay deleted them; B's receipts reached A.
    await until('the relay’s mailbox emptied', async () => (r.relay?.store.stats().envelopes === 0 ? true : undefined));
    await until('delivery receipts at A', async () => {
      const mine = (await alice.timeline()).filter((m) => sent.has(m.id));
      return mine.every((m) => m.state === 'delivered' || m.state === 'read') ? true : undefined;
    });
    mark('receipts at A');
    // Still exactly once after everything settled (no late duplicate from a second fetch).
    expect(await receivedExactlyOnce(bob, sent)).toHaveLength(OFFLINE_MESSAGES);

    await r.stop();
    const needle = new TextEncoder().encode(canary);
    expect(filesContaining(r.dir, needle)).toEqual([]);
    expect(log.text).not.toContain(canary);
    expect(log.text).toMatch(/mailbox deposit status=ok/);
    expect(log.text).toMatch(/mailbox ack status=ok/);
  });

  it('mailbox - a changed relay list reaches contacts in a profile message, and their mail follows to the new relay', async () => {
    const log = new LogCapture();
    const first = await relay(log);
    const second = await relay(log);
    const alice = await peer('alice');
    const bob = await peer('bob');
    await alice.useRelays([first.address]);
    await bob.useRelays([first.address]);
    await becomeContacts(bob, alice);

    // B moves to another relay; A learns it from B's profile message (over the first relay,
    // which B releases only once no circuit runs through it).
    await bob.useRelays([second.address]);
    expect((await bob.call('settings.get')).relays).toEqual([second.address]);
    expect((await alice.call('network.status')).relays).toEqual([{ address: first.address, reserved: true }]);
    // A text queued after the profile message arrives after it (one device's outbox is in order).
    const moved = await bob.call('messages.send', { conversationId: bob.conversationId, body: 'moved' });
    await until('B’s note at A', async () => ((await alice.timeline()).some((m) => m.id === moved.id) ? true : undefined));

    await bob.stop();
    const later = await alice.call('messages.send', { conversationId: alice.conversationId, body: 'left on the new relay' });
    await until('the deposit on the new relay', async () => ((second.relay?.store.stats().envelopes ?? 0) > 0 ? true : undefined));
    expect(first.relay?.store.stats().envelopes).toBe(0);
    await bob.restart();
    await until('the message at B', async () => ((await bob.timeline()).find((m) => m.id === later.id)?.path === 'mailbox' ? true : undefined));
  });

  it('mailbox - mail left on a relay we just left is still fetched (a contact that had not heard of the move)', async () => {
    const log = new LogCapture();
    const first = await relay(log);
    const second = await relay(log);
    const alice = await peer('alice');
    const bob = await peer('bob');
    await alice.useRelays([first.address]);
    await bob.useRelays([first.address]);
    await becomeContacts(bob, alice);

    // B moves while A is offline and the first relay is down, so B's profile message cannot
    // even be deposited for A: A keeps believing B is on the first relay and leaves mail there.
    await alice.stop();
    await first.stop();
    await bob.useRelays([second.address]);
    await bob.stop();
    await first.restart();
    await alice.restart();
    const stale = await alice.call('messages.send', { conversationId: alice.conversationId, body: 'to where you were' });
    await until('the deposit on the old relay', async () => (first.relay?.store.stats().envelopes === 1 ? true : undefined));
    expect(second.relay?.store.stats().envelopes).toBe(0);
    await bob.restart();
    // B may get it from the old mailbox or, once its queued profile message connects it to A,
    // resent directly (A keeps it until B's receipt); either way once, and B still fetches
    // and empties the mailbox it left.
    await until('the message at B', async () => ((await bob.timeline()).some((m) => m.id === stale.id) ? true : undefined));
    await until('the old relay emptied', async () => (first.relay?.store.stats().envelopes === 0 ? true : undefined));
    expect((await bob.timeline()).filter((m) => m.id === stale.id)).toHaveLength(1);
  });

  it('mailbox - a relay restart under live relayed connections: reservations come back and the chat goes on relayed', async () => {
    const r = await relay(new LogCapture());
    const alice = await peer('alice');
    const bob = await peer('bob');
    await alice.useRelays([r.address]);
    await bob.useRelays([r.address]);
    await becomeContacts(bob, alice);
    const before = await alice.call('messages.send', { conversationId: alice.conversationId, body: 'before the restart' });
    await until('the first message at B', async () => ((await bob.timeline()).some((m) => m.id === before.id) ? true : undefined));

    await r.stop();
    await r.restart();
    const reserved = async (p: TestPeer): Promise<boolean> => (await p.call('network.status')).relays.every((x) => x.reserved);
    await until('both reservations back', async () => ((await reserved(alice)) && (await reserved(bob)) ? true : undefined));
    const after = await bob.call('messages.send', { conversationId: bob.conversationId, body: 'after the restart' });
    const got = await until('the reply at A', async () => (await alice.timeline()).find((m) => m.id === after.id));
    expect(got.path).toBe('relayed');
  });

  it('mailbox - settings refuse relay lists that are not relay addresses, and keep the previous list', async () => {
    const alice = await peer('alice');
    for (const relays of [
      ['/ip4/127.0.0.1/tcp/4001'],
      ['not an address'],
      ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo/p2p-circuit'],
      Array.from({ length: 9 }, (_, i) => `/ip4/127.0.0.${i + 1}/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo`),
      ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo', '/ip4/127.0.0.2/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'],
    ]) {
      await expect(alice.call('settings.update', { relays })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    const { profile } = await alice.call('identity.status');
    await expect(alice.call('settings.update', { relays: [`/ip4/127.0.0.1/tcp/4001/p2p/${profile?.peerId}`] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await alice.call('settings.get')).relays).toEqual([]);
    expect((await alice.call('network.status')).relays).toEqual([]);
  });
});
