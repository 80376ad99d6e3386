/**
 * The commands the network benchmark's controller sends to its peer processes
 * (bench/lib/net-peer.ts), one request and one reply each over Node's IPC channel. Times are
 * `process.hrtime` nanoseconds as numbers: CLOCK_MONOTONIC, the same clock in every process
 * of the machine, so a send in one peer and a receive in the other can be subtracted.
 *
 *   const alice = await PeerProcess.fork('alice');
 *   const { peerId } = await alice.call('core.start', { name: 'Alice' });
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CommitTotals, Span } from './net-phases';
import type { RequestResponseStats } from '../../src/main/net/request-response';

export interface CpuTimes {
  readonly userMs: number;
  readonly systemMs: number;
}

export interface Commands {
  // ── bare libp2p node ──
  'bare.start': { args: Record<string, never>; result: { peerId: string; addresses: string[] } };
  'bare.dial': { args: { address: string }; result: Record<string, never> };
  /** Per exchange: open a stream, send `bytes`, read the echo. Milliseconds per exchange. */
  'bare.rttNewStream': { args: { peerId: string; count: number; bytes: number }; result: { samplesMs: number[] } };
  /** One stream kept open, `count` echo exchanges on it. */
  'bare.rttReusedStream': { args: { peerId: string; count: number; bytes: number }; result: { samplesMs: number[] } };
  /** Parley's request-response helper (framing, limits, rate limiter) with an echo handler. */
  'bare.rttRequestResponse': { args: { peerId: string; count: number; bytes: number }; result: { samplesMs: number[] } };
  /** One stream, `count` frames of `bytes` one way; the receiver answers one byte at the end. */
  'bare.oneWay': { args: { peerId: string; count: number; bytes: number }; result: { seconds: number } };

  // ── Parley core ──
  'core.start': { args: { name: string }; result: { peerId: string; dataDir: string } };
  'core.waitNearby': { args: { peerId: string; timeoutMs: number }; result: { ms: number } };
  'core.request': { args: { peerId: string }; result: Record<string, never> };
  'core.waitRequest': { args: { timeoutMs: number }; result: { requestId: string } };
  'core.accept': { args: { requestId: string }; result: { conversationId: string } };
  'core.waitContact': { args: { timeoutMs: number }; result: { conversationId: string } };
  /** One `messages.send` through dispatchCommand; t0 before the call, t1 when it resolved. */
  'core.send': { args: { conversationId: string; body: string }; result: { id: string; t0: number; t1: number } };
  /** Resolves when a message with this body was received (or at once if it was). */
  'core.waitReceived': { args: { body: string; timeoutMs: number }; result: { t: number } };
  /**
   * `count` sends, one per event-loop turn (as commands arriving over IPC or WebSocket), with
   * at most `window` unanswered at a time (1: each waits for the previous one's result).
   * Bodies are `${prefix}${i} ` padded to `bytes`.
   */
  'core.sendMany': {
    args: { conversationId: string; prefix: string; count: number; bytes: number; window: number };
    result: { t0: number; t1: number; ids: string[] };
  };
  /** Resolves when `count` messages whose body starts with `prefix` were received; their arrival times. */
  'core.waitReceivedCount': { args: { prefix: string; count: number; timeoutMs: number }; result: { arrivals: number[] } };
  /** Resolves when every message id reached `state`; the time each did. */
  'core.waitStates': { args: { ids: string[]; state: 'sent' | 'delivered'; timeoutMs: number }; result: { times: number[] } };

  // ── both ──
  /** Spans, commit totals, CPU time and protocol counters since the last call (then reset). */
  'probe.take': {
    args: Record<string, never>;
    result: {
      spans: Span[];
      commits: CommitTotals;
      cpu: CpuTimes;
      services: Record<string, RequestResponseStats>;
      logs: Record<string, number>;
      /** Duplicate `message.received` events since the start (must be 0). */
      duplicates: number;
    };
  };
  /** Starts the V8 CPU profiler in the peer (only the phase between start and stop is profiled). */
  'profile.start': { args: Record<string, never>; result: Record<string, never> };
  /** Stops it and writes `${file}` (a .cpuprofile for Chrome DevTools). */
  'profile.stop': { args: { file: string }; result: Record<string, never> };
  stop: { args: Record<string, never>; result: Record<string, never> };
}

export type CommandName = keyof Commands;

export interface Request<C extends CommandName = CommandName> {
  readonly id: number;
  readonly command: C;
  readonly args: Commands[C]['args'];
}

export type Reply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

const PEER_ENTRY = fileURLToPath(new URL('./net-peer.ts', import.meta.url));

/** A peer process, driven by typed calls. Its stdout goes to our stderr: stdout carries only the result JSON. */
export class PeerProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; command: string }>();
  #next = 1;
  #exited: Error | undefined;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    child.on('message', (raw) => {
      const reply = raw as Reply;
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`${name} ${waiter.command}: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      this.#exited = new Error(`${name} exited (${signal ?? code})`);
      for (const waiter of this.#pending.values()) waiter.reject(this.#exited);
      this.#pending.clear();
    });
  }

  /**
   * Forks a peer with this process's Node flags (`--import tsx` …) plus `extraExecArgv`, in
   * which `{peer}` becomes the peer's name (`--cpu-prof-dir=/tmp/prof/{peer}`).
   */
  static fork(name: string, extraExecArgv: readonly string[] = []): PeerProcess {
    const child = fork(PEER_ENTRY, [name], {
      execArgv: [...process.execArgv, ...extraExecArgv.map((flag) => flag.replaceAll('{peer}', name))],
      stdio: ['ignore', 2, 2, 'ipc'],
      env: { ...process.env, BENCH_NET_PEER: name },
    });
    return new PeerProcess(name, child);
  }

  call<C extends CommandName>(command: C, args: Commands[C]['args']): Promise<Commands[C]['result']> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, command });
      const request: Request<C> = { id, command, args };
      this.#child.send(request);
    });
  }

  /** Asks the peer to stop, and kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    await Promise.race([this.call('stop', {}).catch(() => undefined), exited]);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
