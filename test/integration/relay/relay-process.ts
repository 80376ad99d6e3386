/**
 * A relay as a separate process, the way an operator runs it: `npm run relay -- …` (or, where
 * the test must SIGKILL the relay itself, `node --import tsx src/main/relay/relay.ts …`, so the
 * pid is the relay's and not npm's). Each child leads its own process group, so cleanup can
 * kill exactly what this module started and nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../../..');
const ENTRY = path.join(REPO, 'src/main/relay/relay.ts');
/** tsx load (~1 s) plus libp2p start, on two busy cores. */
const START_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 15_000;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

/** SIGKILLs every relay process group this module started that is still running. */
export async function killAllRelayProcesses(): Promise<void> {
  await Promise.all(
    [...live].map((child) => {
      const exited = exitOf(child);
      killGroup(child, 'SIGKILL');
      return exited;
    }),
  );
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export interface RelayProcessOptions {
  dir: string;
  /** Extra flags after --data and --listen. */
  args?: string[];
  /** Through `npm run relay` (default) or straight `node --import tsx`. */
  via?: 'npm' | 'node';
}

export class RelayProcess {
  readonly child: ChildProcess;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #via: 'npm' | 'node';

  private constructor(child: ChildProcess, via: 'npm' | 'node') {
    this.child = child;
    this.#via = via;
    this.exited = exitOf(child).finally(() => live.delete(child));
    lines(child.stdout, this.stdout);
    lines(child.stderr, this.stderr);
  }

  /** Spawns the relay without waiting for it (for usage errors). */
  static spawn(argv: string[], via: 'npm' | 'node' = 'npm'): RelayProcess {
    const [command, args] =
      via === 'npm' ? ['npm', ['run', 'relay', '--', ...argv]] : [process.execPath, ['--import', 'tsx', ENTRY, ...argv]];
    const child = spawn(command as string, args as string[], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, DEBUG: '' },
    });
    live.add(child);
    return new RelayProcess(child, via);
  }

  /** Starts a relay on loopback and resolves once it has printed its addresses. */
  static async start(options: RelayProcessOptions): Promise<RelayProcess> {
    const relay = RelayProcess.spawn(
      ['--data', options.dir, '--listen', '/ip4/127.0.0.1/tcp/0', ...(options.args ?? [])],
      options.via ?? 'npm',
    );
    await relay.#waitFor(() => relay.addresses.length > 0, 'its addresses', START_TIMEOUT_MS);
    return relay;
  }

  /** The multiaddrs the relay printed (npm's own banner lines do not start with '/'). */
  get addresses(): string[] {
    return this.stdout.filter((line) => line.startsWith('/'));
  }

  get log(): string {
    return this.stderr.join('\n');
  }

  /** Sends `signal` to the process we started (npm forwards it to the relay) and waits for the exit status. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.#withTimeout(this.exited, `exit after ${signal}`, EXIT_TIMEOUT_MS);
  }

  /** Kills the relay at once, no clean stop (a crash). Only for relays started `via: 'node'`. */
  async crash(): Promise<void> {
    if (this.#via !== 'node') throw new Error('crash() needs the relay pid: start it via node');
    killGroup(this.child, 'SIGKILL');
    await this.#withTimeout(this.exited, 'exit after SIGKILL', EXIT_TIMEOUT_MS);
  }

  #waitFor(ready: () => boolean, what: string, ms: number): Promise<void> {
    return this.#withTimeout(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (ready()) {
            cleanup();
            resolve();
          }
        };
        const onExit = (code: number | null): void => {
          cleanup();
          reject(new Error(`relay exited (${code}) before ${what}:\n${this.log}`));
        };
        const cleanup = (): void => {
          this.child.stdout?.off('data', onData);
          this.child.off('exit', onExit);
        };
        // Registered after the line splitter (constructor), so the new line is already stored.
        const onData = (): void => check();
        this.child.stdout?.on('data', onData);
        this.child.once('exit', onExit);
        check();
      }),
      what,
      ms,
    );
  }

  async #withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`relay: timed out after ${ms} ms waiting for ${what}:\n${this.log}`)), ms);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function lines(stream: NodeJS.ReadableStream | null, into: string[]): void {
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    into.push(...parts);
  });
  stream?.on('end', () => {
    if (rest !== '') into.push(rest);
  });
}
