import '../../../src/main/polyfills';
import type { PeerId } from '@libp2p/interface';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  admitAnyone,
  admitContacts,
  encodeFrame,
  encodeFrameHeader,
  protocolId,
  RequestResponse,
  type ParleyNode,
  type RequestResponseInit,
} from '../../../src/main/net';
import { Nodes, rawExchange, within } from './fixtures';

const PROTOCOL = protocolId('test-rr', '1.0.0');
const LIMIT = 1024;

const nodes = new Nodes();
afterEach(() => nodes.stopAll());

/** Server `a` with an echo-like handler; clients `b` (honest) and `c` (hostile or stranger). */
async function setup(init: Partial<RequestResponseInit> = {}): Promise<{
  a: ParleyNode;
  b: ParleyNode;
  c: ParleyNode;
  server: RequestResponse;
  violations: string[];
  honest: () => Promise<string>;
}> {
  const [a, b, c] = await Promise.all([nodes.start(), nodes.start(), nodes.start()]);
  await Promise.all([b.dial(a.getMultiaddrs()[0]!), c.dial(a.getMultiaddrs()[0]!)]);
  const violations: string[] = [];
  const server = await nodes.service(
    new RequestResponse(
      { host: a },
      {
        protocol: PROTOCOL,
        admit: admitAnyone,
        handler: (request) => Uint8Array.from([...request].reverse()),
        maxRequestBytes: LIMIT,
        rateLimit: false,
        onViolation: (_peer, err) => violations.push(err.name),
        ...init,
      },
    ),
  );
  const client = new RequestResponse({ host: b }, { protocol: PROTOCOL, admit: admitAnyone, handler: () => new Uint8Array(0) });
  const honest = async (): Promise<string> => {
    const reply = await within(5_000, 'an honest request', client.request(a.peerId, Uint8Array.of(1, 2, 3)));
    return [...reply].join(',');
  };
  return { a, b, c, server, violations, honest };
}

describe('request-response - hostile frames', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    env = await setup();
  });

  it('request-response - serves a frame of exactly the limit', async () => {
    const out = await rawExchange(env.c, env.a, PROTOCOL, encodeFrame(new Uint8Array(LIMIT), { maxFrameBytes: LIMIT }));
    expect(out).toEqual({ end: 'closed', received: LIMIT + 2 });
    expect(env.server.stats.served).toBe(1);
  });

  it('request-response - resets a frame of limit + 1 and keeps serving', async () => {
    const frame = Uint8Array.from([...encodeFrameHeader(LIMIT + 1), ...new Uint8Array(LIMIT + 1)]);
    const out = await rawExchange(env.c, env.a, PROTOCOL, frame);
    expect(out).toEqual({ end: 'StreamResetError', received: 0 });
    expect(env.violations).toEqual(['FrameTooLargeError']);
    expect(await env.honest()).toBe('3,2,1');
  });

  it('request-response - resets a declared 4 GiB frame from its header and keeps serving', async () => {
    const frame = Uint8Array.from([...encodeFrameHeader(2 ** 32), 1, 2, 3]);
    expect(frame.subarray(0, 5)).toEqual(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10));
    // Not even half-closed: the header alone must be enough to reject it.
    const out = await rawExchange(env.c, env.a, PROTOCOL, frame, { closeWrite: false });
    expect(out.end).toBe('StreamResetError');
    expect(env.violations).toEqual(['FrameTooLargeError']);
    expect(await env.honest()).toBe('3,2,1');
  });

  it('request-response - resets garbage: an endless length prefix, a non-minimal one', async () => {
    const endless = await rawExchange(env.c, env.a, PROTOCOL, new Uint8Array(32).fill(0xff));
    const nonMinimal = await rawExchange(env.c, env.a, PROTOCOL, Uint8Array.of(0x81, 0x00, 9));
    expect([endless.end, nonMinimal.end]).toEqual(['StreamResetError', 'StreamResetError']);
    expect(env.violations).toEqual(['FrameTooLargeError', 'InvalidFrameError']);
    expect(await env.honest()).toBe('3,2,1');
  });

  it('request-response - resets truncated frames: mid-payload, mid-header, empty stream', async () => {
    const midPayload = await rawExchange(env.c, env.a, PROTOCOL, Uint8Array.from([100, ...new Uint8Array(10)]));
    const midHeader = await rawExchange(env.c, env.a, PROTOCOL, Uint8Array.of(0x80));
    const empty = await rawExchange(env.c, env.a, PROTOCOL, new Uint8Array(0));
    expect([midPayload.end, midHeader.end, empty.end]).toEqual(['StreamResetError', 'StreamResetError', 'StreamResetError']);
    expect(env.violations).toEqual(['TruncatedFrameError', 'TruncatedFrameError', 'TruncatedFrameError']);
    expect(await env.honest()).toBe('3,2,1');
  });

  it('request-response - resets a second frame after the request', async () => {
    const twoFrames = Uint8Array.from([...encodeFrame(Uint8Array.of(1)), ...encodeFrame(Uint8Array.of(2))]);
    const out = await rawExchange(env.c, env.a, PROTOCOL, twoFrames);
    expect(out.end).toBe('StreamResetError');
    expect(env.violations).toEqual(['InvalidFrameError']);
    expect(env.server.stats.served).toBe(0);
  });

  it('request-response - a handler that throws resets that stream only', async () => {
    await nodes.stopAll();
    env = await setup({
      handler: (request) => {
        if (request[0] === 0) throw new Error('handler bug');
        return request;
      },
    });
    const out = await rawExchange(env.c, env.a, PROTOCOL, encodeFrame(Uint8Array.of(0)));
    expect(out.end).toBe('StreamResetError');
    expect(env.server.stats.failed).toBe(1);
    expect(env.violations).toEqual([]);
    expect(await env.honest()).toBe('1,2,3');
  });
});

describe('request-response - timeouts', () => {
  it('request-response - the responder resets a request that does not arrive in time', async () => {
    const env = await setup({ readTimeoutMs: 300 });
    const startedAt = Date.now();
    // A 10-byte frame with 2 bytes sent, and the stream left open.
    const out = await rawExchange(env.c, env.a, PROTOCOL, Uint8Array.of(10, 1, 2), { closeWrite: false });
    expect(out.end).toBe('StreamResetError');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);
    expect(env.violations).toEqual(['FrameTimeoutError']);
    expect(await env.honest()).toBe('3,2,1');
  });

  it('request-response - the requester gives up on a response that does not arrive in time', async () => {
    let release: () => void = () => undefined;
    const env = await setup({
      handler: (request, { signal }) =>
        new Promise((resolve) => {
          release = () => resolve(request);
          signal.addEventListener('abort', () => resolve(request), { once: true });
        }),
    });
    const client = new RequestResponse({ host: env.b }, { protocol: PROTOCOL, admit: admitAnyone, handler: (r) => r });
    await expect(client.request(env.a.peerId, Uint8Array.of(1), { readTimeoutMs: 300 })).rejects.toMatchObject({
      name: 'FrameTimeoutError',
    });
    release();
  });
});

describe('request-response - shutdown', () => {
  it('request-response - stop resets the exchanges in flight and stops serving', async () => {
    let handlerEntered: () => void = () => undefined;
    const entered = new Promise<void>((resolve) => (handlerEntered = resolve));
    const env = await setup({
      handler: (_request, { signal }) =>
        new Promise((_resolve, reject) => {
          handlerEntered();
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    });
    const client = new RequestResponse({ host: env.b }, { protocol: PROTOCOL, admit: admitAnyone, handler: (r) => r });
    const pending = client.request(env.a.peerId, Uint8Array.of(1));
    await within(5_000, 'the handler to start', entered);
    await env.server.stop();
    await expect(pending).rejects.toMatchObject({ name: 'StreamResetError' });
    expect(env.server.stats.failed).toBe(1);
    await expect(client.request(env.a.peerId, Uint8Array.of(1))).rejects.toMatchObject({ name: 'UnsupportedProtocolError' });
  });
});

describe('request-response - admission and rate limits', () => {
  it('request-response - refuses an unadmitted peer before reading, serves an admitted one', async () => {
    const contacts = new Set<string>();
    const env = await setup({ admit: admitContacts((peer: PeerId) => contacts.has(peer.toString())) });
    contacts.add(env.b.peerId.toString());

    const stranger = new RequestResponse({ host: env.c }, { protocol: PROTOCOL, admit: admitAnyone, handler: (r) => r });
    await expect(stranger.request(env.a.peerId, Uint8Array.of(1, 2, 3))).rejects.toMatchObject({ name: 'StreamResetError' });
    expect(await env.honest()).toBe('3,2,1');
    expect(env.server.stats).toMatchObject({ refused: 1, served: 1 });
  });

  it('request-response - a flood is cut off at the bucket size while other peers are served', async () => {
    // A frozen clock: no refill during the test, so exactly `capacity` requests get through.
    const env = await setup({ rateLimit: { capacity: 5, refillPerSecond: 1 }, now: () => 0 });
    const flooder = new RequestResponse({ host: env.c }, { protocol: PROTOCOL, admit: admitAnyone, handler: (r) => r });
    const results: string[] = [];
    for (let i = 0; i < 12; i++) {
      results.push(
        await flooder.request(env.a.peerId, Uint8Array.of(i)).then(
          () => 'ok',
          (err: Error) => err.name,
        ),
      );
    }
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    expect(results.slice(5).every((r) => r === 'StreamResetError')).toBe(true);
    expect(env.server.stats.rateLimited).toBe(7);
    // Another peer has its own bucket.
    expect(await env.honest()).toBe('3,2,1');
  });

  it('request-response - framing violations cost extra tokens, locking a hostile peer out', async () => {
    const env = await setup({ rateLimit: { capacity: 20, refillPerSecond: 1 }, violationCost: 10, now: () => 0 });
    const oversize = Uint8Array.from(encodeFrameHeader(LIMIT + 1));
    // 20 tokens: two violations cost 2 × (1 + 10) = 22, so the third stream is refused unread.
    await rawExchange(env.c, env.a, PROTOCOL, oversize);
    await rawExchange(env.c, env.a, PROTOCOL, oversize);
    await rawExchange(env.c, env.a, PROTOCOL, encodeFrame(Uint8Array.of(1)));
    expect(env.server.stats).toMatchObject({ violations: 2, rateLimited: 1, served: 0 });
    expect(await env.honest()).toBe('3,2,1');
  });
});
