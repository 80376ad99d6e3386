/**
 * `npm run bench:net` (through bench/net.mjs, which enters a private network namespace first):
 * Parley's end-to-end messaging over loopback beside a bare libp2p stream baseline measured in
 * the same run (issue 3, "Benchmark"). Prints one JSON object on stdout; progress on stderr.
 *
 * Four peer processes, two at a time, each with its own event loop (as two machines would
 * have): two bare libp2p nodes (TCP, Noise, yamux, the same node factory as the app), then two
 * Parley cores that find each other by mDNS and become contacts through the API.
 *
 * Figures:
 * - latency_ms          `messages.send` called on A → `message.received` fired on B, one
 *                       message at a time (the next is sent once B has the previous one).
 * - persisted_msgs_per_s  A sends BENCH_NET_THROUGHPUT_N messages as fast as the API takes
 *                       them; counted as B fires `message.received` (after B's commit).
 * - bare_*              the same node stack without Parley: a new stream per 200 B echo
 *                       (what each msg batch costs at least), a reused stream, Parley's
 *                       request-response helper, and one-way 200 B frames.
 * See bench/README.md ("Network benchmark") for the method and the knobs.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MSG_PROTOCOL } from '../src/main/net/protocols/msg/constants';
import { latencyPhases, spanTotals, syncTotals } from './lib/net-analysis';
import { describeEnvironment, MachineMeter } from './lib/net-env';
import { PeerProcess, type Commands } from './lib/net-ipc';
import { round, steadyRate, summarize } from './lib/net-stats';

const num = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

const CONFIG = {
  latencyMessages: num('BENCH_NET_LATENCY_N', 400),
  warmupMessages: num('BENCH_NET_WARMUP_N', 30),
  quietMessages: num('BENCH_NET_QUIET_N', 200),
  throughputMessages: num('BENCH_NET_THROUGHPUT_N', 5000),
  bareExchanges: num('BENCH_NET_BARE_N', 500),
  bareOneWayFrames: num('BENCH_NET_BARE_ONEWAY_N', 50_000),
  bodyBytes: num('BENCH_NET_BODY_BYTES', 200),
  /** Sends unanswered at a time in the headline throughput run. */
  window: num('BENCH_NET_WINDOW', 64),
} as const;

/** Issue 3: p50 < 5 ms, p99 < 25 ms, ≥ 1,000 persisted msg/s, p50 ≤ 3× the bare-stream round trip. */
export const NET_TARGETS = {
  latency_p50_ms: 5,
  latency_p99_ms: 25,
  persisted_msgs_per_s: 1000,
  latency_p50_vs_bare_rtt: 3,
} as const;

const WAIT_MS = 60_000;
const log = (...parts: unknown[]): void => void process.stderr.write(`[bench:net] ${parts.join(' ')}\n`);
/**
 * Extra Node flags for the peer processes, `{peer}` replaced by the peer's name, e.g.
 * BENCH_NET_PEER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof/{peer}".
 */
const peerFlags = (process.env.BENCH_NET_PEER_FLAGS ?? '').split(' ').filter(Boolean);

/** BENCH_NET_PROFILE=DIR: a CPU profile of each core per phase, DIR/<phase>-<peer>.cpuprofile. */
const PROFILE_DIR = process.env.BENCH_NET_PROFILE;

async function profileStart(...peers: PeerProcess[]): Promise<void> {
  if (PROFILE_DIR) await Promise.all(peers.map((p) => p.call('profile.start', {})));
}

async function profileStop(phase: string, ...peers: PeerProcess[]): Promise<void> {
  if (!PROFILE_DIR) return;
  mkdirSync(PROFILE_DIR, { recursive: true });
  await Promise.all(peers.map((p) => p.call('profile.stop', { file: path.resolve(PROFILE_DIR, `${phase}-${p.name}.cpuprofile`) })));
}

type Probe = Commands['probe.take']['result'];
const cpuSeconds = (...probes: Probe[]): number => probes.reduce((a, p) => a + (p.cpu.userMs + p.cpu.systemMs) / 1000, 0);
/** CPU milliseconds per message of one peer process (user, system, total). */
const cpuPerMessage = (p: Probe, n: number) => ({
  user: round(p.cpu.userMs / n),
  system: round(p.cpu.systemMs / n),
  total: round((p.cpu.userMs + p.cpu.systemMs) / n),
});

async function bareBaseline() {
  const a = PeerProcess.fork('bare-a', peerFlags);
  const b = PeerProcess.fork('bare-b', peerFlags);
  try {
    const [, server] = await Promise.all([a.call('bare.start', {}), b.call('bare.start', {})]);
    const address = server.addresses.find((x) => x.startsWith('/ip4/127.0.0.1/'));
    if (!address) throw new Error('the bare node has no loopback address');
    await a.call('bare.dial', { address: address.includes('/p2p/') ? address : `${address}/p2p/${server.peerId}` });
    const args = { peerId: server.peerId, bytes: CONFIG.bodyBytes };
    log('bare: warm-up');
    await a.call('bare.rttNewStream', { ...args, count: 100 });
    await a.call('bare.rttRequestResponse', { ...args, count: 100 });
    await a.call('bare.rttReusedStream', { ...args, count: 100 });
    await a.call('probe.take', {});
    await b.call('probe.take', {});
    const meter = new MachineMeter();
    log(`bare: ${CONFIG.bareExchanges} exchanges each way of measuring`);
    const newStream = summarize((await a.call('bare.rttNewStream', { ...args, count: CONFIG.bareExchanges })).samplesMs);
    const reused = summarize((await a.call('bare.rttReusedStream', { ...args, count: CONFIG.bareExchanges })).samplesMs);
    const requestResponse = summarize((await a.call('bare.rttRequestResponse', { ...args, count: CONFIG.bareExchanges })).samplesMs);
    log(`bare: ${CONFIG.bareOneWayFrames} one-way frames`);
    const { seconds } = await a.call('bare.oneWay', { ...args, count: CONFIG.bareOneWayFrames });
    const other = meter.otherCores(cpuSeconds(await a.call('probe.take', {}), await b.call('probe.take', {})));
    log(`bare: new-stream RTT p50 ${newStream.p50} ms, reused ${reused.p50} ms, request-response ${requestResponse.p50} ms, one-way ${Math.round(CONFIG.bareOneWayFrames / seconds)} frames/s`);
    return {
      bare_stream_rtt_ms: newStream,
      bare_reused_stream_rtt_ms: reused,
      bare_request_response_rtt_ms: requestResponse,
      bare_one_way_frames_per_s: Math.round(CONFIG.bareOneWayFrames / seconds),
      bare_one_way_MBps: round((CONFIG.bareOneWayFrames * CONFIG.bodyBytes) / seconds / 1e6, 2),
      other_load_cores: other ?? null,
    };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function becomeContacts(alice: PeerProcess, bob: PeerProcess) {
  const t0 = Date.now();
  const [, b] = await Promise.all([alice.call('core.start', { name: 'Alice' }), bob.call('core.start', { name: 'Bob' })]);
  const started = Date.now();
  const { ms: discoveryMs } = await alice.call('core.waitNearby', { peerId: b.peerId, timeoutMs: WAIT_MS });
  await alice.call('core.request', { peerId: b.peerId });
  const { requestId } = await bob.call('core.waitRequest', { timeoutMs: WAIT_MS });
  const { conversationId: bobConversation } = await bob.call('core.accept', { requestId });
  const { conversationId: aliceConversation } = await alice.call('core.waitContact', { timeoutMs: WAIT_MS });
  log(`cores: contacts after ${Date.now() - t0} ms (identities ${started - t0} ms, mDNS ${discoveryMs} ms)`);
  return { aliceConversation, bobConversation, setup: { identities_ms: started - t0, discovery_ms: discoveryMs, total_ms: Date.now() - t0 } };
}

/**
 * One message at a time: send on A, wait for B's event, next. With `quiet`, the next waits
 * also for A to have B's delivery receipt, so no receipt traffic overlaps the next message.
 */
async function oneAtATime(alice: PeerProcess, bob: PeerProcess, conversationId: string, prefix: string, count: number, quiet = false) {
  const sends: { id: string; t0: number; t1: number; received: number }[] = [];
  for (let i = 0; i < count; i++) {
    const body = `${prefix}${i} ` + 'x'.repeat(Math.max(0, CONFIG.bodyBytes - `${prefix}${i} `.length));
    const [got, sent] = await Promise.all([bob.call('core.waitReceived', { body, timeoutMs: WAIT_MS }), alice.call('core.send', { conversationId, body })]);
    sends.push({ ...sent, received: got.t });
    if (quiet) await alice.call('core.waitStates', { ids: [sent.id], state: 'delivered', timeoutMs: WAIT_MS });
  }
  return sends;
}

/**
 * A sends CONFIG.throughputMessages messages with at most `window` sends unanswered; the rate
 * is counted from the first send to B's last `message.received` (B has committed each).
 */
async function throughput(alice: PeerProcess, bob: PeerProcess, conversationId: string, prefix: string, window: number) {
  const n = CONFIG.throughputMessages;
  log(`cores: throughput, ${n} messages one way, ${window} send(s) in flight`);
  await Promise.all([alice.call('probe.take', {}), bob.call('probe.take', {})]);
  const meter = new MachineMeter();
  await profileStart(alice, bob);
  const [arrived, sent] = await Promise.all([
    bob.call('core.waitReceivedCount', { prefix, count: n, timeoutMs: 10 * WAIT_MS }),
    alice.call('core.sendMany', { conversationId, prefix, count: n, bytes: CONFIG.bodyBytes, window }),
  ]);
  await profileStop(`throughput-${window}`, alice, bob);
  const persistedSeconds = (Math.max(...arrived.arrivals) - sent.t0) / 1e9;
  const allDelivered = await alice.call('core.waitStates', { ids: sent.ids, state: 'delivered', timeoutMs: 10 * WAIT_MS });
  const [a, b] = await Promise.all([alice.call('probe.take', {}), bob.call('probe.take', {})]);
  if (a.duplicates + b.duplicates > 0) throw new Error('a message was received twice: the figures would count it twice');
  const perS = Math.round(n / persistedSeconds);
  const accepted = Math.round(n / ((sent.t1 - sent.t0) / 1e9));
  log(`cores: ${perS} persisted msg/s (the API took them at ${accepted}/s)`);
  return {
    persisted_msgs_per_s: perS,
    messages: n,
    sends_in_flight: window,
    body_bytes: CONFIG.bodyBytes,
    persisted_seconds: round(persistedSeconds, 3),
    steady_msgs_per_s_10_to_90pct: Math.round(steadyRate(arrived.arrivals)),
    api_accept_msgs_per_s: accepted,
    all_delivered_receipts_seconds: round((Math.max(...allDelivered.times) - sent.t0) / 1e9, 3),
    sender: {
      cpu_ms_per_msg: cpuPerMessage(a, n),
      send_store: spanTotals(a.spans, 'send.store'),
      msg_requests: spanTotals(a.spans, 'msg.request'),
      other_transactions: spanTotals(a.spans, 'other.txn'),
      receipt_batches_received: spanTotals(a.spans, 'recv.store'),
      syncs: syncTotals(a.spans),
      commits: a.commits,
    },
    receiver: {
      cpu_ms_per_msg: cpuPerMessage(b, n),
      receive_store: spanTotals(b.spans, 'recv.store'),
      receipt_requests: spanTotals(b.spans, 'msg.request'),
      other_transactions: spanTotals(b.spans, 'other.txn'),
      syncs: syncTotals(b.spans),
      commits: b.commits,
    },
    msg_service: { sender: a.services[MSG_PROTOCOL] ?? null, receiver: b.services[MSG_PROTOCOL] ?? null },
    core_log: { sender: a.logs, receiver: b.logs },
    other_load_cores: meter.otherCores(cpuSeconds(a, b)) ?? null,
  };
}

async function coreBenchmark() {
  const alice = PeerProcess.fork('alice', peerFlags);
  const bob = PeerProcess.fork('bob', peerFlags);
  try {
    const { aliceConversation, setup } = await becomeContacts(alice, bob);

    log(`cores: ${CONFIG.warmupMessages} warm-up messages`);
    const warm = await oneAtATime(alice, bob, aliceConversation, 'warm#', CONFIG.warmupMessages);
    await alice.call('core.waitStates', { ids: warm.map((s) => s.id), state: 'delivered', timeoutMs: WAIT_MS });
    await Promise.all([alice.call('probe.take', {}), bob.call('probe.take', {})]);

    log(`cores: latency, ${CONFIG.latencyMessages} messages one at a time`);
    const meter = new MachineMeter();
    await profileStart(alice, bob);
    const sends = await oneAtATime(alice, bob, aliceConversation, 'lat#', CONFIG.latencyMessages);
    await profileStop('latency', alice, bob);
    const delivered = await alice.call('core.waitStates', { ids: sends.map((s) => s.id), state: 'delivered', timeoutMs: WAIT_MS });
    const [aLat, bLat] = await Promise.all([alice.call('probe.take', {}), bob.call('probe.take', {})]);
    const latencyOther = meter.otherCores(cpuSeconds(aLat, bLat));
    const latency = summarize(sends.map((s) => (s.received - s.t0) / 1e6));
    log(`cores: latency p50 ${latency.p50} ms, p99 ${latency.p99} ms`);

    log(`cores: quiet latency, ${CONFIG.quietMessages} messages, each after the previous one's receipt`);
    const quietSends = await oneAtATime(alice, bob, aliceConversation, 'quiet#', CONFIG.quietMessages, true);
    const [aQuiet, bQuiet] = await Promise.all([alice.call('probe.take', {}), bob.call('probe.take', {})]);
    const quiet = summarize(quietSends.map((s) => (s.received - s.t0) / 1e6));
    const quietPhases = latencyPhases(quietSends, aQuiet.spans, bQuiet.spans, MSG_PROTOCOL);
    log(`cores: quiet latency p50 ${quiet.p50} ms, p99 ${quiet.p99} ms`);

    const pipelined = await throughput(alice, bob, aliceConversation, 'tp#', CONFIG.window);
    const sequential = await throughput(alice, bob, aliceConversation, 'seq#', 1);

    return {
      setup,
      latency_ms: latency,
      latency_detail: {
        send_call_ms: summarize(sends.map((s) => (s.t1 - s.t0) / 1e6)),
        delivered_receipt_ms: summarize(sends.map((s, i) => ((delivered.times[i] as number) - s.t0) / 1e6)),
        where_time_goes: latencyPhases(sends, aLat.spans, bLat.spans, MSG_PROTOCOL),
        quiet_latency_ms: quiet,
        quiet_where_time_goes: {
          matched: quietPhases.matched,
          unmatched: quietPhases.unmatched,
          phases_ms: quietPhases.phases_ms,
          after_event_ms: quietPhases.after_event_ms,
        },
        sender: {
          cpu_ms_per_msg: cpuPerMessage(aLat, sends.length),
          commits: aLat.commits,
          syncs: syncTotals(aLat.spans),
          msg_requests: spanTotals(aLat.spans, 'msg.request'),
        },
        receiver: { cpu_ms_per_msg: cpuPerMessage(bLat, sends.length), commits: bLat.commits, syncs: syncTotals(bLat.spans) },
        msg_service: { sender: aLat.services[MSG_PROTOCOL] ?? null, receiver: bLat.services[MSG_PROTOCOL] ?? null },
        core_log: { sender: aLat.logs, receiver: bLat.logs },
        other_load_cores: latencyOther ?? null,
      },
      persisted_msgs_per_s: pipelined.persisted_msgs_per_s,
      throughput_detail: pipelined,
      throughput_sequential_detail: sequential,
    };
  } finally {
    await Promise.all([alice.stop(), bob.stop()]);
  }
}

function check(target: string, pass: boolean, measured: number, required: number) {
  return { target, measured, required, pass };
}

async function main(): Promise<void> {
  const dataRoot = mkdtempSync(path.join(process.env.BENCH_NET_DIR ?? tmpdir(), 'parley-net-'));
  process.env.BENCH_NET_DIR = dataRoot;
  try {
    const env = describeEnvironment(dataRoot);
    log(`node ${env.node} on ${env.cpu_model} (${env.cpus} cores), netns ${env.netns ?? 'none'}, data on ${env.data_dir_fs}`);
    const bare = await bareBaseline();
    const core = await coreBenchmark();
    const ratio = core.latency_ms.p50 / bare.bare_stream_rtt_ms.p50;
    const targets = [
      check('latency p50 < 5 ms', core.latency_ms.p50 < NET_TARGETS.latency_p50_ms, core.latency_ms.p50, NET_TARGETS.latency_p50_ms),
      check('latency p99 < 25 ms', core.latency_ms.p99 < NET_TARGETS.latency_p99_ms, core.latency_ms.p99, NET_TARGETS.latency_p99_ms),
      check('persisted >= 1000 msg/s', core.persisted_msgs_per_s >= NET_TARGETS.persisted_msgs_per_s, core.persisted_msgs_per_s, NET_TARGETS.persisted_msgs_per_s),
      check('latency p50 <= 3x bare stream RTT p50', ratio <= NET_TARGETS.latency_p50_vs_bare_rtt, round(ratio, 2), NET_TARGETS.latency_p50_vs_bare_rtt),
    ];
    const result = {
      benchmark: 'parley-net',
      latency_ms: core.latency_ms,
      quiet_latency_ms: core.latency_detail.quiet_latency_ms,
      persisted_msgs_per_s: core.persisted_msgs_per_s,
      persisted_msgs_per_s_one_send_at_a_time: core.throughput_sequential_detail.persisted_msgs_per_s,
      bare_stream_rtt_ms: bare.bare_stream_rtt_ms,
      bare_one_way_frames_per_s: bare.bare_one_way_frames_per_s,
      latency_p50_vs_bare_rtt: round(ratio, 2),
      targets,
      all_targets_pass: targets.every((t) => t.pass),
      baseline: bare,
      latency_detail: core.latency_detail,
      throughput_detail: core.throughput_detail,
      throughput_sequential_detail: core.throughput_sequential_detail,
      setup: core.setup,
      config: CONFIG,
      env: { ...env, loadavg_1m_end: Math.round((await import('node:os')).loadavg()[0]! * 100) / 100 },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log('failed:', error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
