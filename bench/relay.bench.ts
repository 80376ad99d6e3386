/**
 * `npm run bench:relay` (through bench/relay.mjs, which enters a private network namespace
 * first): what relays cost (issue 5, "Benchmark"). Prints one JSON object on stdout; progress
 * on stderr. Loopback only.
 *
 * Every Parley core and the relay run as processes of their own (each its own event loop, as
 * separate machines would have): the relay is `src/main/relay/relay.ts`, the cores
 * `test/integration/mailbox/netns-core.ts` (a core driven by JSON lines).
 *
 * Figures:
 * - latency_ms.relayed / .direct  `messages.send` on A → `message.received` on B, one message at
 *   a time, for a pair that accepts no inbound connection (every byte through the relay) and,
 *   in the same run, a pair listening on loopback (connected directly after the introduction).
 * - mailbox.deposit_per_s         envelopes (1 KiB bucket) deposited into one mailbox by
 *   BENCH_RELAY_DEPOSIT_SENDERS clients, one request in flight each. The relay's per-sender
 *   deposit limit is raised for the run (by default 10/s per sender: that is policy, not
 *   capacity); its per-peer request limit (200 at once, then 50/s) stays, and each sender
 *   stays within its burst.
 * - mailbox.fetch_ack_per_s       the same envelopes fetched (all pages) and acknowledged.
 * - relay_rss_mib                 the relay's resident memory: idle, with BENCH_RELAY_CLIENTS
 *   clients holding reservations, and with BENCH_RELAY_STORED envelopes stored besides.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import '../src/main/polyfills';
import { multiaddr } from '@multiformats/multiaddr';
import { initCrypto, randomBytes } from '../src/crypto';
import { createParleyNode, generateDeviceKey, type ParleyNode } from '../src/main/net';
import { MailboxClient, MailboxKey } from '../src/main/net/protocols/mailbox';
import type { CommandArgs, CommandName, CommandResult, EventName, Result } from '../src/shared';

const num = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 1) throw new Error(`${name} must be a positive number`);
  return Math.floor(value);
};
const LATENCY_N = num('BENCH_RELAY_LATENCY_N', 200);
const WARMUP_N = 10;
const DEPOSIT_N = num('BENCH_RELAY_DEPOSIT_N', 2000);
const DEPOSIT_SENDERS = num('BENCH_RELAY_DEPOSIT_SENDERS', 16);
const CLIENTS = num('BENCH_RELAY_CLIENTS', 200);
const STORED = num('BENCH_RELAY_STORED', 10_000);
/** A short text message pads to this envelope bucket. */
const ENVELOPE_BYTES = 1024;
/** Mailboxes the stored envelopes are spread over (a mailbox holds 1,000 by default). */
const STORED_MAILBOXES = Math.ceil(STORED / 1000);
/**
 * New connections to the relay per second: every client here comes from 127.0.0.1, and a
 * relay refuses more than INBOUND_CONNECTION_THRESHOLD (5) new connections a second from one host.
 */
const CONNECTS_PER_S = 4;

const REPO = path.resolve(import.meta.dirname, '..');
const RELAY = path.join(REPO, 'src/main/relay/relay.ts');
const CORE = path.join(REPO, 'test/integration/mailbox/netns-core.ts');
const START_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 60_000;

const progress = (what: string): void => void process.stderr.write(`[bench:relay] ${what}\n`);
const children = new Set<ChildProcess>();
const dirs: string[] = [];
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function child(args: string[]): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  proc.stderr?.resume();
  return proc;
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The relay node as an operator runs it, with the given extra flags. */
async function startRelayProcess(extra: string[]): Promise<{ proc: ChildProcess; address: string }> {
  const port = await freePort();
  const proc = child([RELAY, '--data', tempDir('parley-bench-relay-'), '--listen', `/ip4/127.0.0.1/tcp/${port}`, ...extra]);
  const address = await within(
    START_TIMEOUT_MS,
    'the relay',
    new Promise<string>((resolve) => {
      let out = '';
      proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.startsWith('/ip4/127.0.0.1/'));
        if (line) resolve(line.trim());
      });
    }),
  );
  return { proc, address };
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : NaN;
}

/** A core process (netns-core.ts) driven by JSON lines. */
class CoreProcess {
  readonly proc: ChildProcess;
  conversationId = '';
  readonly #pending = new Map<number, (r: Result<unknown>) => void>();
  readonly #listeners = new Set<(event: string, payload: unknown) => void>();
  readonly ready: Promise<void>;
  #id = 1;

  constructor(listen: string[]) {
    this.proc = child([CORE, '--data', tempDir('parley-bench-core-'), ...listen.flatMap((l) => ['--listen', l])]);
    let rest = '';
    let ready: () => void = () => undefined;
    this.ready = within(START_TIMEOUT_MS, 'a core', new Promise<void>((resolve) => (ready = resolve)));
    this.proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const frame = JSON.parse(line) as { ready?: boolean; id?: number; result?: Result<unknown>; event?: string; payload?: unknown };
        if (frame.ready) ready();
        else if (frame.id !== undefined) this.#pending.get(frame.id)?.(frame.result as Result<unknown>);
        else if (frame.event !== undefined) for (const l of this.#listeners) l(frame.event, frame.payload);
      }
    });
  }

  async call<C extends CommandName>(command: C, args?: CommandArgs<C>): Promise<CommandResult<C>> {
    const id = this.#id++;
    const answer = new Promise<Result<unknown>>((resolve) => this.#pending.set(id, resolve));
    this.proc.stdin?.write(`${JSON.stringify({ id, op: 'call', command, args: args ?? {} })}\n`);
    const result = await within(CALL_TIMEOUT_MS, command, answer).finally(() => this.#pending.delete(id));
    if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
    return result.value as CommandResult<C>;
  }

  on(event: EventName, listener: (payload: unknown) => void): () => void {
    const wrapped = (name: string, payload: unknown): void => {
      if (name === event) listener(payload);
    };
    this.#listeners.add(wrapped);
    return () => this.#listeners.delete(wrapped);
  }
}

/** Two cores that become contacts through B's invite link, reaching each other via the relay. */
async function pair(relay: string, listen: string[]): Promise<{ a: CoreProcess; b: CoreProcess }> {
  const a = new CoreProcess(listen);
  const b = new CoreProcess(listen);
  await Promise.all([a.ready, b.ready]);
  await Promise.all([
    a.call('identity.create', { displayName: 'A', passphrase: 'bench passphrase a' }),
    b.call('identity.create', { displayName: 'B', passphrase: 'bench passphrase b' }),
  ]);
  for (const core of [a, b]) {
    await core.call('settings.update', { relays: [relay] });
    await until('a reservation', async () => ((await core.call('network.status')).relays[0]?.reserved ? true : undefined));
  }
  const { profile } = await b.call('identity.status');
  a.conversationId = (await a.call('contacts.addFromInvite', { link: profile?.inviteLink ?? '' })).conversationId;
  const contact = await until('B’s new contact', async () => (await b.call('contacts.list'))[0]);
  b.conversationId = contact.conversationId;
  return { a, b };
}

/** One message at a time, A → B: milliseconds from the send call to B's received event. */
async function latency(a: CoreProcess, b: CoreProcess, n: number): Promise<{ samples: number[]; paths: Record<string, number> }> {
  const samples: number[] = [];
  const paths: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    let resolve: (path: string) => void = () => undefined;
    const arrived = new Promise<string>((r) => (resolve = r));
    const off = b.on('message.received', (payload) => resolve((payload as { message: { path?: string } }).message.path ?? 'none'));
    const start = performance.now();
    await a.call('messages.send', { conversationId: a.conversationId, body: `bench ${i}` });
    const path = await within(CALL_TIMEOUT_MS, 'a message', arrived);
    samples.push(performance.now() - start);
    off();
    paths[path] = (paths[path] ?? 0) + 1;
  }
  return { samples, paths };
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[i] as number) * 100) / 100;
}

function summary(samples: number[]): { n: number; p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((x, y) => x - y);
  const mean = samples.reduce((s, v) => s + v, 0) / samples.length;
  return { n: samples.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: Math.round(mean * 100) / 100 };
}

async function clientNode(relays: string[] = []): Promise<ParleyNode> {
  const node = await createParleyNode({ privateKey: await generateDeviceKey(), listen: [], lan: false, relays });
  return node;
}

/** Starts `count` client nodes (optionally reserving on `relays`), paced to CONNECTS_PER_S. */
async function startClients(count: number, relays: string[] = []): Promise<ParleyNode[]> {
  const nodes: ParleyNode[] = [];
  const reservations: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const node = await clientNode(relays);
    if (relays.length > 0) {
      reservations.push(
        within(
          START_TIMEOUT_MS,
          'a reservation',
          new Promise<void>((resolve) => {
            const check = (): void => {
              if (node.getMultiaddrs().some((m) => m.toString().includes('/p2p-circuit'))) resolve();
            };
            node.addEventListener('self:peer:update', check);
          }),
        ),
      );
    }
    await node.start();
    nodes.push(node);
    await new Promise((r) => setTimeout(r, 1000 / CONNECTS_PER_S));
  }
  await Promise.all(reservations);
  return nodes;
}

/** Runs `task(i)` for i in 0..n-1 with at most `concurrency` in flight. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

const RAISED_LIMITS = [
  '--deposit-burst', '1000000', '--deposit-rate', '1000000',
  '--mailbox-max-envelopes', '100000', '--mailbox-max-bytes', '1GiB',
  '--depositor-max-envelopes', '100000', '--depositor-max-bytes', '1GiB',
  '--max-reservations', String(CLIENTS + 16), '--max-connections', String(CLIENTS + 64),
];

async function main(): Promise<void> {
  await initCrypto();
  const started = Date.now();

  // ── latency: relayed beside direct ─────────────────────────────────────────────────────
  const relay = await startRelayProcess(RAISED_LIMITS);
  progress('pairs: relayed (dial-only) and direct (listening on loopback)');
  const relayed = await pair(relay.address, []);
  const direct = await pair(relay.address, ['/ip4/127.0.0.1/tcp/0']);
  // The direct pair met through the relay; wait for its direct connection (identify or DCUtR).
  await latency(direct.a, direct.b, WARMUP_N);
  await until('a direct connection', async () => {
    const { connections } = await direct.a.call('network.status');
    return connections.some((c) => c.path !== 'relayed' && !relay.address.endsWith(c.peerId)) ? true : undefined;
  });
  await latency(relayed.a, relayed.b, WARMUP_N);
  progress(`latency: ${LATENCY_N} messages each way of measuring, alternating pairs in blocks of 20`);
  const runs = { relayed: { samples: [] as number[], paths: {} as Record<string, number> }, direct: { samples: [] as number[], paths: {} as Record<string, number> } };
  for (let done = 0; done < LATENCY_N; done += 20) {
    for (const [name, p] of [['relayed', relayed], ['direct', direct]] as const) {
      const r = await latency(p.a, p.b, Math.min(20, LATENCY_N - done));
      runs[name].samples.push(...r.samples);
      for (const [k, v] of Object.entries(r.paths)) runs[name].paths[k] = (runs[name].paths[k] ?? 0) + v;
    }
  }
  for (const p of [relayed, direct]) for (const core of [p.a, p.b]) core.proc.stdin?.end();

  // ── mailbox throughput ─────────────────────────────────────────────────────────────────
  progress(`mailbox: ${DEPOSIT_N} deposits from ${DEPOSIT_SENDERS} senders, then fetch and acknowledge`);
  const senders = await startClients(DEPOSIT_SENDERS);
  const relayAddr = multiaddr(relay.address);
  const key = MailboxKey.fromSeed(randomBytes(32));
  const envelope = randomBytes(ENVELOPE_BYTES);
  const perSender = senders.map((node) => new MailboxClient(node));
  // Connections and streams warmed up (paced); these count among the fetched envelopes.
  for (const m of perSender) {
    await m.deposit(relayAddr, key.id, envelope);
    await new Promise((r) => setTimeout(r, 1000 / CONNECTS_PER_S));
  }
  const depositStart = performance.now();
  await Promise.all(
    perSender.map(async (m, s) => {
      for (let i = s; i < DEPOSIT_N; i += DEPOSIT_SENDERS) await m.deposit(relayAddr, key.id, envelope);
    }),
  );
  const depositSeconds = (performance.now() - depositStart) / 1000;
  const owner = perSender[0] as MailboxClient;
  const fetchStart = performance.now();
  const fetched = await owner.fetchAll(relayAddr, key);
  const deleted = await owner.ack(relayAddr, key, fetched.map((e) => e.id));
  const fetchSeconds = (performance.now() - fetchStart) / 1000;
  await Promise.all(senders.map((s) => s.stop()));
  relay.proc.kill('SIGTERM');

  // ── relay memory ───────────────────────────────────────────────────────────────────────
  progress(`memory: a fresh relay, ${CLIENTS} clients with reservations, then ${STORED} stored envelopes`);
  const memRelay = await startRelayProcess(RAISED_LIMITS);
  const pid = memRelay.proc.pid as number;
  await new Promise((r) => setTimeout(r, 1000));
  const idle = rssMiB(pid);
  const clients = await startClients(CLIENTS, [memRelay.address]);
  await new Promise((r) => setTimeout(r, 1000));
  const withReservations = rssMiB(pid);
  const depositors = clients.map((node) => new MailboxClient(node));
  const keys = Array.from({ length: STORED_MAILBOXES }, () => MailboxKey.fromSeed(randomBytes(32)));
  await pool(STORED, 16, async (i) => {
    // Round robin: one request in flight per client (a relay serves a few streams per
    // connection at once), and STORED / CLIENTS deposits each, within its request burst.
    const depositor = depositors[i % depositors.length] as MailboxClient;
    await depositor.deposit(multiaddr(memRelay.address), (keys[i % STORED_MAILBOXES] as MailboxKey).id, randomBytes(ENVELOPE_BYTES));
  });
  await new Promise((r) => setTimeout(r, 1000));
  const withStored = rssMiB(pid);
  const connected = clients.filter((c) => c.getConnections().length > 0).length;
  await Promise.all(clients.map((c) => c.stop()));
  memRelay.proc.kill('SIGTERM');

  const result = {
    benchmark: 'relay',
    node: process.version,
    seconds: Math.round((Date.now() - started) / 1000),
    latency_ms: {
      relayed: { ...summary(runs.relayed.samples), paths: runs.relayed.paths },
      direct: { ...summary(runs.direct.samples), paths: runs.direct.paths },
    },
    mailbox: {
      envelope_bytes: ENVELOPE_BYTES,
      deposits: DEPOSIT_N,
      deposit_senders: DEPOSIT_SENDERS,
      deposit_per_s: Math.round(DEPOSIT_N / depositSeconds),
      fetched: fetched.length,
      acknowledged: deleted,
      fetch_ack_per_s: Math.round(fetched.length / fetchSeconds),
    },
    relay_rss_mib: { idle, clients: CLIENTS, clients_connected_at_end: connected, with_reservations: withReservations, stored_envelopes: STORED, with_reservations_and_stored: withStored },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
