/**
 * The outbox: queued envelopes come back byte for byte, due in order, retried until
 * acknowledged, and held while their contact may not be sent to.
 */
import { randomBytes } from 'node:crypto';
import { MAX_ENVELOPE_BYTES } from '../../crypto/envelope';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStoreError } from './errors';
import { addContactWithDevice, makeTestStore, randomId, randomKey, type TestStore } from './store.test-util';

let t: TestStore;
beforeAll(async () => {
  t = await makeTestStore();
});
afterAll(() => t.cleanup());

function queue(conversationId: number, deviceId: number, nextAttemptAt?: number) {
  const message = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId, kind: 'text', body: 'hi', sentAt: t.clock.now });
  const envelope = new Uint8Array(randomBytes(384));
  const item = t.store.outbox.enqueue({ messageId: message.messageId, deviceId, envelope, ...(nextAttemptAt === undefined ? {} : { nextAttemptAt }) });
  return { message, envelope, item };
}

describe('outbox', () => {
  it('outbox - returns the exact envelope bytes, due items earliest first, until acknowledged', () => {
    const { conversation, device } = addContactWithDevice(t.store);
    const now = t.clock.now;
    const late = queue(conversation.id, device.id, now + 5000);
    const first = queue(conversation.id, device.id, now);
    const second = queue(conversation.id, device.id, now);

    const due = t.store.outbox.due(now).filter((i) => i.deviceId === device.id);
    expect(due.map((i) => i.id)).toEqual([first.item.id, second.item.id]);
    expect(due[0]?.envelope).toEqual(first.envelope);
    expect(t.store.outbox.due(now + 5000).some((i) => i.id === late.item.id)).toBe(true);

    // A failed attempt: counted, rescheduled, the same bytes kept for the retry.
    t.store.outbox.markAttempt(first.item.id, now + 1000, now);
    const retried = t.store.outbox.get(first.item.id);
    expect(retried).toMatchObject({ attempts: 1, lastAttemptAt: now, nextAttemptAt: now + 1000 });
    expect(retried?.envelope).toEqual(first.envelope);
    expect(t.store.outbox.due(now).some((i) => i.id === first.item.id)).toBe(false);

    // Reachable again: everything pending for the device, in queue order, due or not.
    expect(t.store.outbox.pendingForDevice(device.id).map((i) => i.id)).toEqual([late.item.id, first.item.id, second.item.id]);

    expect(t.store.outbox.acknowledge(first.message.messageId, device.id)).toBe(true);
    expect(t.store.outbox.acknowledge(first.message.messageId, device.id)).toBe(false);
    expect(t.store.outbox.get(first.item.id)).toBeUndefined();
  });

  it('outbox - nextAttemptAt is the earliest pending attempt', async () => {
    const local = await makeTestStore();
    try {
      const s = local.store;
      expect(s.outbox.nextAttemptAt()).toBeUndefined();
      const { conversation, device } = addContactWithDevice(s);
      for (const at of [300, 100, 200]) {
        const m = s.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: 'x', sentAt: 1 });
        s.outbox.enqueue({ messageId: m.messageId, deviceId: device.id, envelope: new Uint8Array(256), nextAttemptAt: at });
      }
      expect(s.outbox.nextAttemptAt()).toBe(100);
      expect(s.outbox.count()).toBe(3);
    } finally {
      local.cleanup();
    }
  });

  it('outbox - one envelope per message and device; unknown message or device is NOT_FOUND', () => {
    const { conversation, device } = addContactWithDevice(t.store);
    const { message } = queue(conversation.id, device.id);
    const again = () => t.store.outbox.enqueue({ messageId: message.messageId, deviceId: device.id, envelope: new Uint8Array(256) });
    expect(again).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(() => t.store.outbox.enqueue({ messageId: randomId(), deviceId: device.id, envelope: new Uint8Array(256) })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    expect(() => t.store.outbox.enqueue({ messageId: message.messageId, deviceId: 987_654, envelope: new Uint8Array(256) })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });

  it('outbox - envelopes are bounded by the largest envelope bucket', () => {
    const { conversation, device } = addContactWithDevice(t.store);
    const m = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: 'x', sentAt: 1 });
    const enqueue = (size: number) => () => t.store.outbox.enqueue({ messageId: m.messageId, deviceId: device.id, envelope: new Uint8Array(size) });
    expect(enqueue(MAX_ENVELOPE_BYTES + 1)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(enqueue(0)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(enqueue(MAX_ENVELOPE_BYTES)).not.toThrow();
  });

  it('outbox - a changed identity key holds the contact outbox until accepted; new items are held too', () => {
    const { contact, conversation, device } = addContactWithDevice(t.store);
    const before = queue(conversation.id, device.id);
    t.store.contacts.markIdentityKeyChanged(contact.id, randomKey());
    expect(t.store.outbox.get(before.item.id)?.state).toBe('held');
    const during = queue(conversation.id, device.id);
    expect(during.item.state).toBe('held');
    const dueIds = () => t.store.outbox.due(t.clock.now + 1).map((i) => i.id);
    expect(dueIds()).not.toContain(before.item.id);
    expect(dueIds()).not.toContain(during.item.id);
    expect(t.store.outbox.pendingForDevice(device.id)).toEqual([]);

    t.store.contacts.acceptIdentityKeyChange(contact.id);
    expect(dueIds()).toEqual(expect.arrayContaining([before.item.id, during.item.id]));
  });

  it('outbox - blocking holds the outbox, unblocking releases it', () => {
    const { contact, conversation, device } = addContactWithDevice(t.store);
    const { item } = queue(conversation.id, device.id);
    t.store.contacts.update(contact.id, { blocked: true });
    expect(t.store.outbox.get(item.id)?.state).toBe('held');
    // Releasing while still blocked keeps it held.
    expect(t.store.outbox.releaseForContact(contact.id)).toBe(0);
    t.store.contacts.update(contact.id, { blocked: false });
    expect(t.store.outbox.get(item.id)?.state).toBe('pending');
  });

  it('outbox - a deposited item stays pending with the same bytes, due again at its re-deposit time, until acknowledged', () => {
    const { conversation, device } = addContactWithDevice(t.store);
    const now = t.clock.now;
    const { message, envelope, item } = queue(conversation.id, device.id, now);
    expect(item).toMatchObject({ depositedAt: undefined, deposits: 0 });

    expect(t.store.outbox.markDeposited(item.id, now + 6000, now)).toBe(true);
    expect(t.store.outbox.markDeposited(item.id, now + 9000, now + 100)).toBe(true);
    const kept = t.store.outbox.get(item.id);
    // The first deposit's time is kept; the count and the schedule move on.
    expect(kept).toMatchObject({ state: 'pending', depositedAt: now, deposits: 2, lastAttemptAt: now + 100, nextAttemptAt: now + 9000 });
    expect(kept?.envelope).toEqual(envelope);
    expect(t.store.outbox.due(now + 8999).some((i) => i.id === item.id)).toBe(false);
    expect(t.store.outbox.due(now + 9000).some((i) => i.id === item.id)).toBe(true);
    // Still resent directly when the device shows up.
    expect(t.store.outbox.pendingForDevice(device.id).map((i) => i.id)).toEqual([item.id]);

    // Its receipt came: gone, and a late deposit answer finds nothing to mark.
    expect(t.store.outbox.acknowledge(message.messageId, device.id)).toBe(true);
    expect(t.store.outbox.markDeposited(item.id, now + 9000, now)).toBe(false);
  });

  it('outbox - pendingForDevice walks the queue past a given id', () => {
    const { conversation, device } = addContactWithDevice(t.store);
    const ids = [0, 1, 2].map(() => queue(conversation.id, device.id).item.id);
    expect(t.store.outbox.pendingForDevice(device.id, { afterId: ids[0] as number }).map((i) => i.id)).toEqual(ids.slice(1));
    expect(t.store.outbox.pendingForDevice(device.id, { afterId: ids[2] as number })).toEqual([]);
    expect(() => t.store.outbox.pendingForDevice(device.id, { afterId: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('outbox - an attempt on an item a receipt already ended is reported, not thrown', () => {
    const { conversation, device } = addContactWithDevice(t.store);
    const now = t.clock.now;
    const { item } = queue(conversation.id, device.id, now);
    expect(t.store.outbox.markAttempt(item.id, now + 10, now)).toBe(true);
    t.store.outbox.remove(item.id);
    expect(t.store.outbox.markAttempt(item.id, now + 20, now)).toBe(false);
  });

  it('outbox - an expired item is kept but never due; Retry re-arms it from scratch, held if the contact is blocked', () => {
    const { contact, conversation, device } = addContactWithDevice(t.store);
    const now = t.clock.now;
    const { message, envelope, item } = queue(conversation.id, device.id, now);
    t.store.outbox.markAttempt(item.id, now + 10, now);
    t.store.outbox.markDeposited(item.id, now + 20, now);
    expect(t.store.outbox.expire(item.id)).toBe(true);
    expect(t.store.outbox.expire(item.id)).toBe(false);
    expect(t.store.outbox.get(item.id)?.state).toBe('expired');
    expect(t.store.outbox.due(now + 1_000_000).some((i) => i.id === item.id)).toBe(false);
    expect(t.store.outbox.pendingForDevice(device.id)).toEqual([]);
    expect(t.store.outbox.count('expired')).toBeGreaterThanOrEqual(1);
    // Blocking and unblocking leaves it expired: only Retry brings it back.
    t.store.contacts.update(contact.id, { blocked: true });
    t.store.contacts.update(contact.id, { blocked: false });
    expect(t.store.outbox.get(item.id)?.state).toBe('expired');

    expect(t.store.outbox.rearm(message.messageId, now + 500)).toBe(1);
    expect(t.store.outbox.rearm(message.messageId, now + 500)).toBe(0);
    const again = t.store.outbox.get(item.id);
    expect(again).toMatchObject({ state: 'pending', attempts: 0, deposits: 0, depositedAt: undefined, nextAttemptAt: now + 500, createdAt: now + 500 });
    expect(again?.envelope).toEqual(envelope);

    t.store.outbox.expire(item.id);
    t.store.contacts.update(contact.id, { blocked: true });
    expect(t.store.outbox.rearm(message.messageId)).toBe(1);
    expect(t.store.outbox.get(item.id)?.state).toBe('held');
  });

  it('outbox - message, session state and envelope commit together or not at all', () => {
    const { conversation, device } = addContactWithDevice(t.store);
    const session = t.store.sessions.create({
      deviceId: device.id,
      state: Uint8Array.of(1),
      baseKey: randomKey(),
      inboundTag: randomId(),
      outboundTag: randomId(),
    });
    const messageId = randomId();
    let error: unknown;
    try {
      t.store.transaction(() => {
        t.store.messages.insertOutgoing({ messageId, conversationId: conversation.id, kind: 'text', body: 'x', sentAt: 1 });
        t.store.sessions.update(session.id, { state: Uint8Array.of(2) });
        t.store.outbox.enqueue({ messageId, deviceId: device.id, envelope: new Uint8Array(0) }); // invalid: throws
      });
    } catch (e) {
      error = e;
    }
    expect(isStoreError(error, 'INVALID_INPUT')).toBe(true);
    expect(t.store.messages.has(messageId)).toBe(false);
    expect(t.store.sessions.get(session.id)?.state.expose()).toEqual(Uint8Array.of(1));
    expect(t.store.conversations.get(conversation.id)).toMatchObject({ id: conversation.id });
    // The sequence number handed out in the rolled-back transaction is handed out again.
    expect(t.store.messages.insertOutgoing({ messageId, conversationId: conversation.id, kind: 'text', body: 'x', sentAt: 1 }).senderSeq).toBe(1);
  });
});
