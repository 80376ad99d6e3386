/**
 * One peer of the network benchmark, in its own process (so each side has its own event loop
 * and core, as two machines would): either a bare libp2p node (the baseline) or a full Parley
 * core. Driven over IPC by bench/net.bench.ts with the commands of net-ipc.ts; prints nothing
 * on stdout. Everything listens on 127.0.0.1 only.
 *
 *   forked by PeerProcess.fork(name) — never run by hand
 */
import '../../src/main/polyfills';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { startCore } from '../../src/main/core/core';
import { dispatchCommand } from '../../src/main/core/dispatch';
import type { Core, Logger } from '../../src/main/core/types';
import type { CommandArgs, CommandName as ApiCommand, CommandResult } from '../../src/shared';
import { bareHandlers, stopBare } from './net-bare';
import type { CommandName, Commands, Request } from './net-ipc';
import { installPhaseProbes, serviceStats, takeCommitTotals, takeSpans } from './net-phases';

/** The only address anything here listens on (ARCHITECTURE.md §10). */
const LOOPBACK = '/ip4/127.0.0.1/tcp/0';

const name = process.env.BENCH_NET_PEER ?? 'peer';
const now = (): number => Number(process.hrtime.bigint());
const verbose = process.env.BENCH_NET_LOG === '1';

/** Counts the core's log lines by message (codes only, as the core logs them), e.g. outbox back-offs. */
const logCounts: Record<string, number> = {};
const count = (level: string) => (message: string, fields?: Record<string, unknown>) => {
  const key = `${level}: ${message}`;
  logCounts[key] = (logCounts[key] ?? 0) + 1;
  if (verbose) process.stderr.write(`[${name}] ${key} ${fields ? JSON.stringify(fields) : ''}\n`);
};
const log: Logger = { info: count('info'), warn: count('warn'), error: count('error') };

let cpuMark = process.cpuUsage();

// ── CPU profile of one phase (BENCH_NET_PROFILE) ─────────────────────────────────────────────

let profiler: Session | undefined;
const post = (session: Session, method: string): Promise<unknown> =>
  new Promise((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result))));

// ── Parley core ──────────────────────────────────────────────────────────────────────────────

let core: Core | undefined;
let dataDir: string | undefined;
/** Arrival time of every received message by body. */
const receivedAt = new Map<string, number>();
/** Received bodies per benchmark prefix (the text before the first '#'). */
const receivedByPrefix = new Map<string, number[]>();
/** Time each outgoing message reached a state. */
const stateAt = { sent: new Map<string, number>(), delivered: new Map<string, number>() };
const waiters = new Set<() => void>();
/** `message.received` events for a body already received (should stay 0). */
let duplicates = 0;
let pendingRequestId: string | undefined;

function requireCore(): Core {
  if (!core) throw new Error('core not started');
  return core;
}

async function api<C extends ApiCommand>(command: C, args: CommandArgs<C>): Promise<CommandResult<C>> {
  const result = await dispatchCommand(requireCore().api, command, args, (c, e) => process.stderr.write(`[${name}] internal error in ${c}: ${String(e)}\n`));
  if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
  return result.value as CommandResult<C>;
}

/** Resolves once `check` returns a value; re-checked after every core event. */
function until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const first = check();
  if (first !== undefined) return Promise.resolve(first);
  return new Promise((resolve, reject) => {
    const waiter = (): void => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      waiters.delete(waiter);
      resolve(value);
    };
    const timer = setTimeout(() => {
      waiters.delete(waiter);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    waiters.add(waiter);
  });
}

/** Like `until`, for a condition only the API can answer: re-checked on events and every 100 ms. */
async function untilApi<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 100);
      function done(): void {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }
}

function onCoreEvent(event: string, payload: unknown): void {
  const t = now();
  if (event === 'message.received') {
    const body = (payload as { message: { body: string } }).message.body;
    // Every body is unique: a second event for one is a duplicate delivery, which must not count.
    if (receivedAt.has(body)) {
      duplicates++;
      return;
    }
    receivedAt.set(body, t);
    const prefix = body.slice(0, body.indexOf('#') + 1);
    let list = receivedByPrefix.get(prefix);
    if (!list) receivedByPrefix.set(prefix, (list = []));
    list.push(t);
  } else if (event === 'message.stateChanged') {
    const { messageId, state } = payload as { messageId: string; state: string };
    if (state === 'sent' || state === 'delivered') {
      if (!stateAt[state].has(messageId)) stateAt[state].set(messageId, t);
      // A receipt can overtake the outbox's own bookkeeping: delivered implies sent.
      if (state === 'delivered' && !stateAt.sent.has(messageId)) stateAt.sent.set(messageId, t);
    }
  } else if (event === 'contact.request') {
    pendingRequestId = (payload as { request: { id: string } }).request.id;
  }
  for (const waiter of [...waiters]) waiter();
}

function body(prefix: string, i: number, bytes: number): string {
  const head = `${prefix}${i} `;
  return head + 'x'.repeat(Math.max(0, bytes - head.length));
}

// ── commands ─────────────────────────────────────────────────────────────────────────────────

type Handlers = { [C in CommandName]: (args: Commands[C]['args']) => Promise<Commands[C]['result']> };

const handlers: Handlers = {
  ...bareHandlers,

  async 'core.start'({ name: displayName }) {
    installPhaseProbes();
    dataDir = mkdtempSync(path.join(process.env.BENCH_NET_DIR ?? tmpdir(), 'parley-net-bench-'));
    core = await startCore({ dataDir, listen: [LOOPBACK], lan: true, log });
    core.events.subscribe(onCoreEvent);
    const profile = await api('identity.create', { displayName, passphrase: `${displayName} bench passphrase` });
    return { peerId: profile.peerId, dataDir };
  },
  async 'core.waitNearby'({ peerId, timeoutMs }) {
    const t0 = Date.now();
    await untilApi(async () => (await api('nearby.list', {})).find((p) => p.peerId === peerId), timeoutMs, 'the other peer on mDNS');
    return { ms: Date.now() - t0 };
  },
  async 'core.request'({ peerId }) {
    await api('contacts.request', { peerId });
    return {};
  },
  async 'core.waitRequest'({ timeoutMs }) {
    const requestId = await until(() => pendingRequestId, timeoutMs, 'a contact request');
    return { requestId };
  },
  async 'core.accept'({ requestId }) {
    const contact = await api('contacts.accept', { requestId });
    return { conversationId: contact.conversationId };
  },
  async 'core.waitContact'({ timeoutMs }) {
    const contact = await untilApi(async () => (await api('contacts.list', {}))[0], timeoutMs, 'the contact to accept');
    return { conversationId: contact.conversationId };
  },
  async 'core.send'({ conversationId, body: text }) {
    const t0 = now();
    const message = await api('messages.send', { conversationId, body: text });
    return { id: message.id, t0, t1: now() };
  },
  async 'core.waitReceived'({ body: text, timeoutMs }) {
    const t = await until(() => receivedAt.get(text), timeoutMs, 'a message');
    return { t };
  },
  async 'core.sendMany'({ conversationId, prefix, count: n, bytes, window }) {
    const ids: string[] = new Array(n);
    const inFlight = new Set<Promise<void>>();
    const t0 = now();
    for (let i = 0; i < n; i++) {
      // Commands arrive one per event-loop turn, as they do over IPC or the WebSocket.
      await yieldToLoop();
      const sent = api('messages.send', { conversationId, body: body(prefix, i, bytes) }).then((m) => {
        ids[i] = m.id;
      });
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return { t0, t1: now(), ids };
  },
  async 'core.waitReceivedCount'({ prefix, count: n, timeoutMs }) {
    await until(() => ((receivedByPrefix.get(prefix)?.length ?? 0) >= n ? true : undefined), timeoutMs, `${n} messages`);
    return { arrivals: receivedByPrefix.get(prefix) ?? [] };
  },
  async 'core.waitStates'({ ids, state, timeoutMs }) {
    const map = stateAt[state];
    await until(() => (ids.every((id) => map.has(id)) ? true : undefined), timeoutMs, `every message ${state}`);
    return { times: ids.map((id) => map.get(id) as number) };
  },

  async 'profile.start'() {
    profiler ??= new Session();
    profiler.connect();
    await post(profiler, 'Profiler.enable');
    await post(profiler, 'Profiler.start');
    return {};
  },
  async 'profile.stop'({ file }) {
    if (!profiler) throw new Error('profiler not started');
    const { profile } = (await post(profiler, 'Profiler.stop')) as { profile: unknown };
    profiler.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return {};
  },
  async 'probe.take'() {
    const usage = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    const logs = { ...logCounts };
    for (const key of Object.keys(logCounts)) delete logCounts[key];
    return {
      spans: takeSpans(),
      commits: takeCommitTotals(),
      cpu: { userMs: usage.user / 1000, systemMs: usage.system / 1000 },
      services: serviceStats(),
      logs,
      duplicates,
    };
  },
  async stop() {
    await stopBare();
    await core?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    return {};
  },
};

process.on('message', (raw) => {
  const request = raw as Request;
  const handler = handlers[request.command] as (args: unknown) => Promise<unknown>;
  handler(request.args).then(
    (value) => {
      process.send?.({ id: request.id, ok: true, value });
      if (request.command === 'stop') process.disconnect();
    },
    (error: unknown) => process.send?.({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
// The controller went away: do not linger with a node listening.
process.on('disconnect', () => {
  void (async () => {
    try {
      await core?.stop();
      await stopBare();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    } finally {
      process.exit(0);
    }
  })();
});
