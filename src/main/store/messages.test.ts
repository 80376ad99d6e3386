/**
 * Messages and conversations: dedup by message id, state only forward, keyset pagination,
 * read marks and unread counts, receipts, the conversation list, and bounds at the boundary.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_PAGE_SIZE, PREVIEW_CHARS } from './constants';
import { isStoreError } from './errors';
import { MESSAGE_STATES, type IncomingMessage, type Message, type MessageState } from './message-types';
import { addContactWithDevice, makeTestStore, randomId, type TestStore } from './store.test-util';

let t: TestStore;
beforeAll(async () => {
  t = await makeTestStore();
});
afterAll(() => t.cleanup());

/** A fresh contact, device and conversation per test keeps the tests independent in one store. */
function fixture(name = 'Bob') {
  return addContactWithDevice(t.store, name);
}

function incoming(conversationId: number, deviceId: number, overrides: Partial<IncomingMessage> = {}): IncomingMessage {
  return {
    messageId: randomId(),
    conversationId,
    senderDeviceId: deviceId,
    kind: 'text',
    body: 'hello',
    senderSeq: 1,
    sentAt: 1000,
    receivedAt: 1001,
    path: 'direct',
    ...overrides,
  } as IncomingMessage;
}

function expectCode(fn: () => unknown, code: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isStoreError(error) && error.code, String(error)).toBe(code);
}

describe('messages', () => {
  it('messages - insertIncoming dedups by message id and says whether the message was new', () => {
    const { conversation, device } = fixture();
    const message = incoming(conversation.id, device.id, { body: 'first' });
    expect(t.store.messages.insertIncoming(message)).toBe(true);
    // A retransmission, even with other content, is not stored again and changes nothing.
    expect(t.store.messages.insertIncoming({ ...message, body: 'replayed' })).toBe(false);
    expect(t.store.messages.get(message.messageId)?.body).toBe('first');
    expect(t.store.conversations.get(conversation.id)?.unreadCount).toBe(1);
    expect(t.store.messages.page(conversation.id).messages).toHaveLength(1);
  });

  it('messages - an incoming message from a device of another contact is refused', () => {
    const a = fixture('A');
    const b = fixture('B');
    expectCode(() => t.store.messages.insertIncoming(incoming(a.conversation.id, b.device.id)), 'NOT_FOUND');
  });

  it('messages - outgoing text gets consecutive sender sequence numbers per conversation', () => {
    const { conversation } = fixture();
    const other = fixture('Other');
    const seqs = [1, 2, 3].map(
      (i) => t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: `m${i}`, sentAt: i }).senderSeq,
    );
    expect(seqs).toEqual([1, 2, 3]);
    expect(
      t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: other.conversation.id, kind: 'text', body: 'x', sentAt: 1 }).senderSeq,
    ).toBe(1);
    // Receipts are not numbered and do not appear in the timeline.
    const receipt = t.store.messages.insertOutgoing({
      messageId: randomId(),
      conversationId: conversation.id,
      kind: 'read_receipt',
      refs: [randomId(), randomId()],
      sentAt: 9,
    });
    expect(receipt.senderSeq).toBeUndefined();
    expect(receipt.refs).toHaveLength(2);
    expect(t.store.messages.page(conversation.id).messages.map((m) => m.body)).toEqual(['m3', 'm2', 'm1']);
  });

  it('messages - state only moves forward: queued → sent → delivered → read, never back', () => {
    const { conversation } = fixture();
    const { messageId } = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: 'x', sentAt: 1 });
    const state = (): MessageState | undefined => t.store.messages.get(messageId)?.state;
    expect(state()).toBe('queued');
    expect(t.store.messages.updateState(messageId, 'sent', { path: 'relayed' })).toBe(true);
    expect(t.store.messages.get(messageId)?.path).toBe('relayed');
    expect(t.store.messages.updateState(messageId, 'read')).toBe(true);
    expect(t.store.messages.updateState(messageId, 'delivered')).toBe(false);
    expect(t.store.messages.updateState(messageId, 'sent')).toBe(false);
    expect(t.store.messages.updateState(messageId, 'failed')).toBe(false);
    expect(t.store.messages.updateState(messageId, 'queued')).toBe(false);
    expect(state()).toBe('read');
  });

  it('messages - state only moves forward, for any sequence of updates (property)', () => {
    const { conversation } = fixture();
    // queued < sent < failed < delivered < read: failed is reachable from queued and sent only,
    // and a failed message later acknowledged moves on to delivered or read.
    const rank: Record<MessageState, number> = { queued: 0, sent: 1, failed: 2, delivered: 3, read: 4 };
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...MESSAGE_STATES), { maxLength: 12 }), (updates) => {
        const { messageId } = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: 'p', sentAt: 1 });
        let model: MessageState = 'queued';
        for (const next of updates) {
          const changed = t.store.messages.updateState(messageId, next);
          const expected = rank[next] > rank[model];
          if (changed !== expected) return false;
          if (expected) model = next;
          if (t.store.messages.get(messageId)?.state !== model) return false;
        }
        return true;
      }),
      { numRuns: 100 },
    );
  });

  it('messages - incoming messages are not moved by updateState (markRead is their only path)', () => {
    const { conversation, device } = fixture();
    const message = incoming(conversation.id, device.id);
    t.store.messages.insertIncoming(message);
    expect(t.store.messages.updateState(message.messageId, 'read')).toBe(false);
    expect(t.store.messages.get(message.messageId)?.state).toBe('delivered');
  });

  it('messages - receipts move only our messages of that conversation forward', () => {
    const a = fixture('A');
    const b = fixture('B');
    const ours = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: a.conversation.id, kind: 'text', body: 'x', sentAt: 1 });
    const elsewhere = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: b.conversation.id, kind: 'text', body: 'y', sentAt: 1 });
    const theirs = incoming(a.conversation.id, a.device.id);
    t.store.messages.insertIncoming(theirs);
    const changed = t.store.messages.applyReceipt(a.conversation.id, [ours.messageId, elsewhere.messageId, theirs.messageId, randomId()], 'delivered');
    expect(changed).toBe(1);
    expect(t.store.messages.get(ours.messageId)?.state).toBe('delivered');
    expect(t.store.messages.get(elsewhere.messageId)?.state).toBe('queued');
    expect(t.store.messages.applyReceipt(a.conversation.id, [ours.messageId], 'read')).toBe(1);
    expect(t.store.messages.applyReceipt(a.conversation.id, [ours.messageId], 'delivered')).toBe(0);
  });

  it('messages - pages newest first by (sent_at, message_id), continuing exactly where the last page ended', () => {
    const { conversation, device } = fixture();
    const all: Message[] = [];
    // Equal timestamps on purpose: the message id breaks ties, so no message is skipped or repeated.
    for (let i = 0; i < 23; i++) {
      const m = incoming(conversation.id, device.id, { sentAt: 5000 + Math.floor(i / 4), senderSeq: i + 1, body: `#${i}` });
      t.store.messages.insertIncoming(m);
      all.push(t.store.messages.get(m.messageId) as Message);
    }
    const key = (m: Message): string => `${String(m.sentAt).padStart(16, '0')}${Buffer.from(m.messageId).toString('hex')}`;
    const expected = [...all].sort((x, y) => (key(x) < key(y) ? 1 : -1)).map((m) => m.body);

    const seen: (string | undefined)[] = [];
    let page = t.store.messages.page(conversation.id, { limit: 5 });
    for (;;) {
      expect(page.messages.length).toBeLessThanOrEqual(5);
      seen.push(...page.messages.map((m) => m.body));
      if (!page.next) break;
      page = t.store.messages.page(conversation.id, { limit: 5, before: page.next });
    }
    expect(seen).toEqual(expected);
    expect(t.store.messages.page(conversation.id, { limit: 100 }).next).toBeUndefined();
  });

  it('messages - page size is bounded', () => {
    const { conversation } = fixture();
    expectCode(() => t.store.messages.page(conversation.id, { limit: MAX_PAGE_SIZE + 1 }), 'INVALID_INPUT');
    expectCode(() => t.store.messages.page(conversation.id, { limit: 0 }), 'INVALID_INPUT');
  });

  it('messages - markRead marks incoming text read up to a point, returns what changed, and keeps the unread count', () => {
    const { conversation, device } = fixture();
    const ms = [1, 2, 3, 4].map((i) => incoming(conversation.id, device.id, { sentAt: i * 10, senderSeq: i, body: `u${i}` }));
    for (const m of ms) t.store.messages.insertIncoming(m);
    t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: 'mine', sentAt: 25 });
    expect(t.store.conversations.get(conversation.id)?.unreadCount).toBe(4);

    const upTo = { sentAt: 20, messageId: (ms[1] as IncomingMessage).messageId };
    const read = t.store.messages.markRead(conversation.id, { upTo });
    expect(read.map((r) => Buffer.from(r.messageId).toString('hex')).sort()).toEqual(
      ms.slice(0, 2).map((m) => Buffer.from(m.messageId).toString('hex')).sort(),
    );
    expect(read.every((r) => r.senderDeviceId === device.id)).toBe(true);
    expect(t.store.conversations.get(conversation.id)?.unreadCount).toBe(2);
    expect(t.store.messages.markRead(conversation.id, { upTo })).toEqual([]);
    expect(t.store.messages.markRead(conversation.id)).toHaveLength(2);
    expect(t.store.conversations.get(conversation.id)?.unreadCount).toBe(0);
  });

  it('messages - bodies and receipts are bounded and well-formed at the boundary', () => {
    const { conversation, device } = fixture();
    const out = (o: object) => () => t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: 'x', sentAt: 1, ...o });
    expect(() => out({ body: 'é'.repeat(MAX_BODY_BYTES / 2) })()).not.toThrow();
    expectCode(out({ body: 'é'.repeat(MAX_BODY_BYTES / 2 + 1) }), 'INVALID_INPUT');
    expectCode(out({ body: '\ud800 lone surrogate' }), 'INVALID_INPUT');
    expectCode(out({ body: 42 }), 'INVALID_INPUT');
    expectCode(out({ messageId: new Uint8Array(15) }), 'INVALID_INPUT');
    expectCode(out({ sentAt: -1 }), 'INVALID_INPUT');
    expectCode(out({ sentAt: 1.5 }), 'INVALID_INPUT');
    expectCode(out({ kind: 'read_receipt', body: undefined, refs: [] }), 'INVALID_INPUT');
    expectCode(out({ kind: 'read_receipt', body: undefined, refs: [new Uint8Array(8)] }), 'INVALID_INPUT');
    expectCode(out({ kind: 'text', refs: [randomId()] }), 'INVALID_INPUT');
    expectCode(out({ kind: 'picture' }), 'INVALID_INPUT');
    expectCode(() => t.store.messages.insertIncoming(incoming(conversation.id, device.id, { senderSeq: undefined })), 'INVALID_INPUT');
    expectCode(() => t.store.messages.insertIncoming(incoming(conversation.id, device.id, { path: 'carrier pigeon' as never })), 'INVALID_INPUT');
    expectCode(() => t.store.messages.insertIncoming(incoming(999_999, device.id)), 'NOT_FOUND');
  });

  it('messages - an outgoing message id that exists is CONFLICT', () => {
    const { conversation } = fixture();
    const messageId = randomId();
    t.store.messages.insertOutgoing({ messageId, conversationId: conversation.id, kind: 'text', body: 'x', sentAt: 1 });
    expectCode(() => t.store.messages.insertOutgoing({ messageId, conversationId: conversation.id, kind: 'text', body: 'y', sentAt: 2 }), 'CONFLICT');
  });

  it('messages - pruneReceipts deletes old receipts that no longer wait in the outbox', () => {
    const { conversation, device } = fixture();
    const old = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'delivery_receipt', refs: [randomId()], sentAt: 10 });
    const waiting = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'delivery_receipt', refs: [randomId()], sentAt: 10 });
    t.store.outbox.enqueue({ messageId: waiting.messageId, deviceId: device.id, envelope: new Uint8Array(256) });
    const text = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: 'kept', sentAt: 10 });
    t.store.messages.pruneReceipts(10);
    expect(t.store.messages.has(old.messageId)).toBe(false);
    expect(t.store.messages.has(waiting.messageId)).toBe(true);
    expect(t.store.messages.has(text.messageId)).toBe(true);
  });
});

describe('conversations', () => {
  it('conversations - listed by last activity, with unread counts, a truncated preview and the contact name', async () => {
    const local = await makeTestStore();
    try {
      const s = local.store;
      const a = addContactWithDevice(s, 'Ann');
      const b = addContactWithDevice(s, 'Ben');
      const c = addContactWithDevice(s, 'Cat'); // no messages
      s.messages.insertIncoming({ ...incoming(a.conversation.id, a.device.id), body: 'x'.repeat(500), receivedAt: local.clock.now + 10 });
      s.messages.insertOutgoing({ messageId: randomId(), conversationId: b.conversation.id, kind: 'text', body: 'newest', sentAt: local.clock.now + 20 });
      const list = s.conversations.list();
      expect(list.map((x) => x.contactDisplayName)).toEqual(['Ben', 'Ann', 'Cat']);
      expect(list[0]?.lastMessage).toMatchObject({ body: 'newest', direction: 'out', state: 'queued' });
      expect(list[1]?.unreadCount).toBe(1);
      expect(list[1]?.lastMessage?.body).toHaveLength(PREVIEW_CHARS);
      expect(list[2]?.lastMessage).toBeUndefined();
      expect(s.conversations.getOrCreate(c.contact.id).id).toBe(c.conversation.id);
    } finally {
      local.cleanup();
    }
  });

  it('conversations - drafts are saved, bounded and cleared', () => {
    const { conversation } = fixture();
    t.store.conversations.setDraft(conversation.id, 'half a thought');
    expect(t.store.conversations.get(conversation.id)?.draft).toBe('half a thought');
    t.store.conversations.setDraft(conversation.id, '');
    expect(t.store.conversations.get(conversation.id)?.draft).toBeUndefined();
    expectCode(() => t.store.conversations.setDraft(conversation.id, 'x'.repeat(MAX_BODY_BYTES + 1)), 'INVALID_INPUT');
    expectCode(() => t.store.conversations.setDraft(999_999, 'x'), 'NOT_FOUND');
  });

  it('conversations - removing a contact removes its conversation, messages and outbox', () => {
    const { contact, conversation, device } = fixture();
    const m = t.store.messages.insertOutgoing({ messageId: randomId(), conversationId: conversation.id, kind: 'text', body: 'bye', sentAt: 1 });
    t.store.outbox.enqueue({ messageId: m.messageId, deviceId: device.id, envelope: new Uint8Array(256) });
    expect(t.store.contacts.remove(contact.id)).toBe(true);
    expect(t.store.conversations.get(conversation.id)).toBeUndefined();
    expect(t.store.messages.has(m.messageId)).toBe(false);
    expect(t.store.outbox.pendingForDevice(device.id)).toEqual([]);
  });
});
