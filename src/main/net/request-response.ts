/**
 * One request frame, one response frame, over one stream: the shape of every Parley protocol
 * (hello, msg, …). Each protocol folder (`protocols/<name>/{index,<name>,constants}.ts`,
 * shaped like `@libp2p/ping`) wraps a `RequestResponse` with its own codec, limits and
 * admission policy.
 *
 * Wire: the requester writes one frame and closes its writable end; the responder reads it
 * and the end of the stream, runs the handler, writes one frame and closes. Anything else —
 * oversize, garbage, truncated, slow, extra bytes — resets the stream.
 *
 * Inbound, in order: the per-peer token bucket (cheap, before any I/O), the protocol's
 * `admit` policy, then the frame under its size limit and read timeout, all under one
 * exchange deadline. A rate-limited or unadmitted peer is reset before a byte is read. A
 * framing violation costs the peer extra tokens, so hostile peers lock themselves out.
 * Handler errors reset the stream and are counted; they never reach libp2p or crash the node.
 */
import { setMaxListeners } from 'node:events';
import { AbortError, StreamResetError } from '@libp2p/interface';
import type { AbortOptions, Connection, DialTarget, Libp2p, Logger, PeerId, Startable, Stream } from '@libp2p/interface';
import {
  DEFAULT_EXCHANGE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_INBOUND_STREAMS,
  DEFAULT_MAX_OUTBOUND_STREAMS,
  DEFAULT_RATE_LIMIT,
  DEFAULT_READ_TIMEOUT_MS,
  DEFAULT_VIOLATION_COST,
} from './constants';
import {
  FrameTimeoutError,
  FrameTooLargeError,
  InvalidFrameError,
  PEER_VIOLATION_ERRORS,
  PeerNotAdmittedError,
  RateLimitedError,
  TruncatedFrameError,
  toError,
} from './errors';
import { FrameReader, writeFrame } from './framing';
import type { Admit } from './gater';
import { RateLimiter, type RateLimitInit } from './rate-limit';

export interface RequestContext {
  /** The Noise-authenticated remote peer. */
  peerId: PeerId;
  connection: Connection;
  /** Aborts at the exchange deadline or when the service stops; pass it to every async call. */
  signal: AbortSignal;
}

/** Turns a request frame into a response frame; throwing resets the stream. */
export type RequestHandler = (request: Uint8Array, context: RequestContext) => Uint8Array | Promise<Uint8Array>;

export interface RequestResponseInit {
  /** Full protocol id, e.g. `protocolId('hello', '1.0.0')`. */
  protocol: string;
  /** Who may use the protocol; required so no protocol is open to strangers by accident. */
  admit: Admit;
  handler: RequestHandler;
  /** Largest request accepted (default DEFAULT_MAX_FRAME_BYTES). */
  maxRequestBytes?: number;
  /** Largest response sent or accepted (default DEFAULT_MAX_FRAME_BYTES). */
  maxResponseBytes?: number;
  /** Time for one frame to arrive (default DEFAULT_READ_TIMEOUT_MS). */
  readTimeoutMs?: number;
  /** Deadline for a whole exchange on either side (default DEFAULT_EXCHANGE_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Concurrent inbound streams per connection (default DEFAULT_MAX_INBOUND_STREAMS). */
  maxInboundStreams?: number;
  /** Concurrent outbound streams per connection (default DEFAULT_MAX_OUTBOUND_STREAMS). */
  maxOutboundStreams?: number;
  /** Serve and request over relayed (data- and time-limited) connections too (default false). */
  runOnLimitedConnection?: boolean;
  /** Per-peer budget of inbound streams (default DEFAULT_RATE_LIMIT); false for none. */
  rateLimit?: Omit<RateLimitInit, 'now'> | false;
  /** Extra tokens a framing violation costs (default DEFAULT_VIOLATION_COST). */
  violationCost?: number;
  /** Told of every framing violation, e.g. to disconnect or block a hostile peer. */
  onViolation?: (peerId: PeerId, error: Error) => void;
  /** Milliseconds clock for the rate limiter (tests). */
  now?: () => number;
  /**
   * Serve successive exchanges on one stream (see KeepAliveRequester): after each response
   * the responder waits up to `idleTimeoutMs` for the next request frame, and closes the
   * stream when none comes or the requester ends it. Each further exchange passes the rate
   * limiter and `admit` again. Off by default: one exchange per stream.
   */
  keepAlive?: { idleTimeoutMs: number };
}

/**
 * What the responder has done since start: each inbound stream ends in exactly one of
 * rateLimited, refused, violations, failed or (served exchanges, then a clean end); with
 * keepAlive one stream may count several served exchanges.
 */
export interface RequestResponseStats {
  /** Exchanges answered. */
  served: number;
  /** Inbound streams accepted by the handler (before any check). */
  streams: number;
  /** Reset by the rate limiter before reading. */
  rateLimited: number;
  /** Reset by the admission policy before reading. */
  refused: number;
  /** Reset for breaking the framing rules (oversize, garbage, truncated, too slow, extra bytes). */
  violations: number;
  /** Reset for anything else: handler error, remote reset, shutdown, deadline. */
  failed: number;
}

/** The part of a libp2p node the helper uses. */
export type ProtocolHost = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'logger'>;

export interface RequestResponseComponents {
  host: ProtocolHost;
}

export interface RequestOptions extends AbortOptions {
  maxRequestBytes?: number;
  maxResponseBytes?: number;
  readTimeoutMs?: number;
  /** Deadline for the whole exchange, dial included (default DEFAULT_EXCHANGE_TIMEOUT_MS). */
  timeoutMs?: number;
  runOnLimitedConnection?: boolean;
}

export class RequestResponse implements Startable {
  readonly protocol: string;
  readonly stats: RequestResponseStats = { served: 0, streams: 0, rateLimited: 0, refused: 0, violations: 0, failed: 0 };
  readonly #host: ProtocolHost;
  readonly #init: RequestResponseInit;
  readonly #limiter: RateLimiter | undefined;
  readonly #log: Logger;
  #shutdown = new AbortController();
  #started = false;

  constructor(components: RequestResponseComponents, init: RequestResponseInit) {
    this.#host = components.host;
    this.#init = init;
    this.protocol = init.protocol;
    this.#log = components.host.logger.forComponent('parley:net:request-response');
    this.#limiter =
      init.rateLimit === false ? undefined : new RateLimiter({ ...(init.rateLimit ?? DEFAULT_RATE_LIMIT), now: init.now });
    this.onStream = this.onStream.bind(this);
  }

  readonly [Symbol.toStringTag] = '@parley/request-response';

  isStarted(): boolean {
    return this.#started;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#shutdown = new AbortController();
    // Every in-flight exchange listens on this one signal.
    setMaxListeners(Infinity, this.#shutdown.signal);
    await this.#host.handle(this.protocol, this.onStream, {
      maxInboundStreams: this.#init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS,
      maxOutboundStreams: this.#init.maxOutboundStreams ?? DEFAULT_MAX_OUTBOUND_STREAMS,
      runOnLimitedConnection: this.#init.runOnLimitedConnection ?? false,
    });
    this.#started = true;
  }

  /** Stops serving and resets every exchange still in flight. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#host.unhandle(this.protocol);
    this.#shutdown.abort(new AbortError('Protocol stopped'));
    this.#limiter?.clear();
  }

  /** Sends one request to `peer` and returns its response (defaults from this protocol's init). */
  async request(peer: DialTarget, frame: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    return request(this.#host, peer, this.protocol, frame, {
      maxRequestBytes: this.#init.maxRequestBytes,
      maxResponseBytes: this.#init.maxResponseBytes,
      readTimeoutMs: this.#init.readTimeoutMs,
      timeoutMs: this.#init.timeoutMs,
      runOnLimitedConnection: this.#init.runOnLimitedConnection,
      ...definedOnly(options),
    });
  }

  /** The libp2p stream handler; never throws. */
  async onStream(stream: Stream, connection: Connection): Promise<void> {
    const peerId = connection.remotePeer;
    const key = peerId.toString();
    const init = this.#init;
    this.stats.streams++;
    let signal = this.#exchangeSignal();
    let failure: Error | undefined;
    try {
      if (!this.#pass(key)) {
        failure = new RateLimitedError();
        return;
      }
      if (!(await this.#admitted(peerId, connection, signal))) {
        failure = new PeerNotAdmittedError();
        return;
      }
      const reader = new FrameReader(stream, {
        maxFrameBytes: init.maxRequestBytes ?? DEFAULT_MAX_FRAME_BYTES,
        readTimeoutMs: init.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
      });
      let requestFrame = await reader.read({ signal });
      if (requestFrame === null) throw new TruncatedFrameError('Stream ended before the request');
      if (init.keepAlive === undefined) await reader.expectEnd({ signal });
      for (;;) {
        // Lock-step: a requester may send its next frame only after reading this response, so
        // bytes that arrive before we answer (checked before and after handling) are a violation.
        rejectEarlyBytes(reader, stream);
        // Raced, so a handler that ignores its signal still cannot hold the stream past the deadline.
        const response = await raceSignal(Promise.resolve(init.handler(requestFrame, { peerId, connection, signal })), signal);
        rejectEarlyBytes(reader, stream);
        await writeFrame(stream, response, { maxFrameBytes: init.maxResponseBytes ?? DEFAULT_MAX_FRAME_BYTES, signal });
        this.stats.served++;
        if (init.keepAlive === undefined) break;
        const next = await this.#nextRequest(reader, init.keepAlive.idleTimeoutMs);
        if (next === null) break;
        signal = this.#exchangeSignal();
        if (!this.#pass(key)) throw new RateLimitedError();
        if (!(await this.#admitted(peerId, connection, signal))) throw new PeerNotAdmittedError();
        requestFrame = next;
      }
      await stream.close({ signal });
    } catch (err) {
      failure = toError(err);
      this.#recordFailure(peerId, key, failure);
    } finally {
      await finish(stream, failure, signal);
    }
  }

  /** One exchange's deadline, also cut short when the service stops. */
  #exchangeSignal(): AbortSignal {
    return AbortSignal.any([this.#shutdown.signal, AbortSignal.timeout(this.#init.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS)]);
  }

  /** Takes a token from the peer's bucket; counts the refusal when there is none. */
  #pass(key: string): boolean {
    if (this.#limiter === undefined || this.#limiter.tryRemove(key)) return true;
    this.stats.rateLimited++;
    return false;
  }

  async #admitted(peerId: PeerId, connection: Connection, signal: AbortSignal): Promise<boolean> {
    if (await raceSignal(Promise.resolve(this.#init.admit(peerId, connection)), signal)) return true;
    this.stats.refused++;
    return false;
  }

  /**
   * The next request on a keep-alive stream, or null when the requester ended the stream or
   * stayed idle (both clean). Silence mid-frame is still a violation.
   */
  async #nextRequest(reader: FrameReader, idleTimeoutMs: number): Promise<Uint8Array | null> {
    try {
      return await reader.read({ signal: this.#shutdown.signal, readTimeoutMs: idleTimeoutMs });
    } catch (err) {
      if (err instanceof FrameTimeoutError && !reader.inFrame) return null;
      throw err;
    }
  }

  #recordFailure(peerId: PeerId, key: string, failure: Error): void {
    if (!PEER_VIOLATION_ERRORS.has(failure.name)) {
      this.stats.failed++;
      this.#log('%s exchange failed: %s', this.protocol, failure.name);
      return;
    }
    this.stats.violations++;
    this.#limiter?.penalize(key, this.#init.violationCost ?? DEFAULT_VIOLATION_COST);
    this.#log('%s framing violation: %s', this.protocol, failure.name);
    try {
      this.#init.onViolation?.(peerId, failure);
    } catch (err) {
      this.#log.error('%s onViolation hook threw: %s', this.protocol, toError(err).name);
    }
  }
}

/**
 * Opens a stream to `peer` for `protocol`, sends `frame`, returns the response frame. Throws
 * FrameTooLargeError before dialing for an oversize request; the responder's reset surfaces
 * as StreamResetError. The stream is closed or aborted before this returns.
 */
export async function request(
  host: Pick<Libp2p, 'dialProtocol'>,
  peer: DialTarget,
  protocol: string,
  frame: Uint8Array,
  options: RequestOptions = {},
): Promise<Uint8Array> {
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (frame.byteLength > maxRequestBytes) throw new FrameTooLargeError();
  const deadline = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
  const stream = await host.dialProtocol(peer, protocol, {
    signal,
    runOnLimitedConnection: options.runOnLimitedConnection ?? false,
  });
  let failure: Error | undefined;
  try {
    await writeFrame(stream, frame, { maxFrameBytes: maxRequestBytes, signal });
    await stream.close({ signal });
    const reader = new FrameReader(stream, {
      maxFrameBytes: options.maxResponseBytes ?? DEFAULT_MAX_FRAME_BYTES,
      readTimeoutMs: options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
    });
    const response = await reader.read({ signal });
    if (response === null) throw new TruncatedFrameError('Stream ended before the response');
    await reader.expectEnd({ signal });
    return response;
  } catch (err) {
    // A responder that refuses (rate limit, admission) resets at once, often before our frame
    // is out: report that reset, not the StreamStateError of writing to a closed stream.
    failure = stream.status === 'reset' ? new StreamResetError('The responder reset the stream') : toError(err);
    throw failure;
  } finally {
    await finish(stream, failure, signal);
  }
}

/** Bytes of a next request before this one is answered sit in our decoder or, once the reader paused the stream, in libp2p's buffer. */
function rejectEarlyBytes(reader: FrameReader, stream: Stream): void {
  if (reader.bufferedBytes > 0 || stream.readBufferLength > 0) throw new InvalidFrameError('Request sent before the previous response');
}

/** Every stream ends here: aborted (reset) after a failure, else closed for writing. */
async function finish(stream: Stream, failure: Error | undefined, signal: AbortSignal): Promise<void> {
  if (failure !== undefined) {
    stream.abort(failure);
    return;
  }
  if (stream.writeStatus !== 'writable') return;
  try {
    await stream.close({ signal });
  } catch (err) {
    stream.abort(toError(err));
  }
}

/** Settles like `promise`, or rejects with the signal's reason once it aborts. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(toError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(toError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
