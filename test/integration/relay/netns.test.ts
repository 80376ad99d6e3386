/**
 * Peers A and B in network namespaces of their own that cannot route to each other, joined
 * only through a relay namespace R:
 *
 *   A (10.231.1.1/30) ── veth ── (10.231.1.2/30) R (10.231.2.2/30) ── veth ── (10.231.2.1/30) B
 *
 * R does not forward IP (a new namespace never does), and A and B know only their own /30, so
 * A reaches B only through the relay node running in R: circuit relay for a live stream, the
 * mailbox for envelopes. The namespaces and veth pairs are made here and removed afterwards;
 * the veths are created inside the new namespaces, so no interface of the namespace the test
 * runs in (let alone the host's) is touched. Needs root and iproute2; elsewhere it says so
 * and skips (circuit.test.ts covers the same on loopback).
 */
import '../../../src/main/polyfills';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCrypto, randomBytes, toHex } from '../../../src/crypto';
import { MailboxKey } from '../../../src/main/net/protocols/mailbox';
import { Relays, canaryEnvelope } from './fixtures';

const REPO = path.resolve(import.meta.dirname, '../../..');
const PEER = path.join(REPO, 'test/integration/relay/netns-peer.ts');
const RELAY = path.join(REPO, 'src/main/relay/relay.ts');
const STEP_TIMEOUT_MS = 30_000;

const suffix = `${process.pid.toString(36)}${toHexQuick(4)}`;
const NS = { a: `prl-${suffix}-a`, r: `prl-${suffix}-r`, b: `prl-${suffix}-b` } as const;
const ADDR = { a: '10.231.1.1', ra: '10.231.1.2', rb: '10.231.2.2', b: '10.231.2.1' } as const;

function toHexQuick(bytes: number): string {
  return Array.from({ length: bytes }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');
}

function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

/** Why namespaces cannot be made here, or undefined if they can. */
function unavailable(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'iproute2 (ip) is not installed';
  return undefined;
}

function createTopology(): void {
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  // Each pair is born inside R with its other end moved straight into A or B.
  ip('-n', NS.r, 'link', 'add', 'ra', 'type', 'veth', 'peer', 'name', 'a0', 'netns', NS.a);
  ip('-n', NS.r, 'link', 'add', 'rb', 'type', 'veth', 'peer', 'name', 'b0', 'netns', NS.b);
  ip('-n', NS.a, 'addr', 'add', `${ADDR.a}/30`, 'dev', 'a0');
  ip('-n', NS.r, 'addr', 'add', `${ADDR.ra}/30`, 'dev', 'ra');
  ip('-n', NS.r, 'addr', 'add', `${ADDR.rb}/30`, 'dev', 'rb');
  ip('-n', NS.b, 'addr', 'add', `${ADDR.b}/30`, 'dev', 'b0');
  for (const [ns, dev] of [[NS.a, 'a0'], [NS.r, 'ra'], [NS.r, 'rb'], [NS.b, 'b0']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
}

function removeTopology(): void {
  // Deleting a namespace deletes the veth ends inside it, and with them their peers.
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

/** A process inside a namespace, reading its stdout as JSON lines (or plain lines). */
class NsProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(ns: string, args: string[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', ...args], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    let rest = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.errors.push(chunk));
  }

  /** The next stdout line (from `from` on) for which `pick` returns a value. */
  async next<T>(what: string, pick: (line: string) => T | undefined, from = 0): Promise<T> {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      for (const line of this.lines.slice(from)) {
        const value = pick(line);
        if (value !== undefined) return value;
      }
      if (this.child.exitCode !== null) throw new Error(`exited before ${what}: ${this.errors.join('')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${this.errors.join('')}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 250).unref();
      });
    }
  }

  json<T>(what: string, key: string): Promise<T> {
    return this.next(what, (line) => {
      if (!line.startsWith('{')) return undefined;
      const value = JSON.parse(line) as Record<string, unknown>;
      return key in value ? (value as T) : undefined;
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  kill(): void {
    if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

const reason = unavailable();
if (reason !== undefined) console.warn(`[netns.test] network namespaces unavailable (${reason}): skipped; circuit.test.ts runs the relay path on loopback`);

describe.skipIf(reason !== undefined)('relay - separate network namespaces', () => {
  const processes: NsProcess[] = [];
  const folders = new Relays();

  beforeAll(() => {
    removeTopology();
    createTopology();
  });

  afterAll(async () => {
    for (const p of processes) p.kill();
    await Promise.all(processes.map((p) => p.exited));
    removeTopology();
    await folders.stopAll();
  });

  it('relay - the namespaces route only through R: A cannot reach B directly', () => {
    // The kernel's own answer: a route to R's side, none to B (ENETUNREACH), and the same from B.
    expect(spawnSync('ip', ['-n', NS.a, 'route', 'get', ADDR.ra]).status).toBe(0);
    expect(spawnSync('ip', ['-n', NS.a, 'route', 'get', ADDR.b], { encoding: 'utf8' }).stderr).toMatch(/unreachable/i);
    expect(spawnSync('ip', ['-n', NS.b, 'route', 'get', ADDR.a], { encoding: 'utf8' }).stderr).toMatch(/unreachable/i);
    const forward = spawnSync('ip', ['netns', 'exec', NS.r, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' });
    expect(forward.stdout.trim()).toBe('0');
  });

  it('relay - A reaches B only through the relay in R: a relayed stream, and envelopes through B’s mailbox', async () => {
    await initCrypto();
    const relay = new NsProcess(NS.r, [
      RELAY,
      '--data',
      folders.tempDir(),
      '--listen',
      `/ip4/${ADDR.ra}/tcp/0`,
      '--listen',
      `/ip4/${ADDR.rb}/tcp/0`,
    ]);
    processes.push(relay);
    const relayForA = await relay.next('the relay address on A’s side', (l) => (l.startsWith(`/ip4/${ADDR.ra}/`) ? l : undefined));
    const relayForB = await relay.next('the relay address on B’s side', (l) => (l.startsWith(`/ip4/${ADDR.rb}/`) ? l : undefined));

    const seed = randomBytes(32);
    const key = MailboxKey.fromSeed(seed);
    const b = new NsProcess(NS.b, [PEER, 'behind', '--relay', relayForB, '--listen', `/ip4/${ADDR.b}/tcp/0`, '--seed', toHex(seed)]);
    processes.push(b);
    const { circuit, direct } = await b.json<{ circuit: string; direct: string }>('B’s reservation', 'circuit');
    const bPeerId = circuit.split('/p2p/').at(-1) as string;
    expect(direct).toMatch(new RegExp(`^/ip4/${ADDR.b.replaceAll('.', '\\.')}/tcp/\\d+/p2p/${bPeerId}$`));

    const envelopes = Array.from({ length: 5 }, () => canaryEnvelope(512).envelope);
    const a = new NsProcess(NS.a, [
      PEER,
      'caller',
      '--relay',
      relayForA,
      '--circuit',
      `${relayForA}/p2p-circuit/p2p/${bPeerId}`,
      '--direct',
      direct,
      '--mailbox',
      toHex(key.id),
      ...envelopes.flatMap((e) => ['--envelope', toHex(e)]),
    ]);
    processes.push(a);
    const result = await a.json<{ directError: string; echo: string; limited: boolean; deposited: number }>('A’s report', 'echo');
    expect(result.directError).not.toBe('none');
    expect(result).toMatchObject({ echo: 'through the relay', limited: true, deposited: 5 });
    expect(await a.exited).toBe(0);

    b.send('fetch');
    const fetched = await b.json<{ fetched: string[]; limitedEchoes: number }>('B’s mailbox fetch', 'fetched');
    expect(fetched.fetched).toEqual(envelopes.map(toHex));
    expect(fetched.limitedEchoes).toBe(1);
    b.send('stop');
    expect(await b.exited).toBe(0);

    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
    const log = relay.errors.join('');
    expect(log).toMatch(/mailbox deposit status=ok/);
    expect(log).toMatch(/mailbox ack status=ok mailbox=[0-9a-f]{8} count=5/);
    expect(log).not.toContain(toHex(key.id).slice(0, 16));
  });
});
