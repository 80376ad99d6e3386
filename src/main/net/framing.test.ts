import { StreamMessageEvent, StreamResetError, StreamResetEvent } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_CEILING } from './constants';
import {
  FrameDecoder,
  FrameReader,
  encodeFrame,
  encodeFrameHeader,
  readFrame,
  varintLength,
  writeFrame,
  type FrameStream,
} from './framing';

/**
 * A stand-in for a libp2p v3 stream with the same event semantics the reader relies on: data
 * is delivered as `message` events only while someone listens and the stream is not paused,
 * `end` fires once the remote finished writing and everything was delivered.
 */
class FakeStream extends EventTarget {
  status = 'open';
  readStatus = 'readable';
  remoteWriteStatus = 'writable';
  readableEnded = false;
  writableNeedsDrain = false;
  readonly sent: Uint8Array[] = [];
  /** How many further sends report a full buffer. */
  fullSends = 0;
  drains = 0;
  readonly #queue: Uint8Array[] = [];
  #messageListeners = 0;

  get readBufferLength(): number {
    return this.#queue.reduce((n, b) => n + b.byteLength, 0);
  }

  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void {
    super.addEventListener(type, listener, options);
    if (type === 'message') {
      this.#messageListeners++;
      queueMicrotask(() => this.#flush());
    }
  }

  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: EventListenerOptions | boolean): void {
    super.removeEventListener(type, listener, options);
    if (type === 'message') this.#messageListeners--;
  }

  deliver(...chunks: number[][]): void {
    for (const chunk of chunks) this.#queue.push(Uint8Array.from(chunk));
    this.#flush();
  }

  remoteClose(): void {
    this.remoteWriteStatus = 'closed';
    this.#flush();
  }

  remoteReset(): void {
    this.status = 'reset';
    this.dispatchEvent(new StreamResetEvent(new StreamResetError()));
  }

  pause(): void {
    this.readStatus = 'paused';
  }

  resume(): void {
    this.readStatus = 'readable';
    this.#flush();
  }

  send(data: Uint8Array): boolean {
    this.sent.push(data);
    if (this.fullSends > 0) {
      this.fullSends--;
      this.writableNeedsDrain = true;
      return false;
    }
    return true;
  }

  async onDrain(): Promise<void> {
    if (!this.writableNeedsDrain) return;
    this.drains++;
    await Promise.resolve();
    this.writableNeedsDrain = false;
  }

  #flush(): void {
    if (this.readStatus !== 'readable' || this.#messageListeners === 0) return;
    while (this.#queue.length > 0 && this.readStatus === 'readable') {
      this.dispatchEvent(new StreamMessageEvent(this.#queue.shift() as Uint8Array));
    }
    if (this.#queue.length === 0 && this.remoteWriteStatus === 'closed' && !this.readableEnded) {
      this.readableEnded = true;
      this.dispatchEvent(new Event('end'));
    }
  }

  asStream(): FrameStream {
    return this as unknown as FrameStream;
  }
}

const bytes = (n: number, fill = 7): number[] => new Array<number>(n).fill(fill);

describe('framing - length prefix', () => {
  it('encodes minimal unsigned varints', () => {
    expect([...encodeFrameHeader(0)]).toEqual([0]);
    expect([...encodeFrameHeader(127)]).toEqual([0x7f]);
    expect([...encodeFrameHeader(128)]).toEqual([0x80, 0x01]);
    expect([...encodeFrameHeader(300)]).toEqual([0xac, 0x02]);
    expect([...encodeFrameHeader(2 ** 32)]).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(varintLength(DEFAULT_MAX_FRAME_BYTES)).toBe(3);
  });

  it('refuses to encode a payload above the limit', () => {
    expect(() => encodeFrame(new Uint8Array(11), { maxFrameBytes: 10 })).toThrow(expect.objectContaining({ name: 'FrameTooLargeError' }));
  });

  it('refuses limits above the ceiling', () => {
    expect(() => new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES_CEILING + 1 })).toThrow(RangeError);
  });
});

describe('framing - decoder', () => {
  it('round-trips frames split at every byte boundary', () => {
    const payloads = [new Uint8Array(0), Uint8Array.from([1, 2, 3]), new Uint8Array(300).fill(9)];
    const wire = payloads.map((p) => [...encodeFrame(p)]).flat();
    const decoder = new FrameDecoder();
    const out: Uint8Array[] = [];
    for (const byte of wire) {
      decoder.push(Uint8Array.of(byte));
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) out.push(f);
    }
    expect(out).toEqual(payloads);
    expect(decoder.inFrame).toBe(false);
  });

  it('accepts a frame of exactly the limit and rejects limit + 1 from its header alone', () => {
    const ok = new FrameDecoder({ maxFrameBytes: 1000 });
    ok.push(encodeFrame(new Uint8Array(1000), { maxFrameBytes: 1000 }));
    expect(ok.next()?.byteLength).toBe(1000);

    const tooBig = new FrameDecoder({ maxFrameBytes: 1000 });
    tooBig.push(encodeFrameHeader(1001)); // no payload at all: the header suffices
    expect(() => tooBig.next()).toThrow(expect.objectContaining({ name: 'FrameTooLargeError' }));
  });

  it('rejects a declared 4 GiB frame after the first header bytes, allocating nothing', () => {
    const decoder = new FrameDecoder(); // 64 KiB limit: a header may be at most 3 bytes
    decoder.push(Uint8Array.of(0x80, 0x80, 0x80)); // the first 3 of the 5 bytes of 2^32
    expect(() => decoder.next()).toThrow(expect.objectContaining({ name: 'FrameTooLargeError' }));
    // Only the header bytes were ever held.
    expect(decoder.bufferedBytes).toBe(3);
  });

  it('rejects a header that never ends', () => {
    const decoder = new FrameDecoder();
    decoder.push(new Uint8Array(16).fill(0xff));
    expect(() => decoder.next()).toThrow(expect.objectContaining({ name: 'FrameTooLargeError' }));
  });

  it('rejects a non-minimal length prefix', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.of(0x81, 0x00, 1));
    expect(() => decoder.next()).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }));
  });

  it('waits for a partial header or payload', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.of(0xac)); // first byte of 300
    expect(decoder.next()).toBeUndefined();
    decoder.push(Uint8Array.of(0x02, 1, 2));
    expect(decoder.next()).toBeUndefined();
    expect(decoder.inFrame).toBe(true);
  });

  it('returns copies, not views into the pushed chunks', () => {
    const chunk = Uint8Array.of(2, 5, 6);
    const decoder = new FrameDecoder();
    decoder.push(chunk);
    const frame = decoder.next() as Uint8Array;
    chunk[1] = 0;
    expect([...frame]).toEqual([5, 6]);
  });
});

describe('framing - reader', () => {
  it('reads successive frames, keeping bytes that arrive early for the next read', async () => {
    const stream = new FakeStream();
    const reader = new FrameReader(stream.asStream());
    // Two frames and the start of a third in one chunk.
    stream.deliver([1, 10, 2, 20, 21, 3, 30]);
    expect([...((await reader.read()) as Uint8Array)]).toEqual([10]);
    expect([...((await reader.read()) as Uint8Array)]).toEqual([20, 21]);
    const third = reader.read();
    stream.deliver([31, 32]);
    expect([...((await third) as Uint8Array)]).toEqual([30, 31, 32]);
    stream.remoteClose();
    expect(await reader.read()).toBeNull();
  });

  it('pauses the stream between reads and resumes it for the next', async () => {
    const stream = new FakeStream();
    const reader = new FrameReader(stream.asStream());
    stream.deliver([1, 1]);
    await reader.read();
    expect(stream.readStatus).toBe('paused');
    stream.deliver([1, 2]); // held by the paused stream
    expect([...((await reader.read()) as Uint8Array)]).toEqual([2]);
  });

  it('reports a stream that ends inside a frame as truncated', async () => {
    const stream = new FakeStream();
    const read = readFrame(stream.asStream());
    stream.deliver([5, 1, 2]);
    stream.remoteClose();
    await expect(read).rejects.toMatchObject({ name: 'TruncatedFrameError' });
  });

  it('reports a stream that ends before any frame as truncated', async () => {
    const stream = new FakeStream();
    const read = readFrame(stream.asStream());
    stream.remoteClose();
    await expect(read).rejects.toMatchObject({ name: 'TruncatedFrameError' });
  });

  it('times out when a whole frame does not arrive in time, even while bytes trickle in', async () => {
    const stream = new FakeStream();
    const started = Date.now();
    const read = readFrame(stream.asStream(), { readTimeoutMs: 150 });
    stream.deliver([50, 1]); // a 50-byte frame, then one byte every 20 ms
    const trickle = setInterval(() => stream.deliver([1]), 20);
    try {
      await expect(read).rejects.toMatchObject({ name: 'FrameTimeoutError' });
    } finally {
      clearInterval(trickle);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('fails on a remote reset with the reset error', async () => {
    const stream = new FakeStream();
    const read = readFrame(stream.asStream());
    stream.remoteReset();
    await expect(read).rejects.toMatchObject({ name: 'StreamResetError' });
  });

  it('stops at the abort signal', async () => {
    const stream = new FakeStream();
    const controller = new AbortController();
    const read = readFrame(stream.asStream(), { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(read).rejects.toThrow('shutting down');
  });

  it('rejects an oversize frame from its header, and keeps failing afterwards', async () => {
    const stream = new FakeStream();
    const reader = new FrameReader(stream.asStream(), { maxFrameBytes: 4 });
    stream.deliver([5, ...bytes(5)]);
    await expect(reader.read()).rejects.toMatchObject({ name: 'FrameTooLargeError' });
    await expect(reader.read()).rejects.toMatchObject({ name: 'FrameTooLargeError' });
  });

  it('expectEnd fails when another frame follows', async () => {
    const stream = new FakeStream();
    const reader = new FrameReader(stream.asStream());
    stream.deliver([1, 1, 1, 2]);
    await reader.read();
    await expect(reader.expectEnd()).rejects.toMatchObject({ name: 'InvalidFrameError' });
  });
});

describe('framing - writer', () => {
  it('writes header and payload in one send', async () => {
    const stream = new FakeStream();
    await writeFrame(stream.asStream(), Uint8Array.of(9, 8));
    expect(stream.sent.map((b) => [...b])).toEqual([[2, 9, 8]]);
  });

  it('waits for drain when the stream reports a full buffer', async () => {
    const stream = new FakeStream();
    stream.fullSends = 1;
    await writeFrame(stream.asStream(), Uint8Array.of(1));
    expect(stream.drains).toBe(1);
    expect(stream.writableNeedsDrain).toBe(false);
  });

  it('refuses to send a frame above the limit', async () => {
    const stream = new FakeStream();
    await expect(writeFrame(stream.asStream(), new Uint8Array(5), { maxFrameBytes: 4 })).rejects.toMatchObject({
      name: 'FrameTooLargeError',
    });
    expect(stream.sent).toEqual([]);
  });
});
