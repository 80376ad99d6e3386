/**
 * The bare-libp2p role of a benchmark peer (net-peer.ts): a node from the app's own factory
 * (TCP, Noise, yamux, listening on 127.0.0.1 only) with three test protocols and no Parley
 * protocol, store or crypto. It is the baseline the core's figures are read against:
 *
 * - echo: every chunk is sent straight back (round trips on a new or a reused stream);
 * - sink: drains what arrives and answers one byte when the dialer has finished (one-way frames);
 * - rr: Parley's request-response helper with an echo handler (its framing and checks).
 */
import type { Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { admitAnyone, createParleyNode, generateDeviceKey, RequestResponse, type ParleyNode } from '../../src/main/net';
import type { Commands } from './net-ipc';

/** The only address the node listens on and the only one it dials (ARCHITECTURE.md §10). */
const LOOPBACK = '/ip4/127.0.0.1/tcp/0';
const ECHO_PROTOCOL = '/parley-bench/echo/1.0.0';
const SINK_PROTOCOL = '/parley-bench/sink/1.0.0';
const RR_PROTOCOL = '/parley-bench/rr/1.0.0';
/** Bare-baseline streams never wait longer than this for their echo. */
const BARE_TIMEOUT_MS = 10_000;

const now = (): number => Number(process.hrtime.bigint());

let node: ParleyNode | undefined;
let rr: RequestResponse | undefined;

/** Echoes every chunk back at once; closes when the dialer has finished writing. */
function echo(stream: Stream): void {
  stream.addEventListener('message', (evt) => {
    stream.send(evt.data);
  });
  stream.addEventListener('remoteCloseWrite', () => {
    void stream.close().catch((err: unknown) => stream.abort(err as Error));
  });
}

/** Drains what arrives; answers one byte once the dialer has finished writing. */
function sink(stream: Stream): void {
  stream.addEventListener('remoteCloseWrite', () => {
    stream.send(new Uint8Array(1));
    void stream.close().catch((err: unknown) => stream.abort(err as Error));
  });
  stream.addEventListener('message', () => {});
}

/** Resolves when `bytes` bytes have arrived on the stream (or the stream failed). */
function receive(stream: Stream, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const timer = setTimeout(() => finish(new Error('echo timed out')), BARE_TIMEOUT_MS);
    const onMessage = (evt: { data: { byteLength: number } }): void => {
      got += evt.data.byteLength;
      if (got >= bytes) finish();
    };
    const onClose = (): void => finish(got >= bytes ? undefined : new Error('stream closed early'));
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    stream.addEventListener('message', onMessage);
    stream.addEventListener('close', onClose);
  });
}

function requireNode(): ParleyNode {
  if (!node) throw new Error('bare node not started');
  return node;
}

const payload = (bytes: number): Uint8Array => crypto.getRandomValues(new Uint8Array(bytes));

type BareCommand = Extract<keyof Commands, `bare.${string}`>;
type BareHandlers = { [C in BareCommand]: (args: Commands[C]['args']) => Promise<Commands[C]['result']> };

export const bareHandlers: BareHandlers = {
  async 'bare.start'() {
    node = await createParleyNode({ privateKey: await generateDeviceKey(), listen: [LOOPBACK], lan: false });
    await node.handle(ECHO_PROTOCOL, (stream) => echo(stream), { maxInboundStreams: 64 });
    await node.handle(SINK_PROTOCOL, (stream) => sink(stream));
    // Same helper and limits as the msg protocol, but no store: the cost of Parley's framing layer.
    rr = new RequestResponse({ host: node }, { protocol: RR_PROTOCOL, admit: admitAnyone, handler: (frame) => frame, rateLimit: false });
    await rr.start();
    await node.start();
    return { peerId: node.peerId.toString(), addresses: node.getMultiaddrs().map((a) => a.toString()) };
  },
  async 'bare.dial'({ address }) {
    const addr = multiaddr(address);
    if (!address.startsWith('/ip4/127.0.0.1/')) throw new Error('the benchmark dials loopback only');
    await requireNode().dial(addr);
    return {};
  },
  async 'bare.rttNewStream'({ peerId, count: n, bytes }) {
    const peer = peerIdFromString(peerId);
    const samplesMs: number[] = [];
    for (let i = 0; i < n; i++) {
      const data = payload(bytes);
      const t0 = now();
      const stream = await requireNode().dialProtocol(peer, ECHO_PROTOCOL);
      const echoed = receive(stream, bytes);
      stream.send(data);
      await echoed;
      samplesMs.push((now() - t0) / 1e6);
      await stream.close();
    }
    return { samplesMs };
  },
  async 'bare.rttReusedStream'({ peerId, count: n, bytes }) {
    const stream = await requireNode().dialProtocol(peerIdFromString(peerId), ECHO_PROTOCOL);
    const samplesMs: number[] = [];
    for (let i = 0; i < n; i++) {
      const data = payload(bytes);
      const t0 = now();
      const echoed = receive(stream, bytes);
      stream.send(data);
      await echoed;
      samplesMs.push((now() - t0) / 1e6);
    }
    await stream.close();
    return { samplesMs };
  },
  async 'bare.rttRequestResponse'({ peerId, count: n, bytes }) {
    if (!rr) throw new Error('bare node not started');
    const peer = peerIdFromString(peerId);
    const samplesMs: number[] = [];
    for (let i = 0; i < n; i++) {
      const data = payload(bytes);
      const t0 = now();
      const reply = await rr.request(peer, data);
      samplesMs.push((now() - t0) / 1e6);
      if (reply.byteLength !== bytes) throw new Error('request-response echo mismatch');
    }
    return { samplesMs };
  },
  async 'bare.oneWay'({ peerId, count: n, bytes }) {
    const stream = await requireNode().dialProtocol(peerIdFromString(peerId), SINK_PROTOCOL);
    const frame = payload(bytes);
    const ack = receive(stream, 1);
    const t0 = now();
    for (let i = 0; i < n; i++) {
      // Each send is one yamux data frame; wait for drain when the muxer says its buffer is full.
      if (!stream.send(frame)) await stream.onDrain();
    }
    await stream.close();
    await ack;
    return { seconds: (now() - t0) / 1e9 };
  },

};

export async function stopBare(): Promise<void> {
  await rr?.stop();
  await node?.stop();
}
