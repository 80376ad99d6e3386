/**
 * Contact books on real encrypted stores with no network: what one side's introduction leaves
 * in a mailbox is handed to the other side's introduceFromMailbox, as a mailbox fetch would.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBundle, ENVELOPE_BUCKETS, generateIdentity, generateSignedPrekey, initCrypto, randomBytes, Session } from '../../../crypto';
import { generateDeviceKey, peerIdFromDeviceKey, type IntroduceStatus } from '../../net';
import type { Store } from '../../store';
import { makeTestStore, removeTempDir, type TestStore } from '../../store/store.test-util';
import { EventBus } from '../events';
import { LocalIdentity } from '../identity/local-identity';
import { encodeContent } from '../messaging/content';
import { Messenger } from '../messaging/messenger';
import { RETRY_MAX_MS, type MailboxTarget } from '../messaging/outbox-worker';
import { createCard, encodeInvite, INVITE_SECRET_BYTES, parseInvite, verifyCard } from './card';
import { ContactBook } from './contact-book';

const stores: TestStore[] = [];
const books: ContactBook[] = [];
beforeAll(async () => {
  await initCrypto();
});
afterEach(async () => {
  vi.useRealTimers();
  for (const book of books.splice(0)) await book.stop();
  for (const s of stores.splice(0)) {
    s.store.close();
    removeTempDir(s.dir);
  }
});

let clock = 1_700_000_000_000;
const now = () => clock++;
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const unreachable = () => Promise.reject(Object.assign(new Error('unreachable'), { name: 'PeerUnreachableError' }));

async function relayAddresses(count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`/ip4/127.0.0.1/tcp/${4001 + i}/p2p/${peerIdFromDeviceKey(await generateDeviceKey()).toString()}`);
  return out;
}

interface Party {
  store: Store;
  local: LocalIdentity;
  book: ContactBook;
  messenger: Messenger;
  events: EventBus;
  /** Envelopes deposited per relay address. */
  deposits: Map<string, Uint8Array[]>;
  kicked: number[];
}

async function party(
  name: string,
  options: { relays?: string[]; introduce?: (peerId: string, envelope: Uint8Array) => Promise<IntroduceStatus>; failingRelays?: Set<string> } = {},
): Promise<Party> {
  const t = await makeTestStore();
  stores.push(t);
  const local = await LocalIdentity.create(t.store, name, now);
  local.setRelays(options.relays ?? []);
  const events = new EventBus();
  const deposits = new Map<string, Uint8Array[]>();
  const kicked: number[] = [];
  const late: { book?: ContactBook } = {};
  const messenger = new Messenger(t.store, local, now, {
    accepted: (contact, card) => late.book?.accepted(contact, card),
    profile: (contact, card) => late.book?.profile(contact, card),
  });
  const book = new ContactBook({
    store: t.store,
    local,
    messenger,
    net: { fetchCard: unreachable, introduce: options.introduce ?? unreachable, isConnected: () => false },
    mailbox: {
      targets: (deviceId): MailboxTarget[] => {
        const device = t.store.devices.get(deviceId);
        if (!device) return [];
        return verifyCard(device.card).relays.map((r) => ({ relayAddress: r.address, mailboxId: r.mailboxId as Uint8Array }));
      },
      deposit: async (target, envelope) => {
        if (options.failingRelays?.has(target.relayAddress)) throw Object.assign(new Error('full'), { name: 'MailboxError', code: 'mailboxFull' });
        deposits.set(target.relayAddress, [...(deposits.get(target.relayAddress) ?? []), envelope]);
      },
    },
    events,
    log: silent,
    now,
    kick: (deviceId) => kicked.push(deviceId),
  });
  late.book = book;
  books.push(book);
  return { store: t.store, local, book, messenger, events, deposits, kicked };
}

/** Resolves when `p` kicks its outbox for a device: what follows a delivered introduction. */
function nextKick(p: Party): Promise<number> {
  const seen = p.kicked.length;
  return vi.waitFor(() => {
    const id = p.kicked[seen];
    if (id === undefined) throw new Error('no kick yet');
    return id;
  });
}

/** Bob adds Alice from her invite link while she is unreachable; resolves once the introduction is out. */
async function addWhileAway(bob: Party, link: string) {
  const kicked = nextKick(bob);
  await bob.book.addFromInvite(link);
  return { deviceId: await kicked };
}

describe('contact book - introductions through mailboxes', () => {
  it('introductions - an unreachable inviter gets the introduction in two of its mailboxes, and takes it as an accepted contact before the messages behind it', async () => {
    const relays = await relayAddresses(3);
    const alice = await party('Alice', { relays });
    const bob = await party('Bob', { relays: relays.slice(0, 1) });
    const link = alice.local.inviteLink();

    const { deviceId } = await addWhileAway(bob, link);
    // MAILBOX_COPIES relays of the three, in card order, the same envelope on each.
    expect([...bob.deposits.keys()]).toEqual(relays.slice(0, 2));
    const [intro] = bob.deposits.get(relays[0] as string) ?? [];
    expect(bob.deposits.get(relays[1] as string)).toEqual([intro]);
    expect(bob.book.ready(deviceId)).toBe(true);
    const bobsAlice = bob.store.contacts.list()[0];
    expect(bobsAlice?.requestState).toBe('accepted');
    const conversation = bob.store.conversations.getOrCreate(bobsAlice?.id as number);
    bob.messenger.sendText(bobsAlice as never, conversation.id, 'hi while you were away');
    const [text] = bob.store.outbox.pendingForDevice(deviceId).map((i) => i.envelope);

    // Alice, back: no session claims the introduction; it makes Bob an accepted contact.
    expect(alice.messenger.senderOf(intro as Uint8Array)).toBeUndefined();
    const updated = new Promise((resolve) => alice.events.on('contact.updated', resolve));
    expect(alice.book.introduceFromMailbox(intro as Uint8Array)).toEqual({ status: 'stored' });
    await updated;
    const [aliceBob] = alice.store.contacts.list();
    expect(aliceBob?.displayName).toBe('Bob');
    expect(aliceBob?.requestState).toBe('accepted');
    expect(alice.book.requests()).toEqual([]);
    // The message behind it now has a sender, and opens.
    const sender = alice.messenger.senderOf(text as Uint8Array);
    expect(sender?.contact.id).toBe(aliceBob?.id);
    const received = alice.messenger.receiveBatch(sender?.device as never, sender?.contact as never, [text as Uint8Array], 'mailbox');
    expect(received.statuses).toEqual(['stored']);
    expect(received.effects.received.map((m) => m.body)).toEqual(['hi while you were away']);
    // The copy from the second relay is the same session's introduction: kept once.
    expect(alice.messenger.senderOf(intro as Uint8Array)?.contact.id).toBe(aliceBob?.id);
    expect(alice.messenger.receiveBatch(sender?.device as never, sender?.contact as never, [intro as Uint8Array], 'mailbox').statuses).toEqual(['stored']);
    expect(alice.store.contacts.list()).toHaveLength(1);
  });

  it('introductions - messages written before the introduction is out wait behind it, and go once it is', async () => {
    const relays = await relayAddresses(1);
    const alice = await party('Alice', { relays });
    let answer: (status: IntroduceStatus) => void = () => {};
    const bob = await party('Bob', { introduce: () => new Promise((resolve) => (answer = resolve)) });
    const kicked = nextKick(bob);
    await bob.book.addFromInvite(alice.local.inviteLink());
    const [contact] = bob.store.contacts.list();
    const [device] = bob.store.devices.listByContact(contact?.id as number);
    expect(bob.book.ready(device?.id as number)).toBe(false);
    bob.messenger.sendText(contact as never, bob.store.conversations.getOrCreate(contact?.id as number).id, 'early');
    // What the outbox does for a device that is not ready.
    bob.store.outbox.holdForContact(contact?.id as number);
    expect(bob.store.outbox.pendingForDevice(device?.id as number)).toHaveLength(0);

    answer('accepted');
    expect(await kicked).toBe(device?.id);
    expect(bob.book.ready(device?.id as number)).toBe(true);
    expect(bob.store.outbox.pendingForDevice(device?.id as number)).toHaveLength(1);
    expect(bob.deposits.size).toBe(0);
  });

  it('introductions - a refusal over hello leaves it owed and deposits nothing; unreachable everywhere, it is tried again later', async () => {
    const relays = await relayAddresses(1);
    const alice = await party('Alice', { relays });
    const refusing = await party('Bob', { introduce: async () => 'rejected' });
    await refusing.book.addFromInvite(alice.local.inviteLink());
    const [device] = refusing.store.devices.listByContact((refusing.store.contacts.list()[0]?.id) as number);
    // Discovery delivers what is owed and waits for the attempt in flight (or a new one) to end.
    await refusing.book.discovered(alice.local.peerId);
    expect(refusing.store.sessions.getActiveForDevice(device?.id as number)).toBeDefined();
    expect(refusing.book.ready(device?.id as number)).toBe(false);
    expect(refusing.deposits.size).toBe(0);

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const refusingRelays = new Set(relays);
    const carol = await party('Carol', { failingRelays: refusingRelays });
    await carol.book.addFromInvite(alice.local.inviteLink());
    const [carolsAlice] = carol.store.contacts.list();
    const carolDevice = carol.store.devices.listByContact(carolsAlice?.id as number)[0]?.id as number;
    await vi.advanceTimersByTimeAsync(0);
    expect(carol.book.ready(carolDevice)).toBe(false);
    expect(carol.deposits.size).toBe(0);
    // The relay takes mail again: the retry, within the outbox's longest backoff, deposits.
    refusingRelays.clear();
    await vi.advanceTimersByTimeAsync(RETRY_MAX_MS * 1.5);
    expect(carol.deposits.get(relays[0] as string)).toHaveLength(1);
    expect(carol.book.ready(carolDevice)).toBe(true);
  });

  it('introductions - every attempt sends the same envelope: the session steps once, however long the contact stays away', async () => {
    const alice = await party('Alice', { relays: await relayAddresses(1) });
    const sent: Uint8Array[] = [];
    const bob = await party('Bob', {
      introduce: async (_peerId, envelope) => {
        sent.push(envelope);
        return 'rejected';
      },
    });
    await bob.book.addFromInvite(alice.local.inviteLink());
    for (let i = 0; i < 3; i++) await bob.book.discovered(alice.local.peerId);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const envelope of sent) expect(Buffer.from(envelope).equals(Buffer.from(sent[0] as Uint8Array))).toBe(true);
    // Alice takes the copy that finally reaches her (as an accepted contact: the invite).
    expect(await alice.book.introduceFromMailbox(sent.at(-1) as Uint8Array)).toEqual({ status: 'stored' });
    expect(alice.store.contacts.list()[0]?.requestState).toBe('accepted');
  });

  it('introductions - an old introduction served again after its session and contact are gone is refused as replayed', async () => {
    const alice = await party('Alice', { relays: await relayAddresses(1) });
    const sent: Uint8Array[] = [];
    const bob = await party('Bob', {
      introduce: async (_peerId, envelope) => {
        sent.push(envelope);
        return 'rejected';
      },
    });
    await bob.book.addFromInvite(alice.local.inviteLink());
    const copy = sent[0] as Uint8Array;
    expect(await alice.book.introduceFromMailbox(copy)).toEqual({ status: 'stored' });
    const [bobAtAlice] = alice.store.contacts.list();
    alice.store.contacts.remove(bobAtAlice?.id as number);
    expect(alice.store.contacts.list()).toEqual([]);
    expect(await alice.book.introduceFromMailbox(copy)).toEqual({ status: 'rejected', reason: 'replayed' });
    expect(alice.store.contacts.list()).toEqual([]);
  });

  it('introductions - a stranger with a wrong invite secret becomes a request, never a contact; junk and a stranger’s plain message are refused', async () => {
    const relays = await relayAddresses(1);
    const alice = await party('Alice', { relays });
    const mallory = await party('Mallory');
    const invite = parseInvite(alice.local.inviteLink());
    await addWhileAway(mallory, encodeInvite(invite.card.encoded, randomBytes(INVITE_SECRET_BYTES)));
    const [forged] = mallory.deposits.get(relays[0] as string) ?? [];

    const requested = new Promise((resolve) => alice.events.on('contact.request', resolve));
    expect(alice.book.introduceFromMailbox(forged as Uint8Array)).toEqual({ status: 'stored' });
    await requested;
    expect(alice.book.list()).toEqual([]);
    expect(alice.book.requests().map((r) => [r.direction, r.displayName])).toEqual([['incoming', 'Mallory']]);

    const junk = randomBytes(ENVELOPE_BUCKETS[0] as number);
    junk[0] = 1; // the envelope version, at a bucket size: well-formed, sealed to nothing of ours
    expect(alice.book.introduceFromMailbox(junk)).toEqual({ status: 'rejected', reason: 'unknown-recipient' });
    junk[0] = 0xff;
    expect(alice.book.introduceFromMailbox(junk)).toEqual({ status: 'rejected', reason: 'undecryptable' });
    const stranger = Session.initiate(generateIdentity(), invite.card.verifiedBundle);
    const text = stranger.encrypt(encodeContent({ kind: 'text', id: randomBytes(16), sentAt: now(), seq: 1, body: 'hello?' }));
    expect(alice.book.introduceFromMailbox(text)).toEqual({ status: 'rejected', reason: 'not-introduction' });
    const tampered = stranger.encrypt(encodeContent({ kind: 'text', id: randomBytes(16), sentAt: now(), seq: 2, body: 'x' }));
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    expect(alice.book.introduceFromMailbox(tampered)).toEqual({ status: 'rejected', reason: 'undecryptable' });
    expect(alice.store.contacts.list()).toHaveLength(1);
  });

  it('introductions - from a mailbox, a card naming the device of another contact is refused, and that contact keeps its key', async () => {
    const relays = await relayAddresses(1);
    const alice = await party('Alice', { relays });
    const bob = await party('Bob');
    const link = alice.local.inviteLink();
    await addWhileAway(bob, link);
    alice.book.introduceFromMailbox(bob.deposits.get(relays[0] as string)?.[0] as Uint8Array);
    const [aliceBob] = alice.store.contacts.list();

    // Eve signs a card with her own identity that names Bob's PeerId.
    const eve = generateIdentity();
    const spk = generateSignedPrekey(1, now());
    const bundle = createBundle(eve, bob.local.peerId, spk, undefined, now());
    const card = createCard(eve, { displayName: 'Bob', peerId: bob.local.peerId, bundle, relays: [], createdAt: now() });
    const session = Session.initiate(eve, parseInvite(link).card.verifiedBundle);
    const envelope = session.encrypt(encodeContent({ kind: 'introduce', id: randomBytes(16), sentAt: now(), card }));
    expect(alice.book.introduceFromMailbox(envelope)).toEqual({ status: 'rejected', reason: 'device-of-another-contact' });
    const after = alice.store.contacts.get(aliceBob?.id as number);
    expect(after?.keyChanged).toBe(false);
    expect(alice.store.contacts.list()).toHaveLength(1);
  });
});
