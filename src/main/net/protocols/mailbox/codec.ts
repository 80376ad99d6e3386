/**
 * Wire format of `/parley/mailbox/1.0.0`: one request frame, one response frame per stream
 * (request-response.ts). All integers big-endian; u64 values stay below 2^53.
 *
 *   request  = version (1) ‖ op (1) ‖ body
 *     DEPOSIT   (1)  mailbox id (32) ‖ envelope (1..65536, the rest of the frame)
 *     CHALLENGE (2)  mailbox id (32)
 *     LIST      (3)  auth ‖ after id (u64) ‖ max count (u16)
 *     FETCH     (4)  auth ‖ after id (u64) ‖ max count (u16) ‖ max bytes (u32)
 *     ACK       (5)  auth ‖ count (u16) ‖ count × id (u64)
 *   auth     = mailbox id (32) ‖ public key (32) ‖ challenge (32) ‖ signature (64)
 *              signature = Ed25519 over ctx("parley/mailbox/auth/v1", challenge ‖ op ‖ mailbox id ‖ args)
 *              where args are the bytes after auth (keys.ts)
 *
 *   response = version (1) ‖ status (1) ‖ body (empty unless status is ok)
 *     DEPOSIT    —
 *     CHALLENGE  challenge (32) ‖ lifetime ms (u32)
 *     LIST       next challenge (32) ‖ more (u8) ‖ count (u16) ‖ count × (id (u64) ‖ deposited at ms (u64) ‖ size (u32))
 *     FETCH      next challenge (32) ‖ more (u8) ‖ count (u16) ‖ count × (id (u64) ‖ deposited at ms (u64) ‖ length (u32) ‖ envelope)
 *     ACK        next challenge (32) ‖ deleted (u16)
 *
 * Every owner response carries a fresh challenge for the same peer and mailbox, so paging
 * through a mailbox costs one round trip per page, not two. Parsing is exact: short frames,
 * trailing bytes, unknown ops and out-of-range values are all InvalidFrameError.
 */
import { ByteReader, ByteWriter, isCryptoError } from '../../../../crypto';
import { InvalidFrameError } from '../../errors';
import {
  MAILBOX_ACK_MAX_IDS,
  MAILBOX_CHALLENGE_BYTES,
  MAILBOX_ID_BYTES,
  MAILBOX_MAX_ENVELOPE_BYTES,
  MAILBOX_OP,
  MAILBOX_PAGE_ENVELOPES,
  MAILBOX_PUBLIC_KEY_BYTES,
  MAILBOX_SIGNATURE_BYTES,
  MAILBOX_STATUS,
  MAILBOX_WIRE_VERSION,
  type MailboxOp,
  type MailboxStatus,
} from './constants';

export interface MailboxAuth {
  mailboxId: Uint8Array;
  publicKey: Uint8Array;
  challenge: Uint8Array;
  signature: Uint8Array;
}

export interface PageArgs {
  /** Entries with an id above this one (0 from the start). */
  after: number;
  maxCount: number;
}

export type MailboxRequest =
  | { op: 'deposit'; mailboxId: Uint8Array; envelope: Uint8Array }
  | { op: 'challenge'; mailboxId: Uint8Array }
  | { op: 'list'; auth: MailboxAuth; args: Uint8Array; page: PageArgs }
  | { op: 'fetch'; auth: MailboxAuth; args: Uint8Array; page: PageArgs & { maxBytes: number } }
  | { op: 'ack'; auth: MailboxAuth; args: Uint8Array; ids: number[] };

export type OwnerRequest = Extract<MailboxRequest, { auth: MailboxAuth }>;

/** An envelope's metadata as LIST shows it. */
export interface MailboxEntryInfo {
  id: number;
  /** The relay's clock when it was deposited (ms since the epoch). */
  depositedAt: number;
  size: number;
}

/** A stored envelope as FETCH returns it. */
export interface MailboxEnvelope {
  id: number;
  depositedAt: number;
  envelope: Uint8Array;
}

export type MailboxResponse =
  | { op: 'deposit'; status: 'ok' }
  | { op: 'challenge'; status: 'ok'; challenge: Uint8Array; ttlMs: number }
  | { op: 'list'; status: 'ok'; next: Uint8Array; more: boolean; entries: MailboxEntryInfo[] }
  | { op: 'fetch'; status: 'ok'; next: Uint8Array; more: boolean; envelopes: MailboxEnvelope[] }
  | { op: 'ack'; status: 'ok'; next: Uint8Array; deleted: number }
  | { op: MailboxOp; status: Exclude<MailboxStatus, 'ok'> };

const OP_BY_BYTE = new Map<number, MailboxOp>(Object.entries(MAILBOX_OP).map(([name, byte]) => [byte, name as MailboxOp]));
const STATUS_BY_BYTE = new Map<number, MailboxStatus>(
  Object.entries(MAILBOX_STATUS).map(([name, byte]) => [byte, name as MailboxStatus]),
);

// ── requests ────────────────────────────────────────────────────────────────────────────────

function header(op: MailboxOp, capacity: number): ByteWriter {
  return new ByteWriter(capacity).u8(MAILBOX_WIRE_VERSION).u8(MAILBOX_OP[op]);
}

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length) throw new RangeError(`${what} length`);
}

export function encodeDeposit(mailboxId: Uint8Array, envelope: Uint8Array): Uint8Array {
  checkLength(mailboxId, MAILBOX_ID_BYTES, 'mailbox id');
  if (envelope.length === 0) throw new RangeError('empty envelope');
  return header('deposit', 2 + MAILBOX_ID_BYTES + envelope.length).raw(mailboxId).raw(envelope).finish();
}

export function encodeChallengeRequest(mailboxId: Uint8Array): Uint8Array {
  checkLength(mailboxId, MAILBOX_ID_BYTES, 'mailbox id');
  return header('challenge', 2 + MAILBOX_ID_BYTES).raw(mailboxId).finish();
}

/** The argument bytes of an owner operation (what follows auth, and what is signed). */
export function encodeOwnerArgs(
  request: { op: 'list'; page: PageArgs } | { op: 'fetch'; page: PageArgs & { maxBytes: number } } | { op: 'ack'; ids: readonly number[] },
): Uint8Array {
  switch (request.op) {
    case 'list':
      return new ByteWriter(10).u64(request.page.after).u16(request.page.maxCount).finish();
    case 'fetch':
      return new ByteWriter(14).u64(request.page.after).u16(request.page.maxCount).u32(request.page.maxBytes).finish();
    case 'ack': {
      if (request.ids.length === 0 || request.ids.length > MAILBOX_ACK_MAX_IDS) throw new RangeError('ack id count');
      const w = new ByteWriter(2 + 8 * request.ids.length).u16(request.ids.length);
      for (const id of request.ids) w.u64(id);
      return w.finish();
    }
    default:
      return unreachable(request);
  }
}

export function encodeOwnerRequest(op: 'list' | 'fetch' | 'ack', auth: MailboxAuth, args: Uint8Array): Uint8Array {
  checkLength(auth.mailboxId, MAILBOX_ID_BYTES, 'mailbox id');
  checkLength(auth.publicKey, MAILBOX_PUBLIC_KEY_BYTES, 'public key');
  checkLength(auth.challenge, MAILBOX_CHALLENGE_BYTES, 'challenge');
  checkLength(auth.signature, MAILBOX_SIGNATURE_BYTES, 'signature');
  return header(op, 2 + 160 + args.length)
    .raw(auth.mailboxId)
    .raw(auth.publicKey)
    .raw(auth.challenge)
    .raw(auth.signature)
    .raw(args)
    .finish();
}

export function decodeRequest(frame: Uint8Array): MailboxRequest {
  return parse(frame, (r) => {
    if (r.u8() !== MAILBOX_WIRE_VERSION) throw new InvalidFrameError('Unsupported mailbox version');
    const op = OP_BY_BYTE.get(r.u8());
    switch (op) {
      case 'deposit': {
        const mailboxId = r.raw(MAILBOX_ID_BYTES);
        // Bounded by the protocol's frame limit already; checked again so the codec stands alone.
        if (r.remaining === 0 || r.remaining > MAILBOX_MAX_ENVELOPE_BYTES) throw new InvalidFrameError('Bad envelope length');
        return { op, mailboxId, envelope: r.rest() };
      }
      case 'challenge': {
        const mailboxId = r.raw(MAILBOX_ID_BYTES);
        r.end();
        return { op, mailboxId };
      }
      case 'list':
      case 'fetch':
      case 'ack':
        return decodeOwner(op, r);
      case undefined:
        throw new InvalidFrameError('Unknown mailbox operation');
      default:
        return unreachable(op);
    }
  });
}

function decodeOwner(op: 'list' | 'fetch' | 'ack', r: ByteReader): OwnerRequest {
  const auth: MailboxAuth = {
    mailboxId: r.raw(MAILBOX_ID_BYTES),
    publicKey: r.raw(MAILBOX_PUBLIC_KEY_BYTES),
    challenge: r.raw(MAILBOX_CHALLENGE_BYTES),
    signature: r.raw(MAILBOX_SIGNATURE_BYTES),
  };
  const args = r.rest();
  const a = new ByteReader(args);
  switch (op) {
    case 'list': {
      const page = { after: a.u64(), maxCount: a.u16() };
      a.end();
      return { op, auth, args, page };
    }
    case 'fetch': {
      const page = { after: a.u64(), maxCount: a.u16(), maxBytes: a.u32() };
      a.end();
      return { op, auth, args, page };
    }
    case 'ack': {
      const count = a.u16();
      if (count === 0 || count > MAILBOX_ACK_MAX_IDS) throw new InvalidFrameError('Bad ack count');
      const ids = Array.from({ length: count }, () => a.u64());
      a.end();
      return { op, auth, args, ids };
    }
    default:
      return unreachable(op);
  }
}

// ── responses ───────────────────────────────────────────────────────────────────────────────

export function encodeResponse(response: MailboxResponse): Uint8Array {
  const w = new ByteWriter(64).u8(MAILBOX_WIRE_VERSION).u8(MAILBOX_STATUS[response.status]);
  if (response.status !== 'ok') return w.finish();
  switch (response.op) {
    case 'deposit':
      return w.finish();
    case 'challenge':
      return w.raw(response.challenge).u32(response.ttlMs).finish();
    case 'list':
      w.raw(response.next).u8(response.more ? 1 : 0).u16(response.entries.length);
      for (const e of response.entries) w.u64(e.id).u64(e.depositedAt).u32(e.size);
      return w.finish();
    case 'fetch':
      w.raw(response.next).u8(response.more ? 1 : 0).u16(response.envelopes.length);
      for (const e of response.envelopes) w.u64(e.id).u64(e.depositedAt).bytes(e.envelope);
      return w.finish();
    case 'ack':
      return w.raw(response.next).u16(response.deleted).finish();
    default:
      return unreachable(response);
  }
}

/** Decodes the answer to a request of `op`; a refusal comes back as its status. */
export function decodeResponse(op: MailboxOp, frame: Uint8Array): MailboxResponse {
  return parse(frame, (r) => {
    if (r.u8() !== MAILBOX_WIRE_VERSION) throw new InvalidFrameError('Unsupported mailbox version');
    const status = STATUS_BY_BYTE.get(r.u8());
    if (status === undefined) throw new InvalidFrameError('Unknown mailbox status');
    if (status !== 'ok') {
      r.end();
      return { op, status };
    }
    let response: MailboxResponse;
    switch (op) {
      case 'deposit':
        response = { op, status };
        break;
      case 'challenge':
        response = { op, status, challenge: r.raw(MAILBOX_CHALLENGE_BYTES), ttlMs: r.u32() };
        break;
      case 'list': {
        const next = r.raw(MAILBOX_CHALLENGE_BYTES);
        const more = flag(r.u8());
        const entries = Array.from({ length: pageCount(r) }, () => ({ id: r.u64(), depositedAt: r.u64(), size: r.u32() }));
        response = { op, status, next, more, entries };
        break;
      }
      case 'fetch': {
        const next = r.raw(MAILBOX_CHALLENGE_BYTES);
        const more = flag(r.u8());
        const envelopes = Array.from({ length: pageCount(r) }, () => ({
          id: r.u64(),
          depositedAt: r.u64(),
          envelope: r.bytes(MAILBOX_MAX_ENVELOPE_BYTES),
        }));
        response = { op, status, next, more, envelopes };
        break;
      }
      case 'ack':
        response = { op, status, next: r.raw(MAILBOX_CHALLENGE_BYTES), deleted: r.u16() };
        break;
      default:
        return unreachable(op);
    }
    r.end();
    return response;
  });
}

function pageCount(r: ByteReader): number {
  const count = r.u16();
  if (count > MAILBOX_PAGE_ENVELOPES) throw new InvalidFrameError('Mailbox page too long');
  return count;
}

function flag(byte: number): boolean {
  if (byte > 1) throw new InvalidFrameError('Bad flag');
  return byte === 1;
}

/** Runs a parser; truncation or trailing bytes (CryptoError MALFORMED from ByteReader) become InvalidFrameError. */
function parse<T>(frame: Uint8Array, fn: (r: ByteReader) => T): T {
  try {
    return fn(new ByteReader(frame));
  } catch (err) {
    if (isCryptoError(err, 'MALFORMED')) throw new InvalidFrameError('Malformed mailbox frame');
    throw err;
  }
}

function unreachable(value: never): never {
  throw new InvalidFrameError(`Unhandled mailbox case ${String(value)}`);
}
