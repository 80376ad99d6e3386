/**
 * `/parley/hello/1.0.0`: the protocol strangers may use. Two requests, one frame each way:
 *
 *   GET_CARD  (0x01)             → the responder's signed contact card
 *   INTRODUCE (0x02) ‖ envelope  → status byte (accepted / pending / rejected)
 *
 * The envelope of an introduction is a prekey envelope whose content introduces the sender
 * (its card, and an invite secret if it has one); the core decides what it leads to.
 */
import type { PeerId } from '@libp2p/interface';
import { InvalidFrameError } from '../../errors';
import { admitAnyone } from '../../gater';
import { RequestResponse, request, type ProtocolHost, type RequestContext } from '../../request-response';
import {
  HELLO_MAX_REQUEST_BYTES,
  HELLO_MAX_RESPONSE_BYTES,
  HELLO_PROTOCOL,
  HELLO_RATE_LIMIT,
  HELLO_TIMEOUT_MS,
  HELLO_TYPE,
  INTRODUCE_STATUS,
  type IntroduceStatus,
} from './constants';

export interface HelloHandlers {
  /** Our current signed card. */
  card(): Uint8Array;
  /** An introduction from `peerId` (Noise-authenticated); never throws for bad input: return 'rejected'. */
  introduce(peerId: string, envelope: Uint8Array): Promise<IntroduceStatus>;
}

const STATUS_BY_BYTE = new Map<number, IntroduceStatus>(
  Object.entries(INTRODUCE_STATUS).map(([name, byte]) => [byte, name as IntroduceStatus]),
);

export class Hello {
  readonly #service: RequestResponse;
  readonly #host: ProtocolHost;

  constructor(host: ProtocolHost, handlers: HelloHandlers) {
    this.#host = host;
    this.#service = new RequestResponse(
      { host },
      {
        protocol: HELLO_PROTOCOL,
        admit: admitAnyone,
        maxRequestBytes: HELLO_MAX_REQUEST_BYTES,
        maxResponseBytes: HELLO_MAX_RESPONSE_BYTES,
        timeoutMs: HELLO_TIMEOUT_MS,
        rateLimit: HELLO_RATE_LIMIT,
        runOnLimitedConnection: true,
        handler: async (frame: Uint8Array, context: RequestContext) => {
          const type = frame[0];
          if (type === HELLO_TYPE.getCard && frame.length === 1) return handlers.card();
          if (type === HELLO_TYPE.introduce && frame.length > 1) {
            const status = await handlers.introduce(context.peerId.toString(), frame.subarray(1));
            return Uint8Array.of(INTRODUCE_STATUS[status]);
          }
          throw new InvalidFrameError('Unknown hello request');
        },
      },
    );
  }

  async start(): Promise<void> {
    await this.#service.start();
  }

  async stop(): Promise<void> {
    await this.#service.stop();
  }

  async fetchCard(peer: PeerId, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#request(peer, Uint8Array.of(HELLO_TYPE.getCard), signal);
  }

  async introduce(peer: PeerId, envelope: Uint8Array, signal?: AbortSignal): Promise<IntroduceStatus> {
    const frame = new Uint8Array(envelope.length + 1);
    frame[0] = HELLO_TYPE.introduce;
    frame.set(envelope, 1);
    const response = await this.#request(peer, frame, signal);
    const status = response.length === 1 ? STATUS_BY_BYTE.get(response[0] as number) : undefined;
    if (!status) throw new InvalidFrameError('Bad introduce status');
    return status;
  }

  #request(peer: PeerId, frame: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return request(this.#host, peer, HELLO_PROTOCOL, frame, {
      signal,
      timeoutMs: HELLO_TIMEOUT_MS,
      maxRequestBytes: HELLO_MAX_REQUEST_BYTES,
      maxResponseBytes: HELLO_MAX_RESPONSE_BYTES,
      runOnLimitedConnection: true,
    });
  }
}
