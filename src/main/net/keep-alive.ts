/**
 * The requesting side of a keep-alive protocol (RequestResponseInit.keepAlive): one stream
 * per peer, reused for successive lock-step exchanges — write a request frame, read its
 * response frame, and only then the next request. Saves opening and negotiating a stream per
 * exchange, which on loopback is most of a message's latency (docs/perf, proposal 4).
 *
 * Exchanges to one peer run one at a time, in call order. A stream idle for `idleTimeoutMs`
 * is closed, so a quiet contact holds nothing open. A stream may die between exchanges (the
 * responder's idle close, a lost connection): a failure on a reused stream is retried once
 * on a fresh one. That can repeat a request the responder already processed, so only
 * idempotent protocols may use this (msg: the receiver deduplicates by message id).
 */
import { StreamResetError } from '@libp2p/interface';
import type { AbortOptions, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { DEFAULT_EXCHANGE_TIMEOUT_MS, DEFAULT_MAX_FRAME_BYTES, DEFAULT_READ_TIMEOUT_MS } from './constants';
import { FrameTooLargeError, TruncatedFrameError, toError } from './errors';
import { FrameReader, writeFrame } from './framing';

export interface KeepAliveInit {
  protocol: string;
  maxRequestBytes?: number;
  maxResponseBytes?: number;
  /** Time for the response frame to arrive once it has started (default DEFAULT_READ_TIMEOUT_MS). */
  readTimeoutMs?: number;
  /** Deadline for one exchange, dial included (default DEFAULT_EXCHANGE_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Close a stream after this long without an exchange; keep it below the responder's. */
  idleTimeoutMs: number;
  runOnLimitedConnection?: boolean;
}

interface Channel {
  readonly stream: Stream;
  readonly reader: FrameReader;
  idleTimer?: ReturnType<typeof setTimeout>;
}

export class KeepAliveRequester {
  readonly #host: Pick<Libp2p, 'dialProtocol'>;
  readonly #init: KeepAliveInit;
  readonly #channels = new Map<string, Channel>();
  /** The last exchange queued per peer: the next one starts after it settles. */
  readonly #tails = new Map<string, Promise<unknown>>();
  #stopped = false;

  constructor(host: Pick<Libp2p, 'dialProtocol'>, init: KeepAliveInit) {
    this.#host = host;
    this.#init = init;
  }

  /** Open streams (for tests and diagnostics). */
  get openStreams(): number {
    return this.#channels.size;
  }

  /** Sends one request to `peer` and returns its response frame. */
  request(peer: PeerId, frame: Uint8Array, options: AbortOptions = {}): Promise<Uint8Array> {
    if (frame.byteLength > (this.#init.maxRequestBytes ?? DEFAULT_MAX_FRAME_BYTES)) return Promise.reject(new FrameTooLargeError());
    const key = peer.toString();
    const run = (this.#tails.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#exchange(peer, key, frame, options.signal));
    this.#tails.set(key, run);
    const forget = (): void => {
      if (this.#tails.get(key) === run) this.#tails.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  /** Takes requests again after stop(). */
  start(): void {
    this.#stopped = false;
  }

  /** Resets every open stream; later requests fail until start(). */
  stop(): void {
    this.#stopped = true;
    for (const [key, channel] of this.#channels) this.#drop(key, channel, new Error('stopped'));
  }

  async #exchange(peer: PeerId, key: string, frame: Uint8Array, callerSignal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.#stopped) throw new Error('keep-alive requester stopped');
    const deadline = AbortSignal.timeout(this.#init.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS);
    const signal = callerSignal === undefined ? deadline : AbortSignal.any([callerSignal, deadline]);
    const reused = this.#channels.get(key);
    if (reused !== undefined && usable(reused.stream)) {
      try {
        return await this.#roundTrip(key, reused, frame, signal);
      } catch (err) {
        this.#drop(key, reused, toError(err));
        // Our own deadline or the caller gave up: no time left for another attempt.
        if (signal.aborted) throw err;
      }
    } else if (reused !== undefined) {
      this.#drop(key, reused, new Error('stream no longer usable'));
    }
    const stream = await this.#host.dialProtocol(peer, this.#init.protocol, {
      signal,
      runOnLimitedConnection: this.#init.runOnLimitedConnection ?? false,
    });
    const channel: Channel = {
      stream,
      reader: new FrameReader(stream, {
        maxFrameBytes: this.#init.maxResponseBytes ?? DEFAULT_MAX_FRAME_BYTES,
        readTimeoutMs: this.#init.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
      }),
    };
    this.#channels.set(key, channel);
    stream.addEventListener('close', () => {
      if (this.#channels.get(key) === channel) this.#forget(key, channel);
    }, { once: true });
    try {
      return await this.#roundTrip(key, channel, frame, signal);
    } catch (err) {
      // A responder that refuses (rate limit, admission) resets at once, often before our
      // frame is out: report that reset, not the error of writing to a closed stream.
      const failure = stream.status === 'reset' ? new StreamResetError('The responder reset the stream') : toError(err);
      this.#drop(key, channel, failure);
      throw failure;
    }
  }

  async #roundTrip(key: string, channel: Channel, frame: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    if (channel.idleTimer !== undefined) clearTimeout(channel.idleTimer);
    channel.idleTimer = undefined;
    await writeFrame(channel.stream, frame, { maxFrameBytes: this.#init.maxRequestBytes ?? DEFAULT_MAX_FRAME_BYTES, signal });
    // The responder may take up to the exchange deadline (its commit), so wait for the
    // response under that deadline rather than the per-frame read timeout.
    const response = await channel.reader.read({ signal, readTimeoutMs: this.#init.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS });
    if (response === null) throw new TruncatedFrameError('Stream ended before the response');
    channel.idleTimer = setTimeout(() => this.#closeIdle(key, channel), this.#init.idleTimeoutMs);
    channel.idleTimer.unref?.();
    return response;
  }

  /** Ends an idle stream cleanly: the responder sees the end and closes its side. */
  #closeIdle(key: string, channel: Channel): void {
    if (this.#channels.get(key) !== channel) return;
    this.#forget(key, channel);
    channel.stream.close().catch((err: unknown) => channel.stream.abort(toError(err)));
  }

  #drop(key: string, channel: Channel, reason: Error): void {
    this.#forget(key, channel);
    channel.stream.abort(reason);
  }

  #forget(key: string, channel: Channel): void {
    if (channel.idleTimer !== undefined) clearTimeout(channel.idleTimer);
    channel.idleTimer = undefined;
    if (this.#channels.get(key) === channel) this.#channels.delete(key);
  }
}

/** Open both ways: neither side has closed, reset or ended it. */
function usable(stream: Stream): boolean {
  return stream.status === 'open' && stream.writeStatus === 'writable' && stream.remoteWriteStatus === 'writable';
}
