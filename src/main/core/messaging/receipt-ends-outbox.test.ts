/**
 * A deposited message waits in the sender's outbox for the recipient's end-to-end delivery
 * receipt (issue 5: a relay may acknowledge a deposit and lose it). Two real encrypted stores,
 * no network: what one side queues is handed to the other's receiveBatch.
 */
import { describe, expect, it } from 'vitest';
import { clock, now, pair, useMessengerStores, type Side } from './messenger.test-util';

useMessengerStores();

/** What the outbox worker leaves after a relay accepted every pending envelope. */
function depositAll(from: Side): Uint8Array[] {
  return from.store.outbox.pendingForDevice(from.device.id).map((item) => {
    from.store.outbox.markDeposited(item.id, now() + 6 * 3600_000);
    from.store.messages.updateState(item.messageId, 'sent', { path: 'mailbox' });
    return item.envelope;
  });
}

function drain(from: Side): Uint8Array[] {
  const items = from.store.outbox.pendingForDevice(from.device.id);
  for (const item of items) from.store.outbox.acknowledge(item.messageId, item.deviceId);
  return items.map((i) => i.envelope);
}

describe('messenger - deposited messages and receipts', () => {
  it('messenger - the delivery receipt of a deposited message removes it from the outbox; one without a receipt stays', async () => {
    const { alice, bob } = await pair();
    const first = alice.messenger.sendText(alice.contact, alice.conversationId, 'one');
    const second = alice.messenger.sendText(alice.contact, alice.conversationId, 'two');
    const envelopes = depositAll(alice);
    expect(alice.store.outbox.count()).toBe(2);

    // Bob fetched only the first (the relay lost the second).
    expect(bob.messenger.receiveBatch(bob.device, bob.contact, [envelopes[0] as Uint8Array], 'mailbox').statuses).toEqual(['stored']);
    const receipt = drain(bob);
    expect(receipt).toHaveLength(1);
    alice.messenger.receiveBatch(alice.device, alice.contact, receipt, 'relayed');
    expect(alice.store.messages.get(first.messageId)?.state).toBe('delivered');
    expect(alice.store.outbox.pendingForDevice(alice.device.id).map((i) => i.messageId)).toEqual([second.messageId]);
    expect(alice.store.messages.get(second.messageId)).toMatchObject({ state: 'sent', path: 'mailbox' });

    // The second is resent (directly, or deposited again) with the same bytes: received once, and its receipt ends it.
    const { statuses, effects } = bob.messenger.receiveBatch(bob.device, bob.contact, [envelopes[0] as Uint8Array, envelopes[1] as Uint8Array], 'relayed');
    expect(statuses).toEqual(['stored', 'stored']);
    expect(effects.received.map((m) => m.body)).toEqual(['two']);
    alice.messenger.receiveBatch(alice.device, alice.contact, drain(bob), 'relayed');
    expect(alice.store.outbox.count()).toBe(0);
    expect(alice.store.messages.get(second.messageId)?.state).toBe('delivered');
    expect(bob.store.messages.page(bob.conversationId).messages.filter((m) => m.kind === 'text')).toHaveLength(2);
  });

  it('messenger - a resent copy is receipted again once the first receipt left (it may have been lost), not while it waits', async () => {
    const { alice, bob } = await pair();
    const sent = alice.messenger.sendText(alice.contact, alice.conversationId, 'again?');
    const [envelope] = depositAll(alice) as [Uint8Array];
    bob.messenger.receiveBatch(bob.device, bob.contact, [envelope], 'mailbox');
    // Still queued at Bob: a copy from the second relay adds no receipt.
    expect(bob.messenger.receiveBatch(bob.device, bob.contact, [envelope], 'mailbox').statuses).toEqual(['stored']);
    expect(bob.store.outbox.count()).toBe(1);
    // The receipt left and was lost on a relay; Alice deposits again: a new receipt, and it ends her item.
    drain(bob);
    const again = bob.messenger.receiveBatch(bob.device, bob.contact, [envelope], 'mailbox');
    expect(again.statuses).toEqual(['stored']);
    expect(again.effects.received).toEqual([]);
    const receipt = drain(bob);
    expect(receipt).toHaveLength(1);
    alice.messenger.receiveBatch(alice.device, alice.contact, receipt, 'relayed');
    expect(alice.store.messages.get(sent.messageId)?.state).toBe('delivered');
    expect(alice.store.outbox.count()).toBe(0);
    expect(bob.store.messages.page(bob.conversationId).messages.filter((m) => m.kind === 'text')).toHaveLength(1);
  });

  it('messenger - a relay serving the same copy over and over gets at most one new receipt per interval', async () => {
    const { alice, bob } = await pair();
    alice.messenger.sendText(alice.contact, alice.conversationId, 'served again and again');
    const [envelope] = depositAll(alice) as [Uint8Array];
    bob.messenger.receiveBatch(bob.device, bob.contact, [envelope], 'mailbox');
    drain(bob);
    const receiptsFor = (): number => {
      bob.messenger.receiveBatch(bob.device, bob.contact, [envelope], 'mailbox');
      return drain(bob).length;
    };
    // The first resent copy is receipted again; copies within the next ten minutes are not.
    expect(receiptsFor()).toBe(1);
    expect(receiptsFor()).toBe(0);
    expect(receiptsFor()).toBe(0);
    clock.now += 11 * 60_000;
    expect(receiptsFor()).toBe(1);
  });

  it('messenger - a first message served again after its session was archived away starts nothing', async () => {
    const { alice, bob } = await pair();
    alice.messenger.sendText(alice.contact, alice.conversationId, 'first');
    const [first] = drain(alice) as [Uint8Array];
    expect(bob.messenger.receiveBatch(bob.device, bob.contact, [first], 'mailbox').statuses).toEqual(['stored']);
    const session = bob.store.sessions.getActiveForDevice(bob.device.id);
    expect(session).toBeDefined();
    // Archived and pruned (five newer sessions later, say): only the seen base key is left.
    bob.store.sessions.remove(session?.id as number);
    const replay = bob.messenger.receiveBatch(bob.device, bob.contact, [first], 'mailbox');
    expect(replay.statuses).toEqual(['stored']);
    expect(replay.effects.received).toEqual([]);
    expect(bob.store.sessions.getActiveForDevice(bob.device.id)).toBeUndefined();
  });

  it('messenger - a read receipt ends it too when the delivery receipt was lost', async () => {
    const { alice, bob } = await pair();
    const sent = alice.messenger.sendText(alice.contact, alice.conversationId, 'read me');
    const [envelope] = depositAll(alice);
    bob.messenger.receiveBatch(bob.device, bob.contact, [envelope as Uint8Array], 'mailbox');
    drain(bob); // the delivery receipt is lost
    bob.messenger.markRead(bob.contact, bob.conversationId);
    alice.messenger.receiveBatch(alice.device, alice.contact, drain(bob), 'relayed');
    expect(alice.store.messages.get(sent.messageId)?.state).toBe('read');
    expect(alice.store.outbox.count()).toBe(0);
  });
});
