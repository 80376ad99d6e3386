/**
 * A hostile peer against a real core (issue 3, "Bad input gets a clear error and loses
 * nothing"), in one process: Victor (the victim) has two contacts, Carol (honest, a real core
 * that keeps chatting) and Mallory (whose real core is stopped after her envelopes to Victor
 * were captured from her data folder; a raw libp2p node holding her device key plays her).
 * Strangers are raw nodes with fresh keys.
 *
 * Each framing attack is checked for two things: the stream is reset, and Victor keeps serving
 * his contacts (a real message from Carol still arrives). Strangers' hello attacks each use a
 * fresh stranger, so the reset proves the frame check, not the rate limit a previous violation
 * earned.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, encodeFrameHeader, type ParleyNode } from '../../../src/main/net';
import { HELLO_MAX_REQUEST_BYTES, HELLO_PROTOCOL, HELLO_RATE_LIMIT, HELLO_TYPE } from '../../../src/main/net/protocols/hello';
import { encodeBatch, MSG_MAX_REQUEST_BYTES, MSG_PROTOCOL } from '../../../src/main/net/protocols/msg';
import type { Message } from '../../../src/shared';
import { startPeer, until, type TestPeer } from '../core/fixtures';
import { Nodes } from '../net/fixtures';
import { captureOutbox, connectAttacker, hello, msg, raw, statuses, type Capture, type Victim } from './attacker';

const PASS = { victor: 'victor passphrase', carol: 'carol passphrase', mallory: 'mallory passphrase' };
const CAPTURED_MESSAGES = 3;
const RESET = 'StreamResetError';

const nodes = new Nodes();
let victor: TestPeer;
let carol: TestPeer;
let victim: Victim;
/** Carol's conversation with Victor, on Carol's side. */
let carolConversation: string;
/** Mallory's conversation, on Victor's side. */
let malloryOnVictor: string;
let captured: Capture;
let mallory: ParleyNode;
const dirs: string[] = [];
let chats = 0;

/** Carol sends Victor a message and it arrives: Victor still serves his contacts. */
async function carolStillChats(): Promise<void> {
  const body = `still here ${++chats}`;
  const arrived = victor.next('message.received', (e) => e.message.body === body, 20_000);
  await carol.call('messages.send', { conversationId: carolConversation, body });
  await arrived;
}

async function timeline(peer: TestPeer, conversationId: string): Promise<Message[]> {
  return (await peer.call('messages.page', { conversationId, limit: 200 })).messages;
}

/** Becomes `from`'s contact of `to` through a nearby request that `to` accepts. */
async function befriend(from: TestPeer, fromPeerId: string, to: TestPeer, toPeerId: string): Promise<void> {
  await until(async () => ((await from.call('nearby.list')).some((p) => p.peerId === toPeerId) ? true : undefined));
  const requested = to.next('contact.request', (e) => e.request.peerId === fromPeerId);
  const accepted = from.next('contact.updated');
  await from.call('contacts.request', { peerId: toPeerId });
  await to.call('contacts.accept', { requestId: (await requested).request.id });
  await accepted;
  await until(async () => ((await from.call('contacts.requests')).length === 0 ? true : undefined));
}

beforeAll(async () => {
  const [v0, c, m] = await Promise.all([startPeer(), startPeer(), startPeer()]);
  dirs.push(v0.dir, c.dir, m.dir);
  const [vp, cp, mp] = await Promise.all([
    v0.call('identity.create', { displayName: 'Victor', passphrase: PASS.victor }),
    c.call('identity.create', { displayName: 'Carol', passphrase: PASS.carol }),
    m.call('identity.create', { displayName: 'Mallory', passphrase: PASS.mallory }),
  ]);
  await befriend(c, cp.peerId, v0, vp.peerId);
  await befriend(m, mp.peerId, v0, vp.peerId);
  const contacts = await c.call('contacts.list');
  carolConversation = contacts.find((x) => x.displayName === 'Victor')!.conversationId;
  const malloryConversation = (await m.call('contacts.list')).find((x) => x.displayName === 'Victor')!.conversationId;

  // Victor goes offline; Mallory's messages stay queued, sealed, in her outbox; she stops and
  // her folder gives up her device key and those exact envelopes.
  await v0.stop();
  for (let i = 1; i <= CAPTURED_MESSAGES; i++) {
    const sent = await m.call('messages.send', { conversationId: malloryConversation, body: `from mallory ${i}` });
    expect(sent.state).toBe('queued');
  }
  await m.stop();
  captured = await captureOutbox(m.dir, PASS.mallory, vp.peerId);
  expect(captured.envelopes.length).toBeGreaterThanOrEqual(CAPTURED_MESSAGES);

  victor = await startPeer(v0.dir);
  await victor.call('identity.unlock', { passphrase: PASS.victor });
  carol = c;
  malloryOnVictor = (await victor.call('contacts.list')).find((x) => x.displayName === 'Mallory')!.conversationId;
  const address = (await victor.call('network.status')).addresses.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'));
  victim = { peerId: vp.peerId, address: address! };
  await carolStillChats();
  mallory = await connectAttacker(nodes, victim, captured.deviceKey);
});

afterAll(async () => {
  await nodes.stopAll();
  await Promise.all([victor?.stop(), carol?.stop()].map((p) => p?.catch(() => {})));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe.sequential('hostile peer against a real core', () => {
  it('a stranger cannot open /parley/msg, even with a contact\'s real envelopes', async () => {
    const stranger = await connectAttacker(nodes, victim);
    expect(await msg(stranger, victim, encodeBatch(captured.envelopes))).toBe(RESET);
    expect(await raw(stranger, victim, MSG_PROTOCOL, encodeFrame(encodeBatch(captured.envelopes), { maxFrameBytes: MSG_MAX_REQUEST_BYTES }))).toEqual({
      end: RESET,
      received: 0,
    });
    expect(await timeline(victor, malloryOnVictor)).toEqual([]);
    await carolStillChats();
  });

  it('hostile frames from a contact to /parley/msg get the stream reset, store nothing, and the contact is still served', async () => {
    const batch = encodeBatch(captured.envelopes);
    const truncatedBatch = batch.slice(0, batch.length - 10);
    const wrongCount = batch.slice();
    wrongCount[2] = (wrongCount[2] ?? 0) + 1; // one more envelope declared than sent
    const cases: Record<string, { bytes: Uint8Array; closeWrite?: boolean }> = {
      'garbage: an endless length prefix': { bytes: new Uint8Array(32).fill(0xff) },
      'garbage: a well-framed payload that is no batch': { bytes: encodeFrame(Uint8Array.of(7, ...randomBytes(40))) },
      'truncated: the stream ends mid-frame': { bytes: Uint8Array.from([...encodeFrameHeader(1000), ...randomBytes(100)]) },
      'truncated: a batch cut short inside its last envelope': { bytes: encodeFrame(truncatedBatch, { maxFrameBytes: MSG_MAX_REQUEST_BYTES }) },
      'truncated: a batch declaring more envelopes than it has': { bytes: encodeFrame(wrongCount, { maxFrameBytes: MSG_MAX_REQUEST_BYTES }) },
      'oversize: frame limit + 1': { bytes: Uint8Array.from([...encodeFrameHeader(MSG_MAX_REQUEST_BYTES + 1), ...new Uint8Array(MSG_MAX_REQUEST_BYTES + 1)]) },
      'oversize: 4 GiB declared, header only, stream left open': { bytes: Uint8Array.from([...encodeFrameHeader(2 ** 32), 1, 2, 3]), closeWrite: false },
      'replayed: the same batch twice on one stream, the second before any response': {
        bytes: Uint8Array.from([...encodeFrame(batch, { maxFrameBytes: MSG_MAX_REQUEST_BYTES }), ...encodeFrame(batch, { maxFrameBytes: MSG_MAX_REQUEST_BYTES })]),
      },
    };
    const outcomes: Record<string, string> = {};
    for (const [name, { bytes, closeWrite }] of Object.entries(cases)) {
      outcomes[name] = (await raw(mallory, victim, MSG_PROTOCOL, bytes, { closeWrite })).end;
    }
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(cases).map((name) => [name, RESET])));
    // None of it reached the store, not even the valid envelopes inside the replayed stream.
    expect(await timeline(victor, malloryOnVictor)).toEqual([]);
    await carolStillChats();
  });

  it('a contact\'s captured batch is stored once; replaying it is acknowledged as stored and adds nothing', async () => {
    const received: string[] = [];
    const off = victor.core.events.on('message.received', (e) => void received.push(e.message.body));
    try {
      const batch = encodeBatch(captured.envelopes);
      expect(statuses(await msg(mallory, victim, batch))).toEqual(captured.envelopes.map(() => 'stored'));
      const bodies = Array.from({ length: CAPTURED_MESSAGES }, (_, i) => `from mallory ${i + 1}`);
      // The response comes after the commit, and the events before the response.
      expect(received).toEqual(bodies);
      const stored = await timeline(victor, malloryOnVictor);
      expect(stored.map((m) => m.body).sort()).toEqual(bodies);

      // The same batch again, a single envelope again, and the batch reversed.
      expect(statuses(await msg(mallory, victim, batch))).toEqual(captured.envelopes.map(() => 'stored'));
      expect(statuses(await msg(mallory, victim, encodeBatch([captured.envelopes[0]!])))).toEqual(['stored']);
      expect(statuses(await msg(mallory, victim, encodeBatch([...captured.envelopes].reverse())))).toEqual(captured.envelopes.map(() => 'stored'));
      expect(received).toEqual(bodies);
      expect(await timeline(victor, malloryOnVictor)).toEqual(stored);

      // A garbage envelope in a well-formed batch is answered, rejected, and stored nowhere.
      expect(statuses(await msg(mallory, victim, encodeBatch([randomBytes(200)])))).toEqual(['rejected']);
      expect(received).toEqual(bodies);
    } finally {
      off();
    }
    await carolStillChats();
  });

  it('hostile frames from strangers to /parley/hello get the stream reset, and hello and the contact are still served', async () => {
    const getCard = Uint8Array.of(HELLO_TYPE.getCard);
    const cases: Record<string, { bytes: Uint8Array; closeWrite?: boolean }> = {
      'garbage: an endless length prefix': { bytes: new Uint8Array(32).fill(0xff) },
      'garbage: an unknown request type': { bytes: encodeFrame(Uint8Array.of(9, 1, 2, 3)) },
      'truncated: the stream ends mid-frame': { bytes: Uint8Array.from([...encodeFrameHeader(500), HELLO_TYPE.introduce, ...randomBytes(50)]) },
      'truncated: the stream ends mid-header': { bytes: Uint8Array.of(0x80) },
      'oversize: frame limit + 1': {
        bytes: Uint8Array.from([...encodeFrameHeader(HELLO_MAX_REQUEST_BYTES + 1), HELLO_TYPE.introduce, ...new Uint8Array(HELLO_MAX_REQUEST_BYTES)]),
      },
      'oversize: 4 GiB declared, header only, stream left open': { bytes: Uint8Array.from([...encodeFrameHeader(2 ** 32), 1]), closeWrite: false },
      'replayed: the same request twice on one stream': { bytes: Uint8Array.from([...encodeFrame(getCard), ...encodeFrame(getCard)]) },
    };
    const outcomes: Record<string, { end: string; received: number }> = {};
    for (const [name, { bytes, closeWrite }] of Object.entries(cases)) {
      const stranger = await connectAttacker(nodes, victim);
      outcomes[name] = await raw(stranger, victim, HELLO_PROTOCOL, bytes, { closeWrite });
      await stranger.stop();
    }
    // Reset, and not one byte of an answer.
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(cases).map((name) => [name, { end: RESET, received: 0 }])));

    // A well-framed introduction whose envelope is garbage is a valid request: answered
    // 'rejected' (status byte 2), and no contact request appears.
    const requests = (await victor.call('contacts.requests')).length;
    const introducer = await connectAttacker(nodes, victim);
    expect(await hello(introducer, victim, Uint8Array.of(HELLO_TYPE.introduce, ...randomBytes(300)))).toEqual(Uint8Array.of(2));
    expect(await victor.call('contacts.requests')).toHaveLength(requests);

    const newcomer = await connectAttacker(nodes, victim);
    const card = await hello(newcomer, victim, getCard);
    expect(card).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(card as Uint8Array).includes(Buffer.from('Victor'))).toBe(true);
    await carolStillChats();
  });

  it('a hello flood from one peer is cut off by the rate limit while the contact keeps chatting', async () => {
    const flooder = await connectAttacker(nodes, victim);
    const getCard = Uint8Array.of(HELLO_TYPE.getCard);
    const attempts = HELLO_RATE_LIMIT.capacity * 3;
    const flood = async (): Promise<string[]> => {
      const results: string[] = [];
      for (let i = 0; i < attempts; i++) {
        const reply = await hello(flooder, victim, getCard);
        results.push(typeof reply === 'string' ? reply : 'card');
      }
      return results;
    };
    const started = Date.now();
    const [results] = await Promise.all([flood(), carolStillChats()]);
    // Tokens the bucket may have refilled while the flood ran (0.5 a second), rounded up.
    const refilled = Math.ceil(((Date.now() - started) / 1000) * HELLO_RATE_LIMIT.refillPerSecond) + 1;
    const served = results.filter((r) => r === 'card').length;
    // The burst is served; past it, only what refilled; everything else is reset unread.
    expect(results.slice(0, HELLO_RATE_LIMIT.capacity)).toEqual(Array(HELLO_RATE_LIMIT.capacity).fill('card'));
    expect(served).toBeLessThanOrEqual(HELLO_RATE_LIMIT.capacity + refilled);
    expect(results.filter((r) => r !== 'card').every((r) => r === RESET)).toBe(true);
    expect(results.filter((r) => r === RESET).length).toBeGreaterThanOrEqual(attempts - HELLO_RATE_LIMIT.capacity - refilled);
    // Another peer has its own budget, and the contact still chats after the flood.
    expect(await hello(await connectAttacker(nodes, victim), victim, getCard)).toBeInstanceOf(Uint8Array);
    await carolStillChats();
  });
});
