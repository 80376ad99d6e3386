/**
 * The messenger between two real encrypted stores, with no network: what one side queues in
 * its outbox is handed to the other's receiveBatch, as /parley/msg would carry it.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../crypto';
import { fastTestWrapper, type TestStore } from '../../store/store.test-util';
import { openStore } from '../../store';
import { verifyCard } from '../contacts/card';
import { LocalIdentity } from '../identity/local-identity';
import { Messenger } from './messenger';
import { now, pair, stores, useMessengerStores, type Side } from './messenger.test-util';

useMessengerStores();

/** Everything `from` has queued for its contact's device, oldest first. */
function drain(from: Side): Uint8Array[] {
  return from.store.outbox.pendingForDevice(from.device.id, { limit: 200 }).map((i) => i.envelope);
}

describe('messenger', () => {
  it('messenger - a message travels as a sealed envelope, is stored once, and queues an E2E delivery receipt', async () => {
    const { alice, bob } = await pair();
    const sent = alice.messenger.sendText(alice.contact, alice.conversationId, 'hello bob');
    expect(sent.state).toBe('queued');
    const envelopes = drain(alice);
    expect(envelopes).toHaveLength(1);
    expect(Buffer.from(envelopes[0] as Uint8Array).includes(Buffer.from('hello bob'))).toBe(false);

    const first = bob.messenger.receiveBatch(bob.device, bob.contact, envelopes, 'lan');
    expect(first.statuses).toEqual(['stored']);
    expect(first.effects.received.map((m) => m.body)).toEqual(['hello bob']);
    // The same envelope again (a resend after a lost ack): acknowledged, not stored twice.
    const again = bob.messenger.receiveBatch(bob.device, bob.contact, envelopes, 'lan');
    expect(again.statuses).toEqual(['stored']);
    expect(again.effects.received).toHaveLength(0);
    expect(bob.store.messages.page(bob.conversationId).messages.filter((m) => m.kind === 'text')).toHaveLength(1);

    // Bob's delivery receipt reaches Alice and moves her message to delivered.
    const receipt = drain(bob);
    expect(receipt).toHaveLength(1);
    const back = alice.messenger.receiveBatch(alice.device, alice.contact, receipt, 'lan');
    expect(back.statuses).toEqual(['stored']);
    expect(alice.store.messages.get(sent.messageId)?.state).toBe('delivered');
  });

  it('messenger - a batch keeps order, rejects what cannot decrypt, and commits the rest', async () => {
    const { alice, bob } = await pair();
    for (let i = 0; i < 5; i++) alice.messenger.sendText(alice.contact, alice.conversationId, `m${i}`);
    const envelopes = drain(alice);
    const tampered = (envelopes[2] as Uint8Array).slice();
    tampered[100] = (tampered[100] as number) ^ 1;
    const batch = [envelopes[0], envelopes[1], tampered, randomBytes(256), envelopes[3], envelopes[4]] as Uint8Array[];
    const { statuses, effects } = bob.messenger.receiveBatch(bob.device, bob.contact, batch, 'lan');
    expect(statuses).toEqual(['stored', 'stored', 'rejected', 'rejected', 'stored', 'stored']);
    expect(effects.received.map((m) => m.body)).toEqual(['m0', 'm1', 'm3', 'm4']);
    // The genuine third message still decrypts later (its key was kept as skipped).
    expect(bob.messenger.receiveBatch(bob.device, bob.contact, [envelopes[2] as Uint8Array], 'lan').effects.received[0]?.body).toBe('m2');
  });

  it('messenger - a store failure answers retry for the whole batch, stores nothing, and the resend then works', async () => {
    const { alice, bob } = await pair();
    alice.messenger.sendText(alice.contact, alice.conversationId, 'first');
    const envelopes = drain(alice);
    const dir = stores[1]?.dir as string;
    bob.store.close(); // every store call now fails
    const failed = bob.messenger.receiveBatch(bob.device, bob.contact, envelopes, 'lan');
    expect(failed.statuses).toEqual(['retry']);
    expect(failed.effects.received).toHaveLength(0);

    const reopened = await openStore(dir, fastTestWrapper());
    stores[1] = { ...(stores[1] as TestStore), store: reopened };
    expect(reopened.sessions.listActiveForContact(bob.contact.id)).toEqual([]);
    const local = LocalIdentity.load(reopened, now) as LocalIdentity;
    const messenger = new Messenger(reopened, local, now, { accepted: () => {}, profile: () => {} });
    const retried = messenger.receiveBatch(bob.device, bob.contact, envelopes, 'lan');
    expect(retried.statuses).toEqual(['stored']);
    expect(retried.effects.received[0]?.body).toBe('first');
  });

  it('messenger - a mailbox envelope names no sender: senderOf finds it by tag, for first and later messages', async () => {
    const { alice, bob } = await pair();
    // Alice's first messages are prekey envelopes (Bob has no session yet): routed by intro tag.
    alice.messenger.sendText(alice.contact, alice.conversationId, 'first');
    const [first] = drain(alice) as [Uint8Array];
    expect(bob.messenger.senderOf(first)).toMatchObject({ device: { id: bob.device.id }, contact: { id: bob.contact.id } });
    expect(bob.messenger.receiveBatch(bob.device, bob.contact, [first], 'mailbox').statuses).toEqual(['stored']);
    // Bob's reply makes Alice's next envelopes session envelopes: routed by the session's tag.
    bob.messenger.sendText(bob.contact, bob.conversationId, 'reply');
    alice.messenger.receiveBatch(alice.device, alice.contact, drain(bob), 'direct');
    alice.store.outbox.pendingForDevice(alice.device.id, { limit: 200 }).forEach((i) => alice.store.outbox.remove(i.id));
    alice.messenger.sendText(alice.contact, alice.conversationId, 'later');
    const [later] = drain(alice) as [Uint8Array];
    expect(bob.messenger.senderOf(later)?.device.id).toBe(bob.device.id);
    // Nothing of ours, or garbage: no sender.
    expect(bob.messenger.senderOf(randomBytes(512))).toBeUndefined();
    expect(bob.messenger.senderOf(Uint8Array.of(1, 2))).toBeUndefined();
    expect(alice.messenger.senderOf(later)).toBeUndefined();
  });

  it('messenger - the same envelope by mailbox (twice, two relays) and directly is stored once', async () => {
    const { alice, bob } = await pair();
    for (let i = 0; i < 3; i++) alice.messenger.sendText(alice.contact, alice.conversationId, `m${i}`);
    const envelopes = drain(alice);
    const direct = bob.messenger.receiveBatch(bob.device, bob.contact, envelopes.slice(0, 2), 'relayed');
    expect(direct.statuses).toEqual(['stored', 'stored']);
    // The relays' copies, one relay repeating one: all acknowledged, only m2 is new.
    const fromMailboxes = [...envelopes, ...envelopes, envelopes[1] as Uint8Array];
    const mailbox = bob.messenger.receiveBatch(bob.device, bob.contact, fromMailboxes, 'mailbox');
    expect(mailbox.statuses.every((status) => status === 'stored')).toBe(true);
    expect(mailbox.effects.received.map((m) => [m.body, m.path])).toEqual([['m2', 'mailbox']]);
    const texts = bob.store.messages.page(bob.conversationId).messages.filter((m) => m.kind === 'text');
    expect(texts.map((m) => m.body).sort()).toEqual(['m0', 'm1', 'm2']);
  });

  it('messenger - a profile message carries our current card to the contact', async () => {
    const { alice, bob } = await pair();
    const profiles: Uint8Array[] = [];
    const messenger = new Messenger(bob.store, bob.local, now, { accepted: () => {}, profile: (_contact, card) => profiles.push(card) });
    alice.local.setRelays([`/ip4/127.0.0.1/tcp/4001/p2p/${bob.local.peerId}`]);
    expect(alice.messenger.queueProfile(alice.contact)).toEqual(new Set([alice.device.id]));
    const { statuses, effects } = messenger.receiveBatch(bob.device, bob.contact, drain(alice), 'direct');
    expect(statuses).toEqual(['stored']);
    expect(effects.received).toHaveLength(0);
    const card = verifyCard(profiles[0] as Uint8Array);
    expect(card.relays.map((r) => r.address)).toEqual([`/ip4/127.0.0.1/tcp/4001/p2p/${bob.local.peerId}`]);
    expect(card.relays[0]?.mailboxId).toEqual(alice.local.mailboxKey(bob.local.peerId).id);
    // No profile for a blocked contact.
    expect(alice.messenger.queueProfile({ ...alice.contact, blocked: true }).size).toBe(0);
  });

  it('messenger - refuses to send to a blocked contact or one whose key changed', async () => {
    const { alice } = await pair();
    const blocked = alice.store.contacts.update(alice.contact.id, { blocked: true });
    expect(() => alice.messenger.sendText(blocked, alice.conversationId, 'x')).toThrow(/blocked/);
    const changed = alice.store.contacts.markIdentityKeyChanged(alice.contact.id, randomBytes(32));
    expect(() => alice.messenger.sendText({ ...changed, blocked: false }, alice.conversationId, 'x')).toThrow(/safety number/);
  });
});
