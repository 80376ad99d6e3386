/**
 * One authenticated WebSocket: turns request frames into `dispatchCommand` calls and results
 * into response frames, and carries event frames out. Everything a client sends is treated as
 * hostile: a bad frame gets a typed error (or, repeated, a closed socket), never an exception
 * that reaches the server.
 */
import type { RawData, WebSocket } from 'ws';
import { err, RequestFrame, type CoreApi, type Result } from '../../shared';
import { dispatchCommand, type InternalErrorReporter } from '../core/dispatch';
import { CLOSE_POLICY_VIOLATION } from './constants';
import { TokenBucket } from './token-bucket';

export interface ConnectionLimits {
  /** Token bucket: largest burst of frames, and frames per second after it. */
  readonly rateLimitBurst: number;
  readonly rateLimitPerSecond: number;
  /** Requests dispatched and not yet answered. */
  readonly maxInFlight: number;
  /** Malformed frames answered before the socket is closed with 1008. */
  readonly maxBadFrames: number;
  /** Bytes queued for the socket above which it is dropped instead of sent to. */
  readonly maxBufferedBytes: number;
}

export interface ConnectionOptions {
  readonly api: CoreApi;
  readonly limits: ConnectionLimits;
  readonly reportInternal: InternalErrorReporter;
  readonly now?: () => number;
}

export class ApiConnection {
  /** Cleared on each heartbeat ping, set again by the pong. */
  alive = true;
  readonly #ws: WebSocket;
  readonly #options: ConnectionOptions;
  readonly #bucket: TokenBucket;
  #inFlight = 0;
  #badFrames = 0;

  constructor(ws: WebSocket, options: ConnectionOptions) {
    this.#ws = ws;
    this.#options = options;
    const { rateLimitBurst, rateLimitPerSecond } = options.limits;
    this.#bucket = new TokenBucket(rateLimitBurst, rateLimitPerSecond, options.now);
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    // Protocol errors (oversize frame, invalid UTF-8) arrive here; ws closes the socket itself
    // with the matching code (1009, 1007). Without a listener they would crash the process.
    ws.on('error', () => {});
  }

  /**
   * Sends one serialised frame, unless the client has stopped reading: then the socket is
   * dropped (the UI reconnects and re-queries) rather than buffered without bound.
   */
  send(frame: string): void {
    const ws = this.#ws;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > this.#options.limits.maxBufferedBytes) {
      ws.terminate();
      return;
    }
    ws.send(frame);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.#badFrame(undefined);
    let json: unknown;
    try {
      json = JSON.parse(toText(data));
    } catch {
      return this.#badFrame(undefined);
    }
    const frame = RequestFrame.safeParse(json);
    if (!frame.success) return this.#badFrame(recoverId(json));
    const { id, command, args } = frame.data;
    if (!this.#bucket.tryTake() || this.#inFlight >= this.#options.limits.maxInFlight) {
      return this.#respond(id, err('RATE_LIMITED', 'too many requests at once; try again shortly'));
    }
    this.#inFlight += 1;
    void dispatchCommand(this.#options.api, command, args, this.#options.reportInternal).then((result) => {
      this.#inFlight -= 1;
      this.#respond(id, result);
    });
  }

  #badFrame(id: number | undefined): void {
    this.#badFrames += 1;
    if (this.#badFrames > this.#options.limits.maxBadFrames) {
      this.#ws.close(CLOSE_POLICY_VIOLATION, 'too many malformed frames');
      return;
    }
    if (id !== undefined) this.#respond(id, err('INVALID_ARGUMENT', 'malformed request frame'));
  }

  #respond(id: number, result: Result<unknown>): void {
    let frame: string;
    try {
      frame = JSON.stringify({ type: 'response', id, result });
    } catch (error) {
      // A value JSON cannot carry (a BigInt, a cycle) is a core bug: log it, answer INTERNAL.
      this.#options.reportInternal('response', error);
      frame = JSON.stringify({ type: 'response', id, result: err('INTERNAL', 'something went wrong; see the log') });
    }
    this.send(frame);
  }
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** The id of a frame that failed validation, if it has a usable one to answer to. */
function recoverId(json: unknown): number | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !Object.hasOwn(json, 'id')) return undefined;
  const id: unknown = (json as { id: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}
