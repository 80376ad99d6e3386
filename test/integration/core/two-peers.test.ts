import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, startPeer, until, type TestPeer } from './fixtures';

const started: TestPeer[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) {
    await p.stop().catch(() => {});
    removeDir(p.dir);
  }
});

async function peer(): Promise<TestPeer> {
  const p = await startPeer();
  started.push(p);
  return p;
}

describe('two peers on one LAN', () => {
  it('peers find each other, become contacts and chat with receipts', async () => {
    const alice = await peer();
    const bob = await peer();
    const aliceProfile = await alice.call('identity.create', { displayName: 'Alice', passphrase: 'alice passphrase' });
    const bobProfile = await bob.call('identity.create', { displayName: 'Bob', passphrase: 'bob passphrase' });

    const bobSeen = await until(async () => (await alice.call('nearby.list')).find((p) => p.peerId === bobProfile.peerId));
    expect(bobSeen.displayName).toBe('Bob');

    const requestSeen = bob.next('contact.request');
    await alice.call('contacts.request', { peerId: bobProfile.peerId });
    const { request } = await requestSeen;
    expect(request.displayName).toBe('Alice');
    expect(request.peerId).toBe(aliceProfile.peerId);

    // A message written before the request is accepted waits in the outbox, then arrives.
    const pendingContact = (await alice.call('contacts.list'))[0]!;
    const early = await alice.call('messages.send', { conversationId: pendingContact.conversationId, body: 'sent before you accepted' });
    expect(early.state).toBe('queued');
    const earlyArrives = bob.next('message.received', (e) => e.message.id === early.id);

    const aliceAccepted = alice.next('contact.updated', () => true);
    const bobContact = await bob.call('contacts.accept', { requestId: request.id });
    expect((await earlyArrives).message.body).toBe('sent before you accepted');
    await aliceAccepted;
    const aliceContacts = await until(async () => {
      const list = await alice.call('contacts.list');
      return list.length === 1 ? list : undefined;
    });
    const aliceSide = aliceContacts[0]!;

    const a = await alice.call('contacts.safetyNumber', { contactId: aliceSide.id });
    const b = await bob.call('contacts.safetyNumber', { contactId: bobContact.id });
    expect(a.digits).toBe(b.digits);

    const received = bob.next('message.received');
    const sent = await alice.call('messages.send', { conversationId: aliceSide.conversationId, body: 'hello bob' });
    const { message } = await received;
    expect(message.body).toBe('hello bob');
    await alice.next('message.stateChanged', (e) => e.messageId === sent.id && e.state === 'delivered');

    const read = alice.next('message.stateChanged', (e) => e.messageId === sent.id && e.state === 'read');
    await bob.call('messages.markRead', { conversationId: bobContact.conversationId });
    await read;

    const reply = alice.next('message.received');
    await bob.call('messages.send', { conversationId: bobContact.conversationId, body: 'hi alice' });
    expect((await reply).message.body).toBe('hi alice');
  });
});
