/**
 * Length-prefixed frames for Parley protocols (ARCHITECTURE.md §5).
 *
 * Wire format: `uvarint(length) ‖ payload`, the unsigned LEB128 varint of the multiformats
 * unsigned-varint spec, minimally encoded. Chosen over a fixed 4-byte prefix because it is
 * what every libp2p protocol on the same connection already uses (identify, kad, relay, dcutr
 * via it-length-prefixed), so standard tooling decodes our streams, and small frames (acks)
 * cost one or two bytes instead of four. Its usual hazard, an unbounded header, is closed here:
 * the header may be at most as long as the encoding of the frame limit, and the declared
 * length is checked against the limit while the header is parsed — a declared 4 GiB frame is
 * rejected after three header bytes, before any payload is read or any buffer allocated.
 *
 * Reading is event-based (libp2p v3 streams are EventTargets that emit `message`, `end`,
 * `close`): a reader listens only while a read is pending and pauses the stream between
 * reads, so a fast sender is held back by yamux flow control instead of filling memory.
 * After any read error the framing is out of step: the caller must abort the stream.
 */
import { AbortError, StreamAbortedError, StreamResetError } from '@libp2p/interface';
import type { AbortOptions, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_READ_TIMEOUT_MS, MAX_FRAME_BYTES_CEILING } from './constants';
import { FrameTimeoutError, FrameTooLargeError, InvalidFrameError, TruncatedFrameError, toError } from './errors';

/** The subset of a libp2p v3 Stream the frame functions use (a real Stream satisfies it). */
export type FrameStream = Pick<
  Stream,
  | 'addEventListener'
  | 'removeEventListener'
  | 'status'
  | 'readStatus'
  | 'remoteWriteStatus'
  | 'readableEnded'
  | 'readBufferLength'
  | 'pause'
  | 'resume'
  | 'send'
  | 'onDrain'
  | 'writableNeedsDrain'
>;

export interface FrameLimits {
  /** Largest payload accepted or sent, in bytes (default DEFAULT_MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
}

export interface FrameReadOptions extends FrameLimits {
  /** Time for one whole frame to arrive, from the start of the read (default DEFAULT_READ_TIMEOUT_MS; Infinity for none). */
  readTimeoutMs?: number;
}

/** Bytes needed to encode `value` as an unsigned varint. */
export function varintLength(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes++;
  }
  return bytes;
}

/** The length prefix for a payload of `length` bytes. */
export function encodeFrameHeader(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('Frame length must be a non-negative integer');
  const header = new Uint8Array(varintLength(length));
  for (let i = 0; i < header.length; i++) {
    const low = length % 0x80;
    length = Math.floor(length / 0x80);
    header[i] = length > 0 ? low | 0x80 : low;
  }
  return header;
}

/** Header and payload in one buffer (one `send`, one yamux data frame). */
export function encodeFrame(payload: Uint8Array, limits: FrameLimits = {}): Uint8Array {
  const max = checkedLimit(limits.maxFrameBytes);
  // Never send what a conforming peer must reject.
  if (payload.byteLength > max) throw new FrameTooLargeError();
  const header = encodeFrameHeader(payload.byteLength);
  const frame = new Uint8Array(header.byteLength + payload.byteLength);
  frame.set(header, 0);
  frame.set(payload, header.byteLength);
  return frame;
}

function checkedLimit(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): number {
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > MAX_FRAME_BYTES_CEILING) {
    throw new RangeError(`Frame limit must be an integer in 0..${MAX_FRAME_BYTES_CEILING}`);
  }
  return maxFrameBytes;
}

/**
 * Incremental, I/O-free frame decoder: push chunks in, take whole frames out. The header of
 * the frame in progress is validated as soon as its bytes are present; a payload buffer is
 * allocated only when the whole payload has arrived, so its size is always ≤ the limit.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  /** A header longer than this cannot encode a length ≤ maxFrameBytes (minimal encoding). */
  readonly #maxHeaderBytes: number;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Payload length of the frame in progress once its header is consumed, else -1. */
  #frameLength = -1;

  constructor(limits: FrameLimits = {}) {
    this.maxFrameBytes = checkedLimit(limits.maxFrameBytes);
    this.#maxHeaderBytes = varintLength(this.maxFrameBytes);
  }

  /** Bytes held that are not yet part of a returned frame (payload and unread headers). */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** True while part of a frame is held: the stream ending now would truncate it. */
  get inFrame(): boolean {
    return this.#buffered > 0 || this.#frameLength >= 0;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
  }

  /**
   * The next whole frame (a copy the caller owns), or undefined until more bytes arrive.
   * Throws FrameTooLargeError / InvalidFrameError for a bad header, before reading its payload.
   */
  next(): Uint8Array | undefined {
    if (this.#frameLength < 0) {
      const length = this.#readHeader();
      if (length === undefined) return undefined;
      this.#frameLength = length;
    }
    if (this.#buffered < this.#frameLength) return undefined;
    const frame = this.#take(this.#frameLength);
    this.#frameLength = -1;
    return frame;
  }

  #readHeader(): number | undefined {
    let value = 0;
    for (let i = 0; i < this.#maxHeaderBytes; i++) {
      const byte = this.#byteAt(i);
      if (byte === undefined) return undefined;
      // Multiplication, not shifts: JS bit operators wrap at 2^31.
      value += (byte & 0x7f) * 2 ** (7 * i);
      // Later bytes only add to `value`, so this rejects as early as the bytes allow.
      if (value > this.maxFrameBytes) throw new FrameTooLargeError();
      if ((byte & 0x80) === 0) {
        // A final zero byte after a continuation is a non-minimal encoding (e.g. 0x81 0x00):
        // refuse it, so every length has exactly one encoding.
        if (byte === 0 && i > 0) throw new InvalidFrameError('Non-minimal frame length prefix');
        this.#consume(i + 1);
        return value;
      }
    }
    // Still continuing after the longest header a length ≤ limit needs: declared too large.
    throw new FrameTooLargeError();
  }

  #byteAt(index: number): number | undefined {
    for (const chunk of this.#chunks) {
      if (index < chunk.byteLength) return chunk[index];
      index -= chunk.byteLength;
    }
    return undefined;
  }

  #consume(count: number): void {
    this.#buffered -= count;
    while (count > 0) {
      const first = this.#chunks[0] as Uint8Array;
      if (first.byteLength <= count) {
        this.#chunks.shift();
        count -= first.byteLength;
      } else {
        this.#chunks[0] = first.subarray(count);
        count = 0;
      }
    }
  }

  #take(length: number): Uint8Array {
    // Copy: the chunks are views into transport buffers that must not be pinned or aliased.
    const frame = new Uint8Array(length);
    let offset = 0;
    while (offset < length) {
      const first = this.#chunks[0] as Uint8Array;
      const part = first.subarray(0, Math.min(first.byteLength, length - offset));
      frame.set(part, offset);
      offset += part.byteLength;
      this.#consume(part.byteLength);
    }
    return frame;
  }
}

/**
 * Reads successive frames from one stream. Bytes after a frame stay in the reader for the
 * next read. Errors are sticky: once a read fails, every later read throws the same error.
 */
export class FrameReader {
  readonly #stream: FrameStream;
  readonly #decoder: FrameDecoder;
  readonly #readTimeoutMs: number;
  #failure: Error | undefined;

  constructor(stream: FrameStream, options: FrameReadOptions = {}) {
    this.#stream = stream;
    this.#decoder = new FrameDecoder(options);
    this.#readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    if (!(this.#readTimeoutMs > 0)) throw new RangeError('Read timeout must be positive');
  }

  /** Bytes received after the last frame returned (part or all of the next frame). */
  get bufferedBytes(): number {
    return this.#decoder.bufferedBytes;
  }

  /** True while part of a frame is held, e.g. after a read timed out mid-frame. */
  get inFrame(): boolean {
    return this.#decoder.inFrame;
  }

  /**
   * The next frame, or null if the stream ended cleanly between frames. `readTimeoutMs`
   * overrides the reader's timeout for this read (e.g. a longer wait between exchanges).
   */
  async read(options: AbortOptions & { readTimeoutMs?: number } = {}): Promise<Uint8Array | null> {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      return await this.#read(options);
    } catch (err) {
      this.#failure = toError(err);
      throw this.#failure;
    }
  }

  /** Waits for the remote to finish writing; a further frame (or bytes) there is a violation. */
  async expectEnd(options: AbortOptions = {}): Promise<void> {
    const frame = await this.read(options);
    if (frame !== null) {
      this.#failure = new InvalidFrameError('Unexpected frame after the last one');
      throw this.#failure;
    }
  }

  #read(options: AbortOptions & { readTimeoutMs?: number }): Promise<Uint8Array | null> {
    const ready = this.#decoder.next();
    if (ready !== undefined) return Promise.resolve(ready);
    options.signal?.throwIfAborted();

    const stream = this.#stream;
    const decoder = this.#decoder;
    const signal = options.signal;

    return new Promise<Uint8Array | null>((resolve, reject) => {
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;

      const settle = (err: Error | undefined, frame: Uint8Array | null = null): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        stream.removeEventListener('message', onMessage);
        stream.removeEventListener('end', onEnd);
        stream.removeEventListener('close', onClose);
        signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          reject(err);
          return;
        }
        // Hold the remote back (yamux stops granting window) until the next read.
        if (frame !== null && stream.readStatus === 'readable' && stream.remoteWriteStatus === 'writable') {
          stream.pause();
        }
        resolve(frame);
      };

      const onMessage = (evt: StreamMessageEvent): void => {
        try {
          if (evt.data instanceof Uint8Array) decoder.push(evt.data);
          else for (const chunk of evt.data) decoder.push(chunk);
          const frame = decoder.next();
          if (frame !== undefined) settle(undefined, frame);
        } catch (err) {
          settle(toError(err));
        }
      };
      const onEnd = (): void => {
        settle(decoder.inFrame ? new TruncatedFrameError() : undefined, null);
      };
      const onClose = (evt: StreamCloseEvent): void => {
        if (evt.error !== undefined) settle(evt.error);
        // A clean close with bytes still queued: they are dispatched next, then 'end'.
        else if (stream.readBufferLength === 0) onEnd();
      };
      const onAbort = (): void => {
        settle(signal?.reason instanceof Error ? signal.reason : new AbortError());
      };

      stream.addEventListener('message', onMessage);
      stream.addEventListener('end', onEnd);
      stream.addEventListener('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
      const timeoutMs = options.readTimeoutMs ?? this.#readTimeoutMs;
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => settle(new FrameTimeoutError()), timeoutMs);
      }

      // States reached before we listened.
      if (stream.status === 'reset') settle(new StreamResetError());
      else if (stream.status === 'aborted') settle(new StreamAbortedError());
      else if (stream.readableEnded && stream.readBufferLength === 0) onEnd();
      else if (stream.readStatus === 'paused') stream.resume();
    });
  }
}

/** Reads exactly one frame; a stream that ends first is truncated. */
export async function readFrame(stream: FrameStream, options: FrameReadOptions & AbortOptions = {}): Promise<Uint8Array> {
  const frame = await new FrameReader(stream, options).read(options);
  if (frame === null) throw new TruncatedFrameError('Stream ended before a frame');
  return frame;
}

/**
 * Writes one frame and resolves once the stream can take more: it waits for `drain` whenever
 * the muxer's buffer is full, before and after sending, so a caller writing in a loop is paced
 * by the remote reader (backpressure) instead of growing the write buffer.
 */
export async function writeFrame(
  stream: FrameStream,
  payload: Uint8Array,
  options: FrameLimits & AbortOptions = {},
): Promise<void> {
  const frame = encodeFrame(payload, options);
  options.signal?.throwIfAborted();
  if (stream.writableNeedsDrain) await stream.onDrain(options);
  if (!stream.send(frame)) await stream.onDrain(options);
}
