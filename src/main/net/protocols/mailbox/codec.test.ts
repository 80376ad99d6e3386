import { beforeAll, describe, expect, it } from 'vitest';
import { initCrypto, randomBytes } from '../../../../crypto';
import {
  decodeRequest,
  decodeResponse,
  encodeChallengeRequest,
  encodeDeposit,
  encodeOwnerArgs,
  encodeOwnerRequest,
  encodeResponse,
  type MailboxAuth,
  type MailboxResponse,
} from './codec';
import { MAILBOX_ACK_MAX_IDS, MAILBOX_MAX_ENVELOPE_BYTES, MAILBOX_MAX_REQUEST_BYTES, MAILBOX_MAX_RESPONSE_BYTES } from './constants';

beforeAll(() => initCrypto());

const auth = (): MailboxAuth => ({ mailboxId: randomBytes(32), publicKey: randomBytes(32), challenge: randomBytes(32), signature: randomBytes(64) });

describe('mailbox codec', () => {
  it('round-trips every request', () => {
    const id = randomBytes(32);
    const envelope = randomBytes(MAILBOX_MAX_ENVELOPE_BYTES);
    const deposit = encodeDeposit(id, envelope);
    expect(deposit.length).toBe(MAILBOX_MAX_REQUEST_BYTES);
    expect(decodeRequest(deposit)).toEqual({ op: 'deposit', mailboxId: id, envelope });
    expect(decodeRequest(encodeChallengeRequest(id))).toEqual({ op: 'challenge', mailboxId: id });

    const a = auth();
    const listArgs = encodeOwnerArgs({ op: 'list', page: { after: 7, maxCount: 100 } });
    expect(decodeRequest(encodeOwnerRequest('list', a, listArgs))).toEqual({ op: 'list', auth: a, args: listArgs, page: { after: 7, maxCount: 100 } });
    const fetchArgs = encodeOwnerArgs({ op: 'fetch', page: { after: 2 ** 40, maxCount: 1, maxBytes: 65536 } });
    expect(decodeRequest(encodeOwnerRequest('fetch', a, fetchArgs))).toMatchObject({ op: 'fetch', page: { after: 2 ** 40, maxCount: 1, maxBytes: 65536 } });
    const ids = Array.from({ length: MAILBOX_ACK_MAX_IDS }, (_, i) => i + 1);
    expect(decodeRequest(encodeOwnerRequest('ack', a, encodeOwnerArgs({ op: 'ack', ids })))).toMatchObject({ op: 'ack', ids });
  });

  it('round-trips every response and keeps the largest page under the frame limit', () => {
    const next = randomBytes(32);
    const envelopes = Array.from({ length: 3 }, (_, i) => ({ id: i + 1, depositedAt: 1_700_000_000_000 + i, envelope: randomBytes(300) }));
    const responses: [MailboxResponse['op'], MailboxResponse][] = [
      ['deposit', { op: 'deposit', status: 'ok' }],
      ['deposit', { op: 'deposit', status: 'mailboxFull' }],
      ['challenge', { op: 'challenge', status: 'ok', challenge: next, ttlMs: 30_000 }],
      ['list', { op: 'list', status: 'ok', next, more: true, entries: [{ id: 3, depositedAt: 5, size: 256 }] }],
      ['fetch', { op: 'fetch', status: 'ok', next, more: false, envelopes }],
      ['ack', { op: 'ack', status: 'ok', next, deleted: 1024 }],
      ['ack', { op: 'ack', status: 'unauthorized' }],
    ];
    for (const [op, response] of responses) expect(decodeResponse(op, encodeResponse(response))).toEqual(response);
    // A full page: the relay's largest byte budget in the largest envelopes.
    const full = Array.from({ length: 16 }, (_, i) => ({ id: i + 1, depositedAt: i, envelope: new Uint8Array(65536).fill(i) }));
    const frame = encodeResponse({ op: 'fetch', status: 'ok', next, more: true, envelopes: full });
    expect(frame.length).toBeLessThanOrEqual(MAILBOX_MAX_RESPONSE_BYTES);
    const decoded = decodeResponse('fetch', frame);
    expect(decoded.status === 'ok' && decoded.op === 'fetch' ? decoded.envelopes.map((e) => e.envelope[0]) : []).toEqual(full.map((_, i) => i));
    expect(encodeResponse({ op: 'list', status: 'unauthorized' })).toEqual(Uint8Array.of(1, 6));
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['unknown version', Uint8Array.of(2, 2, ...new Uint8Array(32))],
    ['unknown op', Uint8Array.of(1, 9, ...new Uint8Array(32))],
    ['short mailbox id', Uint8Array.of(1, 2, ...new Uint8Array(31))],
    ['trailing byte after a challenge request', Uint8Array.of(1, 2, ...new Uint8Array(33))],
    ['deposit without envelope', Uint8Array.of(1, 1, ...new Uint8Array(32))],
    ['deposit above the protocol maximum', Uint8Array.of(1, 1, ...new Uint8Array(32 + MAILBOX_MAX_ENVELOPE_BYTES + 1))],
    ['list with a truncated page', Uint8Array.of(1, 3, ...new Uint8Array(160 + 9))],
    ['ack of zero ids', Uint8Array.of(1, 5, ...new Uint8Array(160 + 2))],
  ])('refuses a request frame: %s', (_, frame) => {
    expect(() => decodeRequest(frame)).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }));
  });

  it('refuses malformed responses', () => {
    expect(() => decodeResponse('deposit', Uint8Array.of(1, 0, 0))).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }));
    expect(() => decodeResponse('deposit', Uint8Array.of(1, 99))).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }));
    expect(() => decodeResponse('challenge', Uint8Array.of(1, 0, 1, 2))).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }));
    const tooMany = new Uint8Array(2 + 32 + 1 + 2);
    tooMany.set([1, 0]);
    tooMany.set([0xff, 0xff], 35);
    expect(() => decodeResponse('list', tooMany)).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }));
  });
});
