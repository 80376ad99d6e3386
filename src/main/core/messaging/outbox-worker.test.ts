import { afterEach, describe, expect, it, vi } from 'vitest';
import { MailboxError, PeerUnreachableError } from '../../net';
import { addContactWithDevice, makeTestStore, randomId, type TestStore } from '../../store/store.test-util';
import type { Message as StoredMessage } from '../../store';
import type { ConnectionPath, DeliveryStatus } from '../../net';
import {
  DIRECT_RESEND_AFTER_MS,
  MAILBOX_COPIES,
  MAILBOX_FALLBACK_AFTER_MS,
  MAILBOX_GIVE_UP_AFTER_MS,
  MAILBOX_REDEPOSIT_AFTER_MS,
  MAILBOX_REDEPOSIT_MAX_MS,
  OutboxWorker,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  redepositDelay,
  retryDelay,
  type MailboxTarget,
  type OutboxMailbox,
  type OutboxTransport,
} from './outbox-worker';

describe('outbox retry', () => {
  it('outbox - backs off exponentially from 1 s, capped at 5 min, with ±50 % jitter', () => {
    expect(retryDelay(0, () => 0.5)).toBe(RETRY_BASE_MS);
    expect(retryDelay(3, () => 0.5)).toBe(8 * RETRY_BASE_MS);
    expect(retryDelay(50, () => 0.5)).toBe(RETRY_MAX_MS);
    expect(retryDelay(2, () => 0)).toBe(2 * RETRY_BASE_MS);
    expect(retryDelay(2, () => 0.999)).toBeLessThan(6 * RETRY_BASE_MS);
    expect(retryDelay(1_000_000, () => 0.999)).toBeLessThan(1.5 * RETRY_MAX_MS);
  });
});

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const stores: TestStore[] = [];
const workers: OutboxWorker[] = [];
afterEach(() => {
  for (const w of workers.splice(0)) w.stop();
  for (const s of stores.splice(0)) s.cleanup();
});

/** A relay's mailbox as a fake: records deposits, or refuses as told. */
class FakeRelays implements OutboxMailbox {
  readonly deposits = new Map<string, Uint8Array[]>();
  readonly refuse = new Map<string, (envelope: Uint8Array) => Error | undefined>();
  constructor(readonly relays: string[]) {}
  targets(): MailboxTarget[] {
    return this.relays.map((relayAddress) => ({ relayAddress, mailboxId: new Uint8Array(32) }));
  }
  async deposit(target: MailboxTarget, envelope: Uint8Array): Promise<void> {
    const refusal = this.refuse.get(target.relayAddress)?.(envelope);
    if (refusal) throw refusal;
    this.deposits.set(target.relayAddress, [...(this.deposits.get(target.relayAddress) ?? []), envelope]);
  }
}

async function setup(options: { sendError: Error; relays: string[]; messages: number; createdAgoMs?: number; attempts?: number }) {
  const t = await makeTestStore();
  stores.push(t);
  const { device, conversation } = addContactWithDevice(t.store);
  const envelopes: Uint8Array[] = [];
  const messageIds: Uint8Array[] = [];
  /** Queues one more text message (created `createdAgoMs` ago) and returns its envelope. */
  const queueText = (i: number): Uint8Array => {
    const messageId = randomId();
    t.store.messages.insertOutgoing({ messageId, conversationId: conversation.id, sentAt: t.clock.now + i, kind: 'text', body: `m${i}` });
    const envelope = Uint8Array.of(1, i, ...randomId());
    envelopes.push(envelope);
    messageIds.push(messageId);
    const item = t.store.outbox.enqueue({ messageId, deviceId: device.id, envelope }, t.clock.now - (options.createdAgoMs ?? 0));
    for (let a = 0; a < (options.attempts ?? 0); a++) t.store.outbox.markAttempt(item.id, t.clock.now);
    return envelope;
  };
  for (let i = 0; i < options.messages; i++) queueText(i);
  const sends: Uint8Array[][] = [];
  /** The device: unreachable (throws `error`) or, with `error` cleared, answering `answer` per envelope. */
  const net: { error: Error | undefined; answer: DeliveryStatus; path: ConnectionPath | undefined } = { error: options.sendError, answer: 'stored', path: undefined };
  const transport: OutboxTransport = {
    send: async (_peerId, batch) => {
      sends.push(batch);
      if (net.error) throw net.error;
      return batch.map(() => net.answer);
    },
    pathTo: () => net.path,
  };
  const relays = new FakeRelays(options.relays);
  const changed: StoredMessage[] = [];
  const newWorker = (directResendAfterMs = 20): OutboxWorker => {
    const w = new OutboxWorker(t.store, transport, { stateChanged: (m) => changed.push(m) }, silent, () => t.clock.now, relays, { directResendAfterMs });
    workers.push(w);
    return w;
  };
  const worker = newWorker();
  /** Every item for the device: its deposits, in queue order. */
  const deposits = (): number[] => t.store.outbox.pendingForDevice(device.id).map((i) => i.deposits);
  return { t, device, envelopes, messageIds, queueText, relays, changed, worker, newWorker, sends, net, deposits };
}

describe('outbox - mailbox fallback', () => {
  it('outbox - an unreachable device gets the exact envelopes in its mailboxes on two relays, in order, and they count as sent', async () => {
    const { t, device, envelopes, relays, changed, worker, deposits } = await setup({ sendError: new PeerUnreachableError(), relays: ['r1', 'r2', 'r3'], messages: 3 });
    worker.kick(device.id);
    await vi.waitFor(() => expect(deposits()).toEqual([1, 1, 1]));
    // Kept, the same bytes, for the receipt: deposited again after MAILBOX_REDEPOSIT_AFTER_MS if none comes.
    for (const [i, item] of t.store.outbox.pendingForDevice(device.id).entries()) {
      expect(item).toMatchObject({ depositedAt: t.clock.now, nextAttemptAt: t.clock.now + MAILBOX_REDEPOSIT_AFTER_MS });
      expect(item.envelope).toEqual(envelopes[i]);
    }
    expect(MAILBOX_COPIES).toBe(2);
    expect(relays.deposits.get('r1')).toEqual(envelopes);
    expect(relays.deposits.get('r2')).toEqual(envelopes);
    expect(relays.deposits.has('r3')).toBe(false);
    expect(changed.map((m) => [m.body, m.state, m.path])).toEqual([
      ['m0', 'sent', 'mailbox'],
      ['m1', 'sent', 'mailbox'],
      ['m2', 'sent', 'mailbox'],
    ]);
  });

  it('outbox - a relay that refuses the whole batch is passed over; one refused envelope still gets its two copies', async () => {
    const { device, envelopes, relays, worker, deposits } = await setup({ sendError: new PeerUnreachableError(), relays: ['full', 'flaky', 'r3', 'r4'], messages: 3 });
    relays.refuse.set('full', () => new MailboxError('mailboxFull'));
    relays.refuse.set('flaky', (e) => (Buffer.from(e).equals(envelopes[1] as Uint8Array) ? new MailboxError('unavailable') : undefined));
    worker.kick(device.id);
    await vi.waitFor(() => expect(deposits()).toEqual([1, 1, 1]));
    expect(relays.deposits.has('full')).toBe(false);
    expect(relays.deposits.get('flaky')).toEqual([envelopes[0], envelopes[2]]);
    expect(relays.deposits.get('r3')).toEqual(envelopes);
    expect(relays.deposits.get('r4')).toEqual([envelopes[1]]);
  });

  it('outbox - with no mailbox, or every relay down, the envelopes stay queued and back off', async () => {
    for (const relayList of [[], ['down']]) {
      const { t, device, relays, worker, changed } = await setup({ sendError: new PeerUnreachableError(), relays: relayList, messages: 2 });
      relays.refuse.set('down', () => Object.assign(new Error('dial failed'), { name: 'DialError' }));
      worker.kick(device.id);
      await vi.waitFor(() => expect(t.store.outbox.pendingForDevice(device.id).every((i) => i.attempts === 1)).toBe(true));
      expect(t.store.outbox.count()).toBe(2);
      expect(t.store.outbox.pendingForDevice(device.id).every((i) => i.depositedAt === undefined)).toBe(true);
      expect(changed).toEqual([]);
    }
  });

  it('outbox - a reachable device that keeps failing goes to the mailbox only after MAILBOX_FALLBACK_AFTER_MS', async () => {
    const reset = Object.assign(new Error('reset'), { name: 'StreamResetError' });
    const fresh = await setup({ sendError: reset, relays: ['r1'], messages: 1 });
    fresh.worker.kick(fresh.device.id);
    await vi.waitFor(() => expect(fresh.t.store.outbox.pendingForDevice(fresh.device.id)[0]?.attempts).toBe(1));
    expect(fresh.relays.deposits.size).toBe(0);

    const stale = await setup({ sendError: reset, relays: ['r1'], messages: 1, createdAgoMs: MAILBOX_FALLBACK_AFTER_MS, attempts: 3 });
    stale.worker.kick(stale.device.id);
    await vi.waitFor(() => expect(stale.deposits()).toEqual([1]));
    expect(stale.relays.deposits.get('r1')).toEqual(stale.envelopes);
  });
});

describe('outbox - deposited, awaiting the delivery receipt', () => {
  const unreachable = () => new PeerUnreachableError();

  it('outbox - re-deposit backs off from MAILBOX_REDEPOSIT_AFTER_MS, capped below the relay TTL', () => {
    expect(redepositDelay(1)).toBe(MAILBOX_REDEPOSIT_AFTER_MS);
    expect(redepositDelay(2)).toBe(2 * MAILBOX_REDEPOSIT_AFTER_MS);
    expect(redepositDelay(50)).toBe(MAILBOX_REDEPOSIT_MAX_MS);
    expect(MAILBOX_REDEPOSIT_MAX_MS).toBeLessThan(MAILBOX_GIVE_UP_AFTER_MS);
  });

  it('outbox - new messages behind deposited ones go to the mailbox alone; once due, the kept bytes are deposited again, also after a restart', async () => {
    const s = await setup({ sendError: unreachable(), relays: ['r1'], messages: 2 });
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([1, 1]));
    const [first, second] = s.envelopes as [Uint8Array, Uint8Array];

    // A new message while the device is away: tried directly alone, and only it is deposited.
    const third = s.queueText(2);
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([1, 1, 1]));
    expect(s.sends.at(-1)).toEqual([third]);
    expect(s.relays.deposits.get('r1')).toEqual([first, second, third]);

    // The app restarts; no receipt came: once due, the due scan of a fresh worker deposits the very same bytes again.
    s.worker.stop();
    s.t.clock.now += MAILBOX_REDEPOSIT_AFTER_MS;
    const restarted = s.newWorker();
    restarted.start();
    await vi.waitFor(() => expect(s.deposits()).toEqual([2, 2, 2]));
    expect(s.relays.deposits.get('r1')).toEqual([first, second, third, first, second, third]);
    for (const item of s.t.store.outbox.pendingForDevice(s.device.id)) {
      expect(item.depositedAt).toBe(s.t.clock.now - MAILBOX_REDEPOSIT_AFTER_MS);
      expect(item.nextAttemptAt).toBe(s.t.clock.now + 2 * MAILBOX_REDEPOSIT_AFTER_MS);
    }
    expect(s.t.store.messages.get(s.messageIds[0] as Uint8Array)).toMatchObject({ state: 'sent', path: 'mailbox' });
  });

  it('outbox - a reachable device answering "retry" to a due deposited item backs it off (no busy loop)', async () => {
    const s = await setup({ sendError: unreachable(), relays: ['r1'], messages: 1 });
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([1]));
    // Due for its re-deposit while the device is reachable, but its store is busy.
    s.t.clock.now += MAILBOX_REDEPOSIT_AFTER_MS;
    s.net.error = undefined;
    s.net.path = 'direct';
    s.net.answer = 'retry';
    const sendsBefore = s.sends.length;
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.sends.length).toBeGreaterThan(sendsBefore));
    await vi.waitFor(() => expect(s.t.store.outbox.pendingForDevice(s.device.id)[0]?.nextAttemptAt).toBeGreaterThan(s.t.clock.now));
    expect(s.t.store.outbox.pendingForDevice(s.device.id)[0]).toMatchObject({ deposits: 1, depositedAt: s.t.clock.now - MAILBOX_REDEPOSIT_AFTER_MS });
  });

  it('outbox - when the store cannot make the batch durable, nothing leaves: no send, no deposit, backed off', async () => {
    // Overdue for the mailbox fallback: before, a failed sync fell through to a deposit.
    const s = await setup({ sendError: unreachable(), relays: ['r1'], messages: 1, createdAgoMs: MAILBOX_FALLBACK_AFTER_MS, attempts: 3 });
    const sync = vi.spyOn(s.t.store, 'sync').mockRejectedValue(Object.assign(new Error('EIO'), { name: 'StoreError' }));
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.t.store.outbox.pendingForDevice(s.device.id)[0]?.attempts).toBe(4));
    expect(sync).toHaveBeenCalled();
    expect(s.sends).toHaveLength(0);
    expect(s.relays.deposits.size).toBe(0);
    expect(s.t.store.outbox.pendingForDevice(s.device.id)[0]?.nextAttemptAt).toBeGreaterThan(s.t.clock.now);
  });

  it('outbox - the delivery receipt ends it: an acknowledged item is deposited no more', async () => {
    const s = await setup({ sendError: unreachable(), relays: ['r1'], messages: 2 });
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([1, 1]));
    // What Messenger does when the device's receipt for the first message arrives.
    s.t.store.messages.applyReceipt(s.t.store.messages.get(s.messageIds[0] as Uint8Array)?.conversationId as number, [s.messageIds[0] as Uint8Array], 'delivered');
    expect(s.t.store.outbox.acknowledge(s.messageIds[0] as Uint8Array, s.device.id)).toBe(true);
    s.t.clock.now += MAILBOX_REDEPOSIT_AFTER_MS;
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([2]));
    expect(s.relays.deposits.get('r1')).toEqual([s.envelopes[0], s.envelopes[1], s.envelopes[1]]);
    expect(s.t.store.messages.get(s.messageIds[0] as Uint8Array)?.state).toBe('delivered');
  });

  it('outbox - reachable again: deposited messages are resent directly and done once the device stores them', async () => {
    const s = await setup({ sendError: unreachable(), relays: ['r1'], messages: 2 });
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([1, 1]));

    // The device is back (reached after the short resend delay) but its store is busy ('retry'):
    // the items keep their deposit and schedule.
    s.net.error = undefined;
    s.net.path = 'relayed';
    s.net.answer = 'retry';
    const before = s.t.store.outbox.pendingForDevice(s.device.id);
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.sends).toHaveLength(2));
    await vi.waitFor(() => expect(s.t.store.outbox.pendingForDevice(s.device.id)).toEqual(before));

    // It takes them (new, or a duplicate it already had: both are 'stored').
    s.net.answer = 'stored';
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.t.store.outbox.count()).toBe(0));
    expect(s.sends.at(-1)).toEqual(s.envelopes);
    expect(s.relays.deposits.get('r1')).toEqual(s.envelopes);
    expect(s.t.store.outbox.count()).toBe(0);
    // Sent, not delivered: 'delivered' is the receipt's to say.
    expect(s.t.store.messages.get(s.messageIds[1] as Uint8Array)).toMatchObject({ state: 'sent', path: 'mailbox' });
  });

  it('outbox - a device that comes back is not flooded at once: new messages go first, deposited ones only after DIRECT_RESEND_AFTER_MS', async () => {
    const s = await setup({ sendError: unreachable(), relays: ['r1'], messages: 2 });
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([1, 1]));
    s.worker.stop();
    // The device connects (to bring its receipts, usually); the app's delay, not the tests' short one.
    const worker = s.newWorker(DIRECT_RESEND_AFTER_MS);
    s.net.error = undefined;
    s.net.path = 'direct';
    const fresh = s.queueText(2);
    worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([1, 1]));
    expect(s.sends.at(-1)).toEqual([fresh]);
    expect(s.t.store.outbox.count()).toBe(2);
  });

  it('outbox - no receipt within MAILBOX_GIVE_UP_AFTER_MS: a bounded number of deposits, then failed, visibly; Retry starts over', async () => {
    const s = await setup({ sendError: unreachable(), relays: ['r1'], messages: 1 });
    const start = s.t.clock.now;
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.deposits()).toEqual([1]));
    let gaps = 0;
    for (;;) {
      const item = s.t.store.outbox.pendingForDevice(s.device.id)[0];
      if (!item) break;
      expect(item.nextAttemptAt - s.t.clock.now).toBeLessThanOrEqual(MAILBOX_REDEPOSIT_MAX_MS);
      s.t.clock.now = item.nextAttemptAt;
      gaps++;
      s.worker.kick(s.device.id);
      await vi.waitFor(() => {
        const now = s.t.store.outbox.pendingForDevice(s.device.id)[0];
        expect(now === undefined || now.deposits > item.deposits).toBe(true);
      });
      expect(gaps).toBeLessThan(20);
    }
    expect(s.t.clock.now).toBe(start + MAILBOX_GIVE_UP_AFTER_MS);
    const deposits = s.relays.deposits.get('r1') ?? [];
    expect(deposits.length).toBe(gaps);
    expect(deposits.length).toBeLessThanOrEqual(8);
    const messageId = s.messageIds[0] as Uint8Array;
    expect(s.t.store.outbox.count('expired')).toBe(1);
    expect(s.t.store.messages.get(messageId)?.state).toBe('failed');
    expect(s.changed.at(-1)).toMatchObject({ state: 'failed' });

    // Retry: the kept envelope starts over, and is deposited (the same bytes) like a new one.
    expect(s.t.store.outbox.rearm(messageId)).toBe(1);
    expect(s.t.store.messages.requeue(messageId)).toBe(true);
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.t.store.messages.get(messageId)).toMatchObject({ state: 'sent', path: 'mailbox' }));
    expect(s.relays.deposits.get('r1')?.at(-1)).toEqual(s.envelopes[0]);
  });

  it('outbox - receipts, introductions and profiles get no receipt of their own: their deposit is final', async () => {
    const s = await setup({ sendError: unreachable(), relays: ['r1'], messages: 0 });
    const conversationId = s.t.store.conversations.getOrCreate(s.t.store.devices.get(s.device.id)?.contactId as number).id;
    const messageId = randomId();
    s.t.store.messages.insertOutgoing({ messageId, conversationId, sentAt: s.t.clock.now, kind: 'delivery_receipt', refs: [randomId()] });
    s.t.store.outbox.enqueue({ messageId, deviceId: s.device.id, envelope: Uint8Array.of(9, 9, 9) });
    s.worker.kick(s.device.id);
    await vi.waitFor(() => expect(s.t.store.outbox.count()).toBe(0));
    expect(s.relays.deposits.get('r1')).toEqual([Uint8Array.of(9, 9, 9)]);
  });
});
