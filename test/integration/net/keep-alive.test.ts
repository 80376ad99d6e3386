/**
 * Keep-alive exchanges (RequestResponseInit.keepAlive + KeepAliveRequester) between real
 * libp2p nodes on loopback: one stream carries successive exchanges, every exchange passes
 * the rate limiter and admission again, pipelining is a violation, and a stream that died
 * between exchanges is replaced without the caller noticing.
 */
import '../../../src/main/polyfills';
import type { Stream } from '@libp2p/interface';
import { afterEach, describe, expect, it } from 'vitest';
import {
  admitAnyone,
  encodeFrame,
  KeepAliveRequester,
  protocolId,
  RequestResponse,
  type ParleyNode,
  type RequestResponseInit,
} from '../../../src/main/net';
import { Nodes, rawExchange, within } from './fixtures';

const PROTOCOL = protocolId('test-keep-alive', '1.0.0');
/** Long enough that no stream idles out during a test unless the test wants it to. */
const IDLE_MS = 30_000;

const nodes = new Nodes();
const requesters: KeepAliveRequester[] = [];
afterEach(async () => {
  for (const r of requesters.splice(0)) r.stop();
  await nodes.stopAll();
});

async function setup(init: Partial<RequestResponseInit> = {}, idleTimeoutMs = IDLE_MS) {
  const [a, b] = await Promise.all([nodes.start(), nodes.start()]);
  await b.dial(a.getMultiaddrs()[0]!);
  const violations: string[] = [];
  const server = await nodes.service(
    new RequestResponse(
      { host: a },
      {
        protocol: PROTOCOL,
        admit: admitAnyone,
        handler: (request) => Uint8Array.from([...request].reverse()),
        rateLimit: false,
        keepAlive: { idleTimeoutMs: IDLE_MS },
        onViolation: (_peer, err) => violations.push(err.name),
        ...init,
      },
    ),
  );
  const requester = new KeepAliveRequester(b, { protocol: PROTOCOL, idleTimeoutMs });
  requesters.push(requester);
  const ask = async (...bytes: number[]): Promise<string> => {
    const reply = await within(5_000, 'a keep-alive request', requester.request(a.peerId, Uint8Array.from(bytes)));
    return [...reply].join(',');
  };
  return { a, b, server, requester, violations, ask };
}

/** The requester's streams for PROTOCOL on its connection to `to`. */
function streamsTo(from: ParleyNode, to: ParleyNode): Stream[] {
  return from.getConnections(to.peerId).flatMap((c) => c.streams.filter((s) => s.protocol === PROTOCOL));
}

/** Polls `check` on the event loop until it holds (bounded), instead of sleeping a fixed time. */
async function until(what: string, check: () => boolean): Promise<void> {
  await within(5_000, what, (async () => {
    while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
  })());
}

describe('keep-alive exchanges', () => {
  it('keep-alive - successive requests share one stream, answered in order', async () => {
    const env = await setup();
    expect(await env.ask(1, 2)).toBe('2,1');
    expect(await env.ask(3, 4)).toBe('4,3');
    // Issued together: run one after another on the same stream, each gets its own answer.
    const replies = await Promise.all([5, 6, 7].map((n) => env.ask(n, 0)));
    expect(replies).toEqual(['0,5', '0,6', '0,7']);
    expect(env.server.stats).toMatchObject({ streams: 1, served: 5, failed: 0, violations: 0 });
    expect(env.requester.openStreams).toBe(1);
  });

  it('keep-alive - a one-shot requester is still served (it ends the stream after one exchange)', async () => {
    const env = await setup();
    const client = new RequestResponse({ host: env.b }, { protocol: PROTOCOL, admit: admitAnyone, handler: (r) => r });
    expect([...(await client.request(env.a.peerId, Uint8Array.of(1, 2, 3)))]).toEqual([3, 2, 1]);
    expect(env.server.stats).toMatchObject({ streams: 1, served: 1, failed: 0, violations: 0 });
  });

  it('keep-alive - a request sent before the previous response is a violation; nothing of it is handled', async () => {
    const handled: number[] = [];
    const env = await setup({
      handler: (request) => {
        handled.push(request[0] ?? -1);
        return request;
      },
    });
    const pipelined = Uint8Array.from([...encodeFrame(Uint8Array.of(1)), ...encodeFrame(Uint8Array.of(2))]);
    const out = await rawExchange(env.b, env.a, PROTOCOL, pipelined);
    expect(out.end).toBe('StreamResetError');
    expect(env.violations).toEqual(['InvalidFrameError']);
    expect(handled).toEqual([]);
    expect(await env.ask(9)).toBe('9');
  });

  it('keep-alive - a request written separately but before the previous response is a violation too', async () => {
    const handled: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const env = await setup({
      handler: async (request) => {
        handled.push(request[0] ?? -1);
        await gate;
        return request;
      },
    });
    const stream = await env.b.dialProtocol(env.a.peerId, PROTOCOL, { signal: AbortSignal.timeout(5_000) });
    const ended = new Promise<string>((resolve) => {
      stream.addEventListener('close', (evt) => resolve(evt.error?.name ?? 'closed'), { once: true });
    });
    try {
      stream.send(encodeFrame(Uint8Array.of(1)));
      // The first request is being handled (held at the gate) when the second arrives.
      await until('the first request to reach the handler', () => handled.length === 1);
      stream.send(encodeFrame(Uint8Array.of(2)));
      await until('the second request to reach the responder', () => env.a.getConnections(env.b.peerId).some((c) => c.streams.some((s) => s.protocol === PROTOCOL && s.readBufferLength > 0)));
      release();
      expect(await within(5_000, 'the responder to reset', ended)).toBe('StreamResetError');
      expect(handled).toEqual([1]);
      expect(env.violations).toEqual(['InvalidFrameError']);
    } finally {
      release();
      stream.abort(new Error('test done'));
    }
  });

  it('keep-alive - every exchange on the stream pays the rate limiter', async () => {
    // A frozen clock: exactly `capacity` exchanges get through, whatever the streams.
    const env = await setup({ rateLimit: { capacity: 3, refillPerSecond: 1 }, now: () => 0 });
    expect(await env.ask(1)).toBe('1');
    expect(await env.ask(2)).toBe('2');
    expect(await env.ask(3)).toBe('3');
    await expect(env.requester.request(env.a.peerId, Uint8Array.of(4))).rejects.toMatchObject({ name: 'StreamResetError' });
    expect(env.server.stats.served).toBe(3);
    expect(env.server.stats.rateLimited).toBeGreaterThanOrEqual(1);
  });

  it('keep-alive - every exchange passes admission again (a contact blocked mid-stream is cut off)', async () => {
    let admitted = true;
    const env = await setup({ admit: () => admitted });
    expect(await env.ask(1)).toBe('1');
    admitted = false;
    await expect(env.requester.request(env.a.peerId, Uint8Array.of(2))).rejects.toMatchObject({ name: 'StreamResetError' });
    expect(env.server.stats).toMatchObject({ served: 1 });
    expect(env.server.stats.refused).toBeGreaterThanOrEqual(1);
  });

  it('keep-alive - a stream reset between exchanges is replaced by a fresh one, the request retried once', async () => {
    let failNext = false;
    const env = await setup({
      handler: (request) => {
        if (failNext) {
          failNext = false;
          throw new Error('one-off failure');
        }
        return request;
      },
    });
    expect(await env.ask(1)).toBe('1');
    failNext = true;
    // The reused stream is reset by the failing handler; the retry on a new stream succeeds.
    expect(await env.ask(2)).toBe('2');
    expect(env.server.stats).toMatchObject({ streams: 2, served: 2, failed: 1 });
    expect(env.requester.openStreams).toBe(1);
  });

  it('keep-alive - an idle stream is closed by the requester and the next request opens another', async () => {
    const env = await setup({}, 200);
    expect(await env.ask(1)).toBe('1');
    await until('the idle stream to close', () => env.requester.openStreams === 0 && streamsTo(env.b, env.a).length === 0);
    expect(await env.ask(2)).toBe('2');
    expect(env.server.stats).toMatchObject({ streams: 2, served: 2, failed: 0, violations: 0 });
  });

  it('keep-alive - the responder closes a stream that stays idle; the requester then opens another', async () => {
    const env = await setup({ keepAlive: { idleTimeoutMs: 200 } });
    expect(await env.ask(1)).toBe('1');
    await until('the responder to end its side', () => streamsTo(env.b, env.a).every((s) => s.remoteWriteStatus !== 'writable'));
    expect(await env.ask(2)).toBe('2');
    expect(env.server.stats).toMatchObject({ streams: 2, served: 2, failed: 0, violations: 0 });
  });

  it('keep-alive - silence in the middle of a later frame is still a violation', async () => {
    const env = await setup({ keepAlive: { idleTimeoutMs: 200 } });
    const stream = await env.b.dialProtocol(env.a.peerId, PROTOCOL, { signal: AbortSignal.timeout(5_000) });
    const ended = new Promise<string>((resolve) => {
      stream.addEventListener('close', (evt) => resolve(evt.error?.name ?? 'closed'), { once: true });
    });
    const answered = new Promise<void>((resolve) => stream.addEventListener('message', () => resolve(), { once: true }));
    try {
      // One whole exchange, then 2 of 10 announced bytes, and the stream left open.
      stream.send(encodeFrame(Uint8Array.of(1)));
      await within(5_000, 'the first response', answered);
      stream.send(Uint8Array.of(10, 1, 2));
      expect(await within(5_000, 'the responder to reset', ended)).toBe('StreamResetError');
      expect(env.violations).toEqual(['FrameTimeoutError']);
      expect(env.server.stats.served).toBe(1);
    } finally {
      stream.abort(new Error('test done'));
    }
  });
});
