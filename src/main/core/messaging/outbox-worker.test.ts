import { afterEach, describe, expect, it, vi } from 'vitest';
import { MailboxError, PeerUnreachableError } from '../../net';
import { addContactWithDevice, makeTestStore, randomId, type TestStore } from '../../store/store.test-util';
import type { Message as StoredMessage } from '../../store';
import {
  MAILBOX_COPIES,
  MAILBOX_FALLBACK_AFTER_MS,
  OutboxWorker,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
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
  for (let i = 0; i < options.messages; i++) {
    const messageId = randomId();
    t.store.messages.insertOutgoing({ messageId, conversationId: conversation.id, sentAt: t.clock.now + i, kind: 'text', body: `m${i}` });
    const envelope = Uint8Array.of(1, i, ...randomId());
    envelopes.push(envelope);
    const item = t.store.outbox.enqueue({ messageId, deviceId: device.id, envelope }, t.clock.now - (options.createdAgoMs ?? 0));
    for (let a = 0; a < (options.attempts ?? 0); a++) t.store.outbox.markAttempt(item.id, t.clock.now);
  }
  const sends: number[] = [];
  const transport: OutboxTransport = {
    send: async (_peerId, batch) => {
      sends.push(batch.length);
      throw options.sendError;
    },
    pathTo: () => undefined,
  };
  const relays = new FakeRelays(options.relays);
  const changed: StoredMessage[] = [];
  const worker = new OutboxWorker(t.store, transport, { stateChanged: (m) => changed.push(m) }, silent, () => t.clock.now, relays);
  workers.push(worker);
  return { t, device, envelopes, relays, changed, worker, sends };
}

describe('outbox - mailbox fallback', () => {
  it('outbox - an unreachable device gets the exact envelopes in its mailboxes on two relays, in order, and they count as sent', async () => {
    const { t, device, envelopes, relays, changed, worker } = await setup({ sendError: new PeerUnreachableError(), relays: ['r1', 'r2', 'r3'], messages: 3 });
    worker.kick(device.id);
    await vi.waitFor(() => expect(t.store.outbox.count()).toBe(0));
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
    const { t, device, envelopes, relays, worker } = await setup({ sendError: new PeerUnreachableError(), relays: ['full', 'flaky', 'r3', 'r4'], messages: 3 });
    relays.refuse.set('full', () => new MailboxError('mailboxFull'));
    relays.refuse.set('flaky', (e) => (Buffer.from(e).equals(envelopes[1] as Uint8Array) ? new MailboxError('unavailable') : undefined));
    worker.kick(device.id);
    await vi.waitFor(() => expect(t.store.outbox.count()).toBe(0));
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
    await vi.waitFor(() => expect(stale.t.store.outbox.count()).toBe(0));
    expect(stale.relays.deposits.get('r1')).toEqual(stale.envelopes);
  });
});
