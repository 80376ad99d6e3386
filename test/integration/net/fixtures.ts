/**
 * Shared helpers for the network integration tests: loopback-only nodes that are always
 * stopped, a raw (hostile) stream client, and bounded waits. Run these tests only through
 * scripts/in-netns.sh (ARCHITECTURE.md §10): mDNS multicasts on every interface.
 */
import '../../../src/main/polyfills';
import type { ComponentLogger, Connection, Logger, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import {
  createParleyNode,
  generateDeviceKey,
  type ParleyNode,
  type ParleyNodeOptions,
  type RequestResponse,
} from '../../../src/main/net';

/** Only loopback, ever: tests never listen on or dial another interface. */
export const LOOPBACK_TCP = '/ip4/127.0.0.1/tcp/0';
export const LOOPBACK_WS = '/ip4/127.0.0.1/tcp/0/ws';

/** Error-level log lines, by component, for a node built with `recordingLogger`. */
export interface LogRecord {
  component: string;
  message: string;
}

/** A ComponentLogger that drops debug output and keeps error lines for assertions. */
export function recordingLogger(errors: LogRecord[]): ComponentLogger {
  const make = (component: string): Logger => {
    const log = (() => undefined) as unknown as Logger;
    log.error = (formatter: unknown, ...args: unknown[]) => {
      const detail = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' ');
      errors.push({ component, message: `${String(formatter)} ${detail}` });
    };
    log.trace = () => undefined;
    log.enabled = false;
    log.newScope = (name: string) => make(`${component}:${name}`);
    return log;
  };
  return { forComponent: make };
}

/**
 * Creates nodes and protocol services and stops them all in `stopAll` (call it in afterEach).
 * Services stop before nodes, so in-flight exchanges are reset, not left hanging.
 */
export class Nodes {
  readonly #nodes: ParleyNode[] = [];
  readonly #services: RequestResponse[] = [];

  /** A started loopback node; LAN discovery off unless asked for. */
  async start(options: Partial<ParleyNodeOptions> = {}, started = true): Promise<ParleyNode> {
    const node = await createParleyNode({
      privateKey: await generateDeviceKey(),
      listen: [LOOPBACK_TCP],
      lan: false,
      ...options,
    });
    this.#nodes.push(node);
    if (started) await node.start();
    return node;
  }

  async service(service: RequestResponse): Promise<RequestResponse> {
    this.#services.push(service);
    await service.start();
    return service;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#services.splice(0).map((s) => s.stop()));
    // One at a time, and each next one only after it has seen its connections to the stopped
    // one close: libp2p's stop otherwise waits 500 ms per connection whose peer is gone
    // (connection-manager stop), which adds up over a suite.
    const nodes = this.#nodes.splice(0);
    for (const [i, node] of nodes.entries()) {
      const others = nodes.slice(i + 1);
      const closed = others.flatMap((other) => other.getConnections(node.peerId).map((c) => connectionClosed(other, c)));
      await node.stop();
      await within(2_000, 'peers to see the connections close', Promise.all(closed)).catch(() => undefined);
    }
  }
}

/** Rejects with a named timeout instead of hanging the suite. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when `node` emits peer:discovery for `peer`. Attach before the peer starts. */
export function discovered(node: ParleyNode, peer: () => PeerId | undefined): Promise<string[]> {
  return new Promise((resolve) => {
    const onDiscovery = (evt: CustomEvent<{ id: PeerId; multiaddrs: { toString(): string }[] }>): void => {
      const wanted = peer();
      if (wanted !== undefined && evt.detail.id.equals(wanted)) {
        node.removeEventListener('peer:discovery', onDiscovery);
        resolve(evt.detail.multiaddrs.map((m) => m.toString()));
      }
    };
    node.addEventListener('peer:discovery', onDiscovery);
  });
}

/** Resolves when `node` has registered a new connection from or to `peer`. Attach before dialing. */
export function connectionOpened(node: ParleyNode, peer: PeerId): Promise<Connection> {
  return new Promise((resolve) => {
    const onOpen = (evt: CustomEvent<Connection>): void => {
      if (!evt.detail.remotePeer.equals(peer)) return;
      node.removeEventListener('connection:open', onOpen);
      resolve(evt.detail);
    };
    node.addEventListener('connection:open', onOpen);
  });
}

/** Resolves when `node` reports `connection` closed (at once if it already is). */
export function connectionClosed(node: ParleyNode, connection: Connection): Promise<void> {
  return new Promise((resolve) => {
    if (connection.status === 'closed') {
      resolve();
      return;
    }
    const onClose = (evt: CustomEvent<Connection>): void => {
      if (evt.detail.id !== connection.id) return;
      node.removeEventListener('connection:close', onClose);
      resolve();
    };
    node.addEventListener('connection:close', onClose);
  });
}

/**
 * Dials and resolves once the remote has refused us: the dial fails, or — because the
 * listener learns our PeerId only from the last Noise message, after our side has finished —
 * the connection it returned is closed by the remote.
 */
export async function refusedDial(from: ParleyNode, to: Multiaddr): Promise<void> {
  const connection = await from.dial(to, { force: true }).catch(() => undefined);
  if (connection === undefined) return;
  await within(5_000, 'the refused connection to close', connectionClosed(from, connection));
}

export interface RawOutcome {
  /** 'closed' when the remote closed cleanly, else the close error's name (StreamResetError…). */
  end: string;
  /** Bytes the remote sent back. */
  received: number;
}

/**
 * A hostile client: opens `protocol` on `to`, sends `bytes` exactly as given, optionally
 * half-closes, and reports how the remote ended the stream.
 */
export async function rawExchange(
  from: ParleyNode,
  to: ParleyNode,
  protocol: string,
  bytes: Uint8Array,
  { closeWrite = true }: { closeWrite?: boolean } = {},
): Promise<RawOutcome> {
  const stream = await from.dialProtocol(to.peerId, protocol, { signal: AbortSignal.timeout(5_000) });
  let received = 0;
  const ended = new Promise<string>((resolve) => {
    stream.addEventListener('close', (evt) => resolve(evt.error?.name ?? 'closed'), { once: true });
    // A remote that refuses at once may have reset the stream before we listened.
    if (stream.status === 'reset') resolve('StreamResetError');
  });
  stream.addEventListener('message', (evt) => {
    received += evt.data.byteLength;
  });
  try {
    try {
      if (bytes.byteLength > 0) stream.send(bytes);
      if (closeWrite) await stream.close();
    } catch {
      // Already reset by the remote (it may refuse before reading): `ended` says how.
    }
    return { end: await within(10_000, 'the remote to end the stream', ended), received };
  } finally {
    stream.abort(new Error('test done'));
  }
}
