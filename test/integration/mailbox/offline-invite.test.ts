/**
 * Adding a contact from an invite link while the inviter is offline (issue 5, "relays and
 * mailboxes"), on loopback with a real relay: the invitee's introduction (its signed card and
 * the invite secret, end-to-end encrypted as the first message of the session) waits in the
 * inviter's mailbox ahead of the invitee's messages; the inviter, back online, takes it from
 * there, has the invitee as an accepted contact and reads the messages, and its delivery
 * receipts reach the invitee through the invitee's own mailbox.
 *
 * Both cores are dial-only (no listen address), so nothing passes but through the relay.
 *   scripts/in-netns.sh npx vitest run --project integration test/integration/mailbox/offline-invite.test.ts
 */
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity, initCrypto, randomBytes, Session } from '../../../src/crypto';
import { encodeInvite, INVITE_SECRET_BYTES, parseInvite } from '../../../src/main/core/contacts/card';
import { encodeContent } from '../../../src/main/core/messaging/content';
import { MailboxClient } from '../../../src/main/net';
import { LogCapture, TestPeer, TestRelay, receivedExactlyOnce, until } from './fixtures';
import { Nodes } from '../relay/fixtures';

const cleanup: (() => Promise<void>)[] = [];
const nodes = new Nodes();
afterEach(async () => {
  await nodes.stopAll();
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function peer(name: string): Promise<TestPeer> {
  const p = await TestPeer.create(name);
  cleanup.push(() => p.dispose());
  return p;
}

async function relay(): Promise<TestRelay> {
  const r = await TestRelay.start(new LogCapture());
  cleanup.push(() => r.dispose());
  return r;
}

async function inviteLinkOf(p: TestPeer): Promise<string> {
  const { profile } = await p.call('identity.status');
  if (!profile) throw new Error(`${p.name} is locked`);
  return profile.inviteLink;
}

/** The peer's mailbox id on its (first) relay, as its card names it. */
function mailboxIdOf(link: string): Uint8Array {
  const id = parseInvite(link).card.relays[0]?.mailboxId;
  if (!id) throw new Error('the card names no mailbox');
  return id;
}

/** Envelopes waiting in one mailbox on the relay. */
function waiting(r: TestRelay, mailboxId: Uint8Array): number {
  return r.relay?.store.list(mailboxId, 0, 1000, Date.now()).items.length ?? 0;
}

/** Adds the inviter from `link` while it is offline and sends `count` messages, each deposited in its mailbox. */
async function addOfflineAndWrite(invitee: TestPeer, link: string, count: number): Promise<Map<string, string>> {
  const deposited = new Set<string>();
  const off = invitee.on('message.stateChanged', (e) => {
    if (e.state === 'sent' && e.path === 'mailbox') deposited.add(e.messageId);
  });
  const contact = await invitee.call('contacts.addFromInvite', { link });
  invitee.conversationId = contact.conversationId;
  const sent = new Map<string, string>();
  for (let i = 1; i <= count; i++) {
    const body = `${invitee.name} while you were away #${i}`;
    const m = await invitee.call('messages.send', { conversationId: invitee.conversationId, body });
    sent.set(m.id, body);
  }
  await until(`${invitee.name}'s deposits`, async () => ([...sent.keys()].every((id) => deposited.has(id)) ? true : undefined));
  off();
  return sent;
}

describe('mailbox - adding a contact from an invite while the inviter is offline', () => {
  it('offline invite - the inviter comes back to an accepted contact and its 3 messages exactly once; the invitee then sees them delivered', async () => {
    const r = await relay();
    const alice = await peer('alice');
    const bob = await peer('bob');
    await alice.useRelays([r.address]);
    await bob.useRelays([r.address]);

    await initCrypto();
    const link = await inviteLinkOf(alice);
    const aliceMailbox = mailboxIdOf(link);
    const bobMailbox = mailboxIdOf(await inviteLinkOf(bob));
    await alice.stop();

    const sent = await addOfflineAndWrite(bob, link, 3);
    // The introduction and the three messages wait in Alice's mailbox.
    expect(waiting(r, aliceMailbox)).toBe(4);
    const [bobContact] = await bob.call('contacts.list');
    expect(bobContact?.displayName).toBe('alice');
    expect(await bob.call('contacts.requests')).toEqual([]);
    await bob.stop();

    await alice.restart();
    const contacts = await until('Bob as Alice’s contact', async () => {
      const list = await alice.call('contacts.list');
      return list.length === 1 ? list : undefined;
    });
    expect(contacts[0]?.displayName).toBe('bob');
    // Accepted through the invite: no request waits for Alice's decision.
    expect(await alice.call('contacts.requests')).toEqual([]);
    alice.conversationId = (contacts[0] as { conversationId: string }).conversationId;
    const arrived = await until('Bob’s 3 messages at Alice', async () => {
      const got = await receivedExactlyOnce(alice, sent);
      return got.length === 3 ? got : undefined;
    });
    expect(arrived.every((m) => m.path === 'mailbox')).toBe(true);
    expect(arrived.map((m) => m.body)).toEqual([...sent.values()]);
    // Hers is emptied once fetched; her receipts go to Bob's mailbox (he is away).
    await until('Alice’s mailbox emptied', async () => (waiting(r, aliceMailbox) === 0 ? true : undefined));
    await until('Alice’s receipts deposited for Bob', async () => (waiting(r, bobMailbox) > 0 ? true : undefined));

    await bob.restart();
    await until('Bob’s messages delivered', async () => {
      const mine = (await bob.timeline()).filter((m) => sent.has(m.id));
      return mine.length === 3 && mine.every((m) => m.state === 'delivered' || m.state === 'read') ? true : undefined;
    });
    // Still exactly once after everything settled, and the chat goes on both ways.
    expect(await receivedExactlyOnce(alice, sent)).toHaveLength(3);
    const reply = await alice.call('messages.send', { conversationId: alice.conversationId, body: 'welcome' });
    await until('Alice’s reply at Bob', async () => ((await bob.timeline()).some((m) => m.id === reply.id) ? true : undefined));
  });

  it('offline invite - hostile envelopes in the mailbox (junk, a stranger’s message, a wrong invite secret) create no accepted contact, and the rest is still served', async () => {
    await initCrypto();
    const r = await relay();
    const alice = await peer('alice');
    const bob = await peer('bob');
    const mallory = await peer('mallory');
    await alice.useRelays([r.address]);
    await bob.useRelays([r.address]);
    await mallory.useRelays([r.address]);
    const link = await inviteLinkOf(alice);
    await alice.stop();

    // Junk and a stranger's well-formed first message that is no introduction, deposited raw.
    const invite = parseInvite(link);
    const aliceMailbox = mailboxIdOf(link);
    const node = await nodes.start();
    const client = new MailboxClient(node);
    const junk = randomBytes(512);
    junk[0] = 1;
    await client.deposit(multiaddr(r.address), aliceMailbox, junk);
    const stranger = Session.initiate(generateIdentity(), invite.card.verifiedBundle);
    const text = encodeContent({ kind: 'text', id: randomBytes(16), sentAt: Date.now(), seq: 1, body: 'let me in' });
    await client.deposit(multiaddr(r.address), aliceMailbox, stranger.encrypt(text));

    // Mallory holds a copy of the link with another secret (one used up, or guessed).
    const forged = encodeInvite(invite.card.encoded, randomBytes(INVITE_SECRET_BYTES));
    const fromMallory = await addOfflineAndWrite(mallory, forged, 1);
    const fromBob = await addOfflineAndWrite(bob, link, 2);
    await mallory.stop();
    await bob.stop();

    await alice.restart();
    const contacts = await until('Bob as Alice’s contact', async () => {
      const list = await alice.call('contacts.list');
      return list.some((c) => c.displayName === 'bob') ? list : undefined;
    });
    alice.conversationId = (contacts.find((c) => c.displayName === 'bob') as { conversationId: string }).conversationId;
    await until('Bob’s 2 messages at Alice', async () => ((await receivedExactlyOnce(alice, fromBob)).length === 2 ? true : undefined));

    // Mallory is a request for Alice to decide on, not a contact; her message is not shown.
    expect(contacts.map((c) => c.displayName)).toEqual(['bob']);
    const requests = await alice.call('contacts.requests');
    expect(requests.map((q) => [q.direction, q.displayName])).toEqual([['incoming', 'mallory']]);
    const conversations = await alice.call('conversations.list');
    expect(conversations.map((c) => c.title)).toEqual(['bob']);
    // Junk and the stranger's message were refused (deleted); Mallory's message waits on the
    // relay for Alice's decision.
    await until('Alice’s mailbox left with Mallory’s message only', async () => (waiting(r, aliceMailbox) === fromMallory.size ? true : undefined));
  });
});
