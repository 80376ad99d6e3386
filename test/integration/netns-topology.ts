/**
 * Network namespaces for the integration tests that put peers on networks of their own
 * (relay/netns.test.ts, mailbox/netns.test.ts, relay/dht-lookup.test.ts). Peers A and B each
 * get a namespace that reaches only the relay's namespace R, never the other:
 *
 *   A (10.N.1.1/30) ── veth ── (10.N.1.2/30) R (10.N.2.2/30) ── veth ── (10.N.2.1/30) B
 *                          relay address 10.N.0.1 on R's loopback (A and B route it via R)
 *
 * R does not forward IP (a new namespace never does), so every byte between A and B passes a
 * process running in R. The veths are born inside the new namespaces, so no interface of the
 * namespace the test runs in (let alone the host's) is touched; deleting the namespaces
 * deletes them. Needs root and iproute2: `unavailable()` says why not, and each test then
 * says so and skips, naming the loopback test that covers the same ground.
 *
 * @example
 * ```ts
 * const topology = new NetnsTopology('prd', 233);
 * const reason = unavailable();
 * describe.skipIf(reason !== undefined)('…', () => {
 *   beforeAll(() => topology.create());
 *   afterAll(() => topology.remove());
 *   it('…', () => { const relay = new NsProcess(topology.ns.r, [RELAY, …]); … });
 * });
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
/** How long one step waits for a line from a child process: tsx load and libp2p start on two busy cores. */
export const NS_STEP_TIMEOUT_MS = 30_000;

/** Runs `ip …`; throws with its stderr when it fails. */
export function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

/** Why namespaces cannot be made here, or undefined if they can. */
export function unavailable(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'iproute2 (ip) is not installed';
  return undefined;
}

/** The kernel's answer: namespace `ns` has a route to `address`. */
export function routes(ns: string, address: string): boolean {
  return spawnSync('ip', ['-n', ns, 'route', 'get', address], { stdio: 'ignore' }).status === 0;
}

/** The kernel's answer: namespace `ns` has no route to `address` (ENETUNREACH, not some other failure). */
export function unreachable(ns: string, address: string): boolean {
  const result = spawnSync('ip', ['-n', ns, 'route', 'get', address], { encoding: 'utf8' });
  return result.status !== 0 && /unreachable/i.test(result.stderr);
}

/** Whether namespace `ns` forwards IPv4 (a new namespace never does). */
export function forwardsIp(ns: string): boolean {
  const forward = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' });
  return forward.stdout.trim() !== '0';
}

export class NetnsTopology {
  readonly ns: { readonly a: string; readonly r: string; readonly b: string };
  readonly addr: { readonly a: string; readonly ra: string; readonly rb: string; readonly b: string; readonly relay: string };

  /**
   * `prefix` names the namespaces (a few letters per test file), `net` the second octet of
   * their addresses (one per test file, so a leftover namespace is easy to attribute).
   */
  constructor(prefix: string, net: number) {
    if (!Number.isInteger(net) || net < 0 || net > 255) throw new RangeError('net must be an octet');
    // Pid and randomness: two runs on one machine (or a leftover from a killed run) never clash.
    const suffix = `${process.pid.toString(36)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
    this.ns = { a: `${prefix}-${suffix}-a`, r: `${prefix}-${suffix}-r`, b: `${prefix}-${suffix}-b` };
    this.addr = { a: `10.${net}.1.1`, ra: `10.${net}.1.2`, rb: `10.${net}.2.2`, b: `10.${net}.2.1`, relay: `10.${net}.0.1` };
  }

  create(): void {
    this.remove();
    const { ns, addr } = this;
    for (const name of [ns.a, ns.r, ns.b]) {
      ip('netns', 'add', name);
      ip('-n', name, 'link', 'set', 'lo', 'up');
    }
    // Each pair is born inside R with its other end moved straight into A or B.
    ip('-n', ns.r, 'link', 'add', 'ra', 'type', 'veth', 'peer', 'name', 'a0', 'netns', ns.a);
    ip('-n', ns.r, 'link', 'add', 'rb', 'type', 'veth', 'peer', 'name', 'b0', 'netns', ns.b);
    ip('-n', ns.a, 'addr', 'add', `${addr.a}/30`, 'dev', 'a0');
    ip('-n', ns.r, 'addr', 'add', `${addr.ra}/30`, 'dev', 'ra');
    ip('-n', ns.r, 'addr', 'add', `${addr.rb}/30`, 'dev', 'rb');
    ip('-n', ns.b, 'addr', 'add', `${addr.b}/30`, 'dev', 'b0');
    // One relay address both sides can reach: on R's loopback, local to R, so no forwarding.
    ip('-n', ns.r, 'addr', 'add', `${addr.relay}/32`, 'dev', 'lo');
    for (const [name, dev] of [[ns.a, 'a0'], [ns.r, 'ra'], [ns.r, 'rb'], [ns.b, 'b0']] as const) ip('-n', name, 'link', 'set', dev, 'up');
    ip('-n', ns.a, 'route', 'add', `${addr.relay}/32`, 'via', addr.ra);
    ip('-n', ns.b, 'route', 'add', `${addr.relay}/32`, 'via', addr.rb);
  }

  /** Idempotent. Deleting a namespace deletes the veth ends inside it, and with them their peers. */
  remove(): void {
    for (const name of [this.ns.a, this.ns.r, this.ns.b]) spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

/** `node --import tsx ARGS…` inside namespace `ns`, in a process group of its own (so cleanup kills exactly it). */
export function spawnIn(ns: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', ...args], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env,
  });
}

/** SIGKILL to the child's process group, if it still runs. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A process inside a namespace, reading its stdout as JSON lines (or plain lines). */
export class NsProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(ns: string, args: string[], env?: NodeJS.ProcessEnv) {
    this.child = spawnIn(ns, args, env);
    this.exited = exitOf(this.child);
    let rest = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      this.lines.push(...parts);
      this.#wake();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.errors.push(chunk));
    this.child.once('exit', () => this.#wake());
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** The next stdout line (from `from` on) for which `pick` returns a value; waits for new lines, never polls. */
  async next<T>(what: string, pick: (line: string) => T | undefined, from = 0): Promise<T> {
    const deadline = Date.now() + NS_STEP_TIMEOUT_MS;
    for (;;) {
      for (const line of this.lines.slice(from)) {
        const value = pick(line);
        if (value !== undefined) return value;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`exited before ${what}: ${this.errors.join('')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}: ${this.errors.join('')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next JSON line that has `key`. */
  json<T>(what: string, key: string, from = 0): Promise<T> {
    return this.next(
      what,
      (line) => {
        if (!line.startsWith('{')) return undefined;
        const value = JSON.parse(line) as Record<string, unknown>;
        return key in value ? (value as T) : undefined;
      },
      from,
    );
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  kill(): void {
    killGroup(this.child);
  }
}
