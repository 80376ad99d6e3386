/**
 * `/parley/msg/1.0.0`: a batch of sealed envelopes in, one status per envelope out.
 *
 *   request  = version (1) ‖ count (u16) ‖ count × (length (u32) ‖ envelope)
 *   response = version (1) ‖ count (u16) ‖ count × status (u8)
 *
 * A stream carries one exchange after another, lock-step (the next request only after the
 * previous response), until the sender ends it or it idles for MSG_RECEIVER_IDLE_MS; a
 * sender that ends the stream after one exchange is the special case. The sender keeps one
 * stream per contact (KeepAliveRequester), which saves a stream negotiation per batch.
 *
 * Only contacts are admitted. The receiver answers after its store transaction committed, so
 * a "stored" status means the message survives a crash of the receiver (ARCHITECTURE.md §6).
 * Envelopes of one batch are processed in order, which keeps each sender's order.
 */
import type { PeerId } from '@libp2p/interface';
import { InvalidFrameError } from '../../errors';
import { admitContacts } from '../../gater';
import { KeepAliveRequester } from '../../keep-alive';
import { RequestResponse, type ProtocolHost, type RequestContext } from '../../request-response';
import {
  DELIVERY_STATUS,
  MSG_MAX_BATCH,
  MSG_MAX_ENVELOPE_BYTES,
  MSG_MAX_REQUEST_BYTES,
  MSG_MAX_RESPONSE_BYTES,
  MSG_PROTOCOL,
  MSG_RATE_LIMIT,
  MSG_RECEIVER_IDLE_MS,
  MSG_SENDER_IDLE_MS,
  MSG_TIMEOUT_MS,
  MSG_WIRE_VERSION,
  type DeliveryStatus,
} from './constants';

export interface MsgHandlers {
  isContact(peerId: string): boolean;
  /** Processes a batch in order and resolves after commit, one status per envelope. */
  deliver(peerId: string, envelopes: Uint8Array[], context: RequestContext): Promise<DeliveryStatus[]>;
}

const STATUS_BY_BYTE = new Map<number, DeliveryStatus>(
  Object.entries(DELIVERY_STATUS).map(([name, byte]) => [byte, name as DeliveryStatus]),
);

export function encodeBatch(envelopes: readonly Uint8Array[]): Uint8Array {
  if (envelopes.length === 0 || envelopes.length > MSG_MAX_BATCH) throw new RangeError('batch size');
  let size = 3;
  for (const e of envelopes) {
    if (e.length > MSG_MAX_ENVELOPE_BYTES) throw new RangeError('envelope too large');
    size += 4 + e.length;
  }
  if (size > MSG_MAX_REQUEST_BYTES) throw new RangeError('batch too large');
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = MSG_WIRE_VERSION;
  view.setUint16(1, envelopes.length);
  let offset = 3;
  for (const e of envelopes) {
    view.setUint32(offset, e.length);
    out.set(e, offset + 4);
    offset += 4 + e.length;
  }
  return out;
}

export function decodeBatch(frame: Uint8Array): Uint8Array[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 3 || frame[0] !== MSG_WIRE_VERSION) throw new InvalidFrameError('Bad msg batch header');
  const count = view.getUint16(1);
  if (count === 0 || count > MSG_MAX_BATCH) throw new InvalidFrameError('Bad msg batch size');
  const envelopes: Uint8Array[] = [];
  let offset = 3;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > frame.length) throw new InvalidFrameError('Truncated msg batch');
    const length = view.getUint32(offset);
    if (length === 0 || length > MSG_MAX_ENVELOPE_BYTES || offset + 4 + length > frame.length) {
      throw new InvalidFrameError('Bad envelope length');
    }
    envelopes.push(frame.slice(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (offset !== frame.length) throw new InvalidFrameError('Trailing bytes in msg batch');
  return envelopes;
}

function encodeStatuses(statuses: readonly DeliveryStatus[]): Uint8Array {
  const out = new Uint8Array(3 + statuses.length);
  out[0] = MSG_WIRE_VERSION;
  new DataView(out.buffer).setUint16(1, statuses.length);
  statuses.forEach((s, i) => (out[3 + i] = DELIVERY_STATUS[s]));
  return out;
}

function decodeStatuses(frame: Uint8Array, expected: number): DeliveryStatus[] {
  if (frame.length !== 3 + expected || frame[0] !== MSG_WIRE_VERSION) throw new InvalidFrameError('Bad msg response');
  if (new DataView(frame.buffer, frame.byteOffset).getUint16(1) !== expected) throw new InvalidFrameError('Bad msg response count');
  return Array.from(frame.subarray(3), (byte) => {
    const status = STATUS_BY_BYTE.get(byte);
    if (!status) throw new InvalidFrameError('Bad delivery status');
    return status;
  });
}

export class Msg {
  readonly #service: RequestResponse;
  readonly #requester: KeepAliveRequester;

  constructor(host: ProtocolHost, handlers: MsgHandlers) {
    this.#requester = new KeepAliveRequester(host, {
      protocol: MSG_PROTOCOL,
      maxRequestBytes: MSG_MAX_REQUEST_BYTES,
      maxResponseBytes: MSG_MAX_RESPONSE_BYTES,
      timeoutMs: MSG_TIMEOUT_MS,
      idleTimeoutMs: MSG_SENDER_IDLE_MS,
      runOnLimitedConnection: true,
    });
    this.#service = new RequestResponse(
      { host },
      {
        protocol: MSG_PROTOCOL,
        admit: admitContacts((peerId) => handlers.isContact(peerId.toString())),
        maxRequestBytes: MSG_MAX_REQUEST_BYTES,
        maxResponseBytes: MSG_MAX_RESPONSE_BYTES,
        timeoutMs: MSG_TIMEOUT_MS,
        rateLimit: MSG_RATE_LIMIT,
        runOnLimitedConnection: true,
        keepAlive: { idleTimeoutMs: MSG_RECEIVER_IDLE_MS },
        handler: async (frame, context) => {
          const envelopes = decodeBatch(frame);
          const statuses = await handlers.deliver(context.peerId.toString(), envelopes, context);
          if (statuses.length !== envelopes.length) throw new Error('handler returned the wrong number of statuses');
          return encodeStatuses(statuses);
        },
      },
    );
  }

  async start(): Promise<void> {
    this.#requester.start();
    await this.#service.start();
  }

  async stop(): Promise<void> {
    this.#requester.stop();
    await this.#service.stop();
  }

  /** Sends a batch; resolves with the receiver's status per envelope (after its commit). */
  async send(peer: PeerId, envelopes: readonly Uint8Array[], signal?: AbortSignal): Promise<DeliveryStatus[]> {
    const response = await this.#requester.request(peer, encodeBatch(envelopes), signal ? { signal } : {});
    return decodeStatuses(response, envelopes.length);
  }
}
