/**
 * `/parley/mailbox/1.0.0` between real libp2p nodes on loopback and an in-process relay with
 * its libsql store on a temporary folder. Run inside a private network namespace.
 */
import '../../../src/main/polyfills';
import { afterEach, describe, expect, it } from 'vitest';
import { request, type ParleyNode } from '../../../src/main/net';
import type {
  MailboxKey} from '../../../src/main/net/protocols/mailbox';
import {
  MAILBOX_CHALLENGE_TTL_MS,
  MAILBOX_MAX_ENVELOPE_BYTES,
  MAILBOX_MAX_RESPONSE_BYTES,
  MAILBOX_OP,
  MAILBOX_PROTOCOL,
  MailboxClient,
  authMessage,
  decodeResponse,
  encodeChallengeRequest,
  encodeOwnerArgs,
  encodeOwnerRequest,
  type MailboxResponse,
} from '../../../src/main/net/protocols/mailbox';
import type { Relay } from '../../../src/main/relay';
import {
  LogCapture,
  ManualClock,
  Nodes,
  Relays,
  addressOf,
  canaryEnvelope,
  filesContaining,
  newMailboxKey,
  textForms,
} from './fixtures';
import { randomBytes, utf8 } from '../../../src/crypto';

const nodes = new Nodes();
const relays = new Relays();
afterEach(async () => {
  // Clients first, so the relay sees their connections close instead of waiting on them.
  await nodes.stopAll();
  await relays.stopAll();
});

/** A fresh client node and its mailbox client. */
async function client(): Promise<{ node: ParleyNode; mailbox: MailboxClient }> {
  const node = await nodes.start();
  return { node, mailbox: new MailboxClient(node) };
}

/** Raw exchange for attacks the client library would never make. */
async function raw(node: ParleyNode, relay: Relay, op: Parameters<typeof decodeResponse>[0], frame: Uint8Array): Promise<MailboxResponse> {
  const response = await request(node, addressOf(relay), MAILBOX_PROTOCOL, frame, {
    maxRequestBytes: 128 * 1024,
    maxResponseBytes: MAILBOX_MAX_RESPONSE_BYTES,
    runOnLimitedConnection: true,
  });
  return decodeResponse(op, response);
}

async function challengeFor(node: ParleyNode, relay: Relay, key: MailboxKey): Promise<Uint8Array> {
  const reply = await raw(node, relay, 'challenge', encodeChallengeRequest(key.id));
  if (reply.op !== 'challenge' || reply.status !== 'ok') throw new Error(`challenge refused: ${reply.status}`);
  return reply.challenge;
}

/** A signed LIST request: `signer` signs, `key` is the mailbox it claims. */
function signedList(key: MailboxKey, challenge: Uint8Array, signer: MailboxKey = key, publicKey = signer.publicKey): Uint8Array {
  const args = encodeOwnerArgs({ op: 'list', page: { after: 0, maxCount: 100 } });
  const signature = signer.signAuth(authMessage(challenge, MAILBOX_OP.list, key.id, args));
  return encodeOwnerRequest('list', { mailboxId: key.id, publicKey, challenge, signature }, args);
}

describe('mailbox - round trip', () => {
  it('mailbox - deposits from a stranger are listed, fetched in order and deleted only when the owner acknowledges them', async () => {
    const relay = await relays.start();
    const sender = await client();
    const owner = await client();
    const key = await newMailboxKey();
    const target = addressOf(relay);

    const sent = [canaryEnvelope(256), canaryEnvelope(1024), canaryEnvelope(4096)].map((c) => c.envelope);
    for (const envelope of sent) await sender.mailbox.deposit(target, key.id, envelope);

    const listed = await owner.mailbox.list(target, key);
    expect(listed.map((e) => e.size)).toEqual([256, 1024, 4096]);

    const fetched = await owner.mailbox.fetchAll(target, key);
    expect(fetched.map((e) => e.envelope)).toEqual(sent);
    expect(fetched.map((e) => e.id)).toEqual(listed.map((e) => e.id));
    // Fetching deletes nothing.
    expect(await owner.mailbox.fetchAll(target, key)).toHaveLength(3);

    // Only what is acknowledged goes; ids of other mailboxes or unknown ids delete nothing.
    expect(await owner.mailbox.ack(target, key, [fetched[0]!.id, 999_999])).toBe(1);
    const other = await newMailboxKey();
    expect(await owner.mailbox.ack(target, other, [fetched[1]!.id])).toBe(0);
    expect((await owner.mailbox.fetchAll(target, key)).map((e) => e.envelope)).toEqual(sent.slice(1));

    expect(await owner.mailbox.ack(target, key, fetched.map((e) => e.id))).toBe(2);
    expect(await owner.mailbox.fetchAll(target, key)).toEqual([]);
    expect(relay.store.stats()).toEqual({ envelopes: 0, bytes: 0 });
  });

  it('mailbox - pages a large mailbox under the byte budget and returns every envelope once', async () => {
    const log = new LogCapture();
    // The smallest page the relay may set: one envelope of the largest size.
    const relay = await relays.start({ log, mailbox: { fetchPageBytes: MAILBOX_MAX_ENVELOPE_BYTES } });
    const sender = await client();
    const owner = await client();
    const key = await newMailboxKey();
    const target = addressOf(relay);
    const sent = Array.from({ length: 7 }, () => canaryEnvelope(24_576).envelope);
    for (const envelope of sent) await sender.mailbox.deposit(target, key.id, envelope);

    // A client asking for smaller pages (a data-limited relayed connection) gets them too.
    const small = new MailboxClient(owner.node, { fetchPageBytes: 30_000 });
    const fetched = await small.fetchAll(target, key);
    expect(fetched.map((e) => e.envelope)).toEqual(sent);

    const fetchedBig = await owner.mailbox.fetchAll(target, key);
    expect(fetchedBig.map((e) => e.envelope)).toEqual(sent);
    expect(new Set(fetchedBig.map((e) => e.id)).size).toBe(7);
    // 7 × 24 KiB: pages of 2 under the relay's 64 KiB budget, 4 pages; and 7 pages of 1 at 30,000 bytes.
    const pages = log.lines.filter((l) => l.includes('mailbox fetch status=ok')).map((l) => Number(/count=(\d+)/.exec(l)?.[1]));
    expect(pages).toEqual([1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1]);
  });
});

describe('mailbox - owner authorization', () => {
  it('mailbox - a wrong signature, or a key that is not the mailbox key, gets nothing', async () => {
    const relay = await relays.start();
    const sender = await client();
    const owner = await client();
    const key = await newMailboxKey();
    const intruder = await newMailboxKey();
    await sender.mailbox.deposit(addressOf(relay), key.id, canaryEnvelope().envelope);

    // The intruder's key presented for the owner's mailbox: its hash is not the id.
    const foreignKey = await raw(owner.node, relay, 'list', signedList(key, await challengeFor(owner.node, relay, key), intruder));
    expect(foreignKey).toEqual({ op: 'list', status: 'unauthorized' });
    // The owner's public key with the intruder's signature.
    const forged = await raw(
      owner.node,
      relay,
      'list',
      signedList(key, await challengeFor(owner.node, relay, key), intruder, key.publicKey),
    );
    expect(forged).toEqual({ op: 'list', status: 'unauthorized' });
    // A signature over other arguments than those sent (a different page).
    const challenge = await challengeFor(owner.node, relay, key);
    const args = encodeOwnerArgs({ op: 'list', page: { after: 0, maxCount: 1 } });
    const signature = key.signAuth(authMessage(challenge, MAILBOX_OP.list, key.id, args));
    const otherArgs = encodeOwnerArgs({ op: 'list', page: { after: 0, maxCount: 2 } });
    const swapped = encodeOwnerRequest('list', { mailboxId: key.id, publicKey: key.publicKey, challenge, signature }, otherArgs);
    expect(await raw(owner.node, relay, 'list', swapped)).toEqual({ op: 'list', status: 'unauthorized' });
    // A signature made for LIST used for FETCH.
    const c2 = await challengeFor(owner.node, relay, key);
    const fetchArgs = encodeOwnerArgs({ op: 'fetch', page: { after: 0, maxCount: 10, maxBytes: 65536 } });
    const listSig = key.signAuth(authMessage(c2, MAILBOX_OP.list, key.id, fetchArgs));
    const crossOp = encodeOwnerRequest('fetch', { mailboxId: key.id, publicKey: key.publicKey, challenge: c2, signature: listSig }, fetchArgs);
    expect(await raw(owner.node, relay, 'fetch', crossOp)).toEqual({ op: 'fetch', status: 'unauthorized' });
    // A challenge the relay never issued.
    expect(await raw(owner.node, relay, 'list', signedList(key, randomBytes(32)))).toEqual({ op: 'list', status: 'unauthorized' });

    // And the envelope is still there for the real owner.
    expect(await owner.mailbox.fetchAll(addressOf(relay), key)).toHaveLength(1);
  });

  it('mailbox - a replayed signature gets nothing', async () => {
    const relay = await relays.start();
    const owner = await client();
    const key = await newMailboxKey();
    const frame = signedList(key, await challengeFor(owner.node, relay, key));
    const first = await raw(owner.node, relay, 'list', frame);
    expect(first.status).toBe('ok');
    expect(await raw(owner.node, relay, 'list', frame)).toEqual({ op: 'list', status: 'unauthorized' });
  });

  it('mailbox - an expired challenge gets nothing', async () => {
    const clock = new ManualClock();
    const relay = await relays.start({ clock });
    const owner = await client();
    const key = await newMailboxKey();
    const fresh = signedList(key, await challengeFor(owner.node, relay, key));
    const stale = signedList(key, await challengeFor(owner.node, relay, key));
    clock.advance(MAILBOX_CHALLENGE_TTL_MS - 1);
    expect((await raw(owner.node, relay, 'list', fresh)).status).toBe('ok');
    clock.advance(1);
    expect(await raw(owner.node, relay, 'list', stale)).toEqual({ op: 'list', status: 'unauthorized' });
  });

  it('mailbox - another PeerId presenting a challenge and its valid signature gets nothing', async () => {
    const relay = await relays.start();
    const sender = await client();
    const owner = await client();
    const thief = await client();
    const key = await newMailboxKey();
    await sender.mailbox.deposit(addressOf(relay), key.id, canaryEnvelope().envelope);

    const frame = signedList(key, await challengeFor(owner.node, relay, key));
    expect(await raw(thief.node, relay, 'list', frame)).toEqual({ op: 'list', status: 'unauthorized' });
    // The thief could not even spend it: the owner still can.
    const reply = await raw(owner.node, relay, 'list', frame);
    expect(reply.status).toBe('ok');
    expect(reply.op === 'list' && reply.status === 'ok' ? reply.entries : []).toHaveLength(1);
  });

  it('mailbox - an unauthorized answer is two bytes: no data, not even whether the mailbox holds anything', async () => {
    const relay = await relays.start();
    const sender = await client();
    const owner = await client();
    const full = await newMailboxKey();
    const empty = await newMailboxKey();
    await sender.mailbox.deposit(addressOf(relay), full.id, canaryEnvelope().envelope);
    const replies: Uint8Array[] = [];
    for (const key of [full, empty]) {
      const frame = signedList(key, randomBytes(32));
      replies.push(await request(owner.node, addressOf(relay), MAILBOX_PROTOCOL, frame, { maxResponseBytes: MAILBOX_MAX_RESPONSE_BYTES }));
    }
    expect(replies[0]).toEqual(replies[1]);
    expect(replies[0]).toHaveLength(2);
    await expect(owner.mailbox.fetchAll(addressOf(relay), await newMailboxKey()).then((e) => e.length)).resolves.toBe(0);
  });
});

describe('mailbox - limits', () => {
  it('mailbox - a full mailbox refuses by count and by bytes with a typed error; other mailboxes still accept', async () => {
    const relay = await relays.start({ mailbox: { mailboxMaxEnvelopes: 3, mailboxMaxBytes: 4 * 1024 } });
    const sender = await client();
    const target = addressOf(relay);
    const byCount = await newMailboxKey();
    for (let i = 0; i < 3; i++) await sender.mailbox.deposit(target, byCount.id, canaryEnvelope(256).envelope);
    await expect(sender.mailbox.deposit(target, byCount.id, canaryEnvelope(256).envelope)).rejects.toMatchObject({
      name: 'MailboxError',
      code: 'mailboxFull',
    });

    const byBytes = await newMailboxKey();
    await sender.mailbox.deposit(target, byBytes.id, canaryEnvelope(3072).envelope);
    await expect(sender.mailbox.deposit(target, byBytes.id, canaryEnvelope(1536).envelope)).rejects.toMatchObject({
      code: 'mailboxFull',
    });
    await sender.mailbox.deposit(target, byBytes.id, canaryEnvelope(1024).envelope); // exactly 4 KiB
    await sender.mailbox.deposit(target, (await newMailboxKey()).id, canaryEnvelope(256).envelope);
  });

  it('mailbox - one depositor cannot take more than its share; other depositors still can', async () => {
    const relay = await relays.start({ mailbox: { depositorMaxEnvelopes: 2, depositorMaxBytes: 1024 * 1024 } });
    const flooder = await client();
    const honest = await client();
    const target = addressOf(relay);
    const a = await newMailboxKey();
    const b = await newMailboxKey();
    await flooder.mailbox.deposit(target, a.id, canaryEnvelope().envelope);
    await flooder.mailbox.deposit(target, b.id, canaryEnvelope().envelope);
    await expect(flooder.mailbox.deposit(target, b.id, canaryEnvelope().envelope)).rejects.toMatchObject({
      name: 'MailboxError',
      code: 'depositorQuota',
    });
    await honest.mailbox.deposit(target, b.id, canaryEnvelope().envelope);
  });

  it('mailbox - a depositor byte quota and a relay-wide cap refuse with their own codes', async () => {
    const relay = await relays.start({ mailbox: { depositorMaxBytes: 2048, relayMaxEnvelopes: 3 } });
    const one = await client();
    const two = await client();
    const target = addressOf(relay);
    const key = await newMailboxKey();
    await one.mailbox.deposit(target, key.id, canaryEnvelope(2048).envelope);
    await expect(one.mailbox.deposit(target, key.id, canaryEnvelope(256).envelope)).rejects.toMatchObject({ code: 'depositorQuota' });
    await two.mailbox.deposit(target, key.id, canaryEnvelope(256).envelope);
    await two.mailbox.deposit(target, key.id, canaryEnvelope(256).envelope);
    await expect(two.mailbox.deposit(target, key.id, canaryEnvelope(256).envelope)).rejects.toMatchObject({ code: 'relayFull' });
  });

  it('mailbox - a deposit flood from one PeerId is answered rate-limited', async () => {
    const relay = await relays.start({ mailbox: { depositRateLimit: { capacity: 3, refillPerSecond: 0.01 } } });
    const flooder = await client();
    const other = await client();
    const key = await newMailboxKey();
    const target = addressOf(relay);
    for (let i = 0; i < 3; i++) await flooder.mailbox.deposit(target, key.id, canaryEnvelope().envelope);
    await expect(flooder.mailbox.deposit(target, key.id, canaryEnvelope().envelope)).rejects.toMatchObject({
      name: 'MailboxError',
      code: 'rateLimited',
    });
    await other.mailbox.deposit(target, key.id, canaryEnvelope().envelope);
  });

  it('mailbox - the largest envelope is accepted and one byte more is refused', async () => {
    const relay = await relays.start({ mailbox: { maxEnvelopeBytes: 1024 } });
    const sender = await client();
    const key = await newMailboxKey();
    const target = addressOf(relay);
    await sender.mailbox.deposit(target, key.id, canaryEnvelope(1024).envelope);
    // The relay's own limit: a typed answer from the relay.
    await expect(sender.mailbox.deposit(target, key.id, canaryEnvelope(1025).envelope)).rejects.toMatchObject({
      name: 'MailboxError',
      code: 'tooLarge',
    });

    // The protocol's limit (64 KiB, the largest sealed envelope) on a relay with default limits.
    const open = await relays.start();
    await sender.mailbox.deposit(addressOf(open), key.id, canaryEnvelope(MAILBOX_MAX_ENVELOPE_BYTES).envelope);
    await expect(
      sender.mailbox.deposit(addressOf(open), key.id, canaryEnvelope(MAILBOX_MAX_ENVELOPE_BYTES + 1).envelope),
    ).rejects.toMatchObject({ code: 'tooLarge' });
    expect(open.store.stats().envelopes).toBe(1);
  });
});

describe('mailbox - storage', () => {
  it('mailbox - an expired envelope is hidden at once and gone from every file of the relay after the sweep', async () => {
    const clock = new ManualClock();
    const dir = relays.tempDir();
    const ttlMs = 60 * 60 * 1000;
    const relay = await relays.start({ dir, clock, mailbox: { ttlMs } });
    const sender = await client();
    const owner = await client();
    const key = await newMailboxKey();
    const target = addressOf(relay);
    const expiring = canaryEnvelope(1024);
    await sender.mailbox.deposit(target, key.id, expiring.envelope);
    clock.advance(ttlMs / 2);
    const staying = canaryEnvelope(1024);
    await sender.mailbox.deposit(target, key.id, staying.envelope);

    // The store really holds the bytes (so the scan below can fail).
    relay.store.checkpoint();
    expect(filesContaining(dir, utf8(expiring.canary))).not.toEqual([]);

    clock.advance(ttlMs / 2);
    expect((await owner.mailbox.fetchAll(target, key)).map((e) => e.envelope)).toEqual([staying.envelope]);
    expect(relay.mailbox.sweep()).toBe(1);
    expect(filesContaining(dir, utf8(expiring.canary))).toEqual([]);
    expect(filesContaining(dir, utf8(staying.canary))).not.toEqual([]);
    expect(relay.store.stats()).toEqual({ envelopes: 1, bytes: 1024 });
  });

  it('mailbox - acknowledged envelopes leave every file of the relay by the next sweep', async () => {
    const dir = relays.tempDir();
    const relay = await relays.start({ dir });
    const sender = await client();
    const owner = await client();
    const key = await newMailboxKey();
    const target = addressOf(relay);
    const { envelope, canary } = canaryEnvelope(2048);
    await sender.mailbox.deposit(target, key.id, envelope);
    const [fetched] = await owner.mailbox.fetchAll(target, key);
    expect(await owner.mailbox.ack(target, key, [fetched!.id])).toBe(1);
    expect(relay.mailbox.sweep()).toBe(0);
    expect(filesContaining(dir, utf8(canary))).toEqual([]);
  });

  it('mailbox - a relay restarted on the same folder keeps its PeerId and every stored envelope', async () => {
    const dir = relays.tempDir();
    const first = await relays.start({ dir });
    const sender = await client();
    const key = await newMailboxKey();
    const sent = Array.from({ length: 20 }, (_, i) => canaryEnvelope(i % 2 === 0 ? 256 : 8192).envelope);
    for (const envelope of sent) await sender.mailbox.deposit(addressOf(first), key.id, envelope);
    const peerId = first.peerId;
    await nodes.stopAll();
    await first.stop();

    const second = await relays.start({ dir });
    expect(second.peerId).toBe(peerId);
    const owner = await client();
    const fetched = await owner.mailbox.fetchAll(addressOf(second), key);
    expect(fetched.map((e) => e.envelope)).toEqual(sent);
    expect(second.store.stats().envelopes).toBe(20);
  });

  it('mailbox - a second relay on a folder in use is refused', async () => {
    const dir = relays.tempDir();
    await relays.start({ dir });
    await expect(relays.start({ dir })).rejects.toMatchObject({ name: 'StoreError', code: 'IN_USE' });
  });
});

describe('mailbox - what the relay logs', () => {
  it('mailbox - the log counts and sizes activity but never shows envelope bytes or mailbox ids', async () => {
    const log = new LogCapture();
    const dir = relays.tempDir();
    const relay = await relays.start({ dir, log });
    const sender = await client();
    const owner = await client();
    const key = await newMailboxKey();
    const target = addressOf(relay);
    const deposits = [canaryEnvelope(256), canaryEnvelope(4096)];
    for (const { envelope } of deposits) await sender.mailbox.deposit(target, key.id, envelope);
    await expect(sender.mailbox.deposit(target, key.id, canaryEnvelope(MAILBOX_MAX_ENVELOPE_BYTES + 1).envelope)).rejects.toThrow();
    await raw(owner.node, relay, 'list', signedList(key, randomBytes(32)));
    const fetched = await owner.mailbox.fetchAll(target, key);
    await owner.mailbox.ack(target, key, fetched.map((e) => e.id));

    // The store held them (a scan that can fail)…
    expect(fetched.map((e) => e.envelope)).toEqual(deposits.map((d) => d.envelope));
    // …and the log said what happened, in counts, sizes and a short tag.
    const text = log.text;
    expect(text).toMatch(/mailbox deposit status=ok mailbox=[0-9a-f]{8} bytes=256/);
    expect(text).toMatch(/mailbox list status=unauthorized mailbox=[0-9a-f]{8}/);
    expect(text).toMatch(/mailbox fetch status=ok mailbox=[0-9a-f]{8} count=2 bytes=4352/);
    expect(text).toMatch(/mailbox ack status=ok mailbox=[0-9a-f]{8} count=2/);
    expect(text).toMatch(/connection open/);

    for (const { envelope, canary } of deposits) {
      expect(text).not.toContain(canary);
      for (const form of textForms(envelope.subarray(0, 24))) expect(text).not.toContain(form.slice(0, 16));
    }
    for (const form of [...textForms(key.id), ...textForms(key.publicKey)]) {
      // Not the id, nor any 8-byte (16 hex digit) run of it.
      for (let i = 0; i + 16 <= form.length; i += 4) expect(text).not.toContain(form.slice(i, i + 16));
    }
    expect(text).not.toContain(sender.node.peerId.toString());
    expect(text).not.toContain(owner.node.peerId.toString());
  });
});
