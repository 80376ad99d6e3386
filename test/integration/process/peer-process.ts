/**
 * A Parley peer as a separate process: `node --import tsx src/main/headless/serve.ts` on its own
 * data folder, listening for peers on loopback only, driven through the headless WebSocket API
 * exactly as the browser UI drives it (token from the printed URL, `Origin` header). It can be
 * killed (SIGKILL or SIGTERM) and restarted on the same folder, unlocking with its passphrase.
 *
 * Run only inside a loopback-only network namespace (scripts/in-netns.sh, ARCHITECTURE.md §10):
 * the peers multicast mDNS.
 *
 * @example
 * ```ts
 * const alice = await PeerProcess.start({ name: 'alice', passphrase: 'alice pw' });
 * await alice.call('identity.create', { displayName: 'Alice', passphrase: 'alice pw' });
 * const seen = alice.waitFor('nearby.changed', (e) => e.peers.length > 0);
 * await alice.kill('SIGKILL');
 * await alice.restart();            // same folder, unlocked with the passphrase at start
 * afterEach(() => killAllPeerProcesses());
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import type { ApiErrorCode, CommandArgs, CommandName, CommandResult, EventName, EventPayload, Result } from '../../../src/shared';

const REPO = path.resolve(import.meta.dirname, '../../..');
const SERVE = path.join(REPO, 'src/main/headless/serve.ts');
/** Peers listen on loopback only, ever (the brief and ARCHITECTURE.md §10). */
export const LOOPBACK_LISTEN = '/ip4/127.0.0.1/tcp/0';
/** Start = tsx load (~1 s) + Argon2id unlock at MODERATE limits (~1 s) + libp2p start; on 2 busy cores, more. */
const START_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 30_000;
/** Lines of the child's stderr kept for failure messages. */
const STDERR_LINES = 40;
/** Everything the peer wrote to stderr over all its runs, up to this much (checked for leaks). */
const STDERR_ALL_CHARS = 4 * 1024 * 1024;

/** Every child still running, so a failing test never leaves a peer behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** SIGKILLs every peer process this module started that is still running, and waits for them. */
export async function killAllPeerProcesses(): Promise<void> {
  await Promise.all([...live].map((child) => killChild(child, 'SIGKILL')));
}

export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly command: string,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(`${command}: ${code} ${message}`);
  }
}

/** The peer exited (or hung) before printing its URL: `exitCode` is its status, if it exited. */
export class PeerStartError extends Error {
  override readonly name = 'PeerStartError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${message}\n--- stderr ---\n${stderr}`);
  }
}

export interface PeerProcessOptions {
  /** Label in failure messages. */
  readonly name: string;
  /** Used to unlock at every start once an identity exists (`PARLEY_PASSPHRASE`). */
  readonly passphrase: string;
  /** Data folder; a fresh temporary one by default. */
  readonly dir?: string;
  /** mDNS on (the default). */
  readonly lan?: boolean;
}

type Listener = (event: string, payload: unknown) => void;

export class PeerProcess {
  readonly name: string;
  readonly dir: string;
  readonly #options: PeerProcessOptions;
  #child: ChildProcess | undefined;
  #ws: WebSocket | undefined;
  #stderr: string[] = [];
  #stderrAll = '';
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (r: Result<unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly #listeners = new Set<Listener>();

  private constructor(options: PeerProcessOptions, dir: string) {
    this.#options = options;
    this.name = options.name;
    this.dir = dir;
  }

  /** Starts a peer process and connects to its API. */
  static async start(options: PeerProcessOptions): Promise<PeerProcess> {
    const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), `parley-proc-${options.name}-`));
    const peer = new PeerProcess(options, dir);
    await peer.#launch();
    return peer;
  }

  get passphrase(): string {
    return this.#options.passphrase;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Everything the process wrote to stderr, over every run (its diagnostic log). */
  get stderrAll(): string {
    return this.#stderrAll;
  }

  /** The last lines the process wrote to stderr (its diagnostic log). */
  get stderrTail(): string {
    return this.#stderr.join('\n');
  }

  async #launch(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.#stderr = [];
    const args = ['--import', 'tsx', SERVE, '--data', this.dir, '--listen', LOOPBACK_LISTEN];
    if (this.#options.lan === false) args.push('--no-lan');
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, PARLEY_PASSPHRASE: this.#options.passphrase },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.#stderrAll.length < STDERR_ALL_CHARS) this.#stderrAll += chunk;
      this.#stderr.push(...chunk.split('\n').filter((l) => l !== ''));
      if (this.#stderr.length > STDERR_LINES) this.#stderr.splice(0, this.#stderr.length - STDERR_LINES);
    });
    const url = await this.#readUrl(child);
    await this.#connect(url);
  }

  /** The one stdout line: `http://127.0.0.1:PORT/#token=TOKEN`. */
  #readUrl(child: ChildProcess): Promise<URL> {
    return new Promise((resolve, reject) => {
      let buffered = '';
      const fail = (why: string, exitCode: number | null = null): void => {
        cleanup();
        reject(new PeerStartError(`${this.name}: ${why}`, exitCode, this.stderrTail));
      };
      const onData = (chunk: string): void => {
        buffered += chunk;
        const newline = buffered.indexOf('\n');
        if (newline < 0) return;
        cleanup();
        // Nothing else is expected on stdout; keep draining it so the child can never block on it.
        child.stdout?.resume();
        try {
          resolve(new URL(buffered.slice(0, newline).trim()));
        } catch {
          reject(new Error(`${this.name}: not a URL on stdout: ${buffered.slice(0, 200)}`));
        }
      };
      const onExit = (code: number | null, signal: string | null): void => fail(`exited before printing its URL (${code ?? signal})`, code);
      const timer = setTimeout(() => {
        fail('did not print its URL in time');
        child.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('close', onExit);
      };
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', onData);
      // 'close', not 'exit': by then all of stderr has been read, for the error message.
      child.once('close', onExit);
    });
  }

  async #connect(url: URL): Promise<void> {
    const token = new URLSearchParams(url.hash.slice(1)).get('token');
    if (url.hostname !== '127.0.0.1' || !token) throw new Error(`${this.name}: unexpected URL ${url.href}`);
    const ws = new WebSocket(`ws://${url.host}/api?token=${encodeURIComponent(token)}`, { origin: `http://${url.host}` });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`${this.name}: WebSocket refused with ${res.statusCode}`)));
    });
    ws.on('error', () => {});
    ws.on('message', (data) => this.#onFrame(String(data)));
    ws.on('close', () => {
      if (this.#ws === ws) this.#ws = undefined;
      this.#failPending(new Error(`${this.name}: API socket closed`));
    });
    this.#ws = ws;
  }

  #onFrame(text: string): void {
    const frame = JSON.parse(text) as { type: string; id?: number; result?: Result<unknown>; event?: string; payload?: unknown };
    if (frame.type === 'response' && frame.id !== undefined) {
      const pending = this.#pending.get(frame.id);
      if (!pending) return;
      this.#pending.delete(frame.id);
      clearTimeout(pending.timer);
      pending.resolve(frame.result as Result<unknown>);
    } else if (frame.type === 'event' && frame.event !== undefined) {
      for (const listener of [...this.#listeners]) listener(frame.event, frame.payload);
    }
  }

  #failPending(error: Error): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
  }

  /** Sends any command with any arguments (also malformed ones) and returns the raw Result. */
  request(command: string, args?: unknown): Promise<Result<unknown>> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`${this.name}: not connected`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: no response to ${command} in time`));
      }, CALL_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ type: 'request', id, command, ...(args === undefined ? {} : { args }) }));
    });
  }

  /** A typed command; a failure Result throws ApiCallError carrying its code. */
  async call<C extends CommandName>(command: C, args?: CommandArgs<C>): Promise<CommandResult<C>> {
    const result = await this.request(command, args ?? {});
    if (!result.ok) throw new ApiCallError(command, result.error.code, result.error.message);
    return result.value as CommandResult<C>;
  }

  /** Calls `handler` for every `event` from now on; returns the unsubscribe function. */
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
    const listener: Listener = (name, payload) => {
      if (name === event) handler(payload as EventPayload<E>);
    };
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The next `event` whose payload matches; rejects after `timeoutMs`. Subscribe before acting. */
  waitFor<E extends EventName>(event: E, match: (payload: EventPayload<E>) => boolean = () => true, timeoutMs = 20_000): Promise<EventPayload<E>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${event}`));
      }, timeoutMs);
      const off = this.on(event, (payload) => {
        if (!match(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }

  /**
   * Records every `event` from now on (on this and later connections, across restarts) and
   * lets a test wait until the record satisfies a condition, re-checked on each new event.
   */
  record<E extends EventName>(event: E): EventRecord<EventPayload<E>> {
    const record = new EventRecord<EventPayload<E>>(`${this.name} ${event}`);
    record.stop = this.on(event, (payload) => record.push(payload));
    return record;
  }

  /** Sends `signal` and waits for the process to exit; the API socket goes with it. */
  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child) return;
    await killChild(child, signal);
    this.#ws?.terminate();
    this.#ws = undefined;
    this.#failPending(new Error(`${this.name}: killed`));
  }

  /** Starts the peer again on the same data folder (it unlocks with its passphrase at start). */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`${this.name}: kill it before restarting`);
    await this.#launch();
  }

  /** Kills the process if it runs and deletes its data folder. */
  async dispose(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Polls `check` until it returns a value (state, not events, is what matters); bounded. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Payloads of one event in arrival order, with a bounded wait on a condition over them. */
export class EventRecord<P> {
  readonly items: P[] = [];
  stop: () => void = () => {};
  readonly #what: string;
  readonly #waiters = new Set<() => void>();

  constructor(what: string) {
    this.#what = what;
  }

  push(payload: P): void {
    this.items.push(payload);
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves once `condition(items)` holds (checked now and after every new event). */
  until(condition: (items: readonly P[]) => boolean, timeoutMs = 30_000): Promise<void> {
    if (condition(this.items)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition(this.items)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting on ${this.#what} (${this.items.length} recorded)`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }
}
