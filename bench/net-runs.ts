/**
 * Runs the network benchmark several times (each run through bench/net.mjs, so each in its own
 * network namespace) and prints the medians of the headline figures as one JSON object; every
 * run's JSON and log go to BENCH_OUT. A single run on a shared two-core machine is noisy: the
 * figure to report is the median.
 *
 *   npx tsx bench/net-runs.ts 3            # 3 runs, about 4 min
 *
 * Before each run it waits (at most BENCH_QUIET_WAIT_S, default 60 s) until the rest of the
 * machine uses less than BENCH_QUIET_CORES (default 0.5) cores, and records what it saw.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MachineMeter } from './lib/net-env';
import { median, round } from './lib/net-stats';

const runs = Number(process.argv[2] ?? 3);
const quietCores = Number(process.env.BENCH_QUIET_CORES ?? 0.5);
const quietWaitS = Number(process.env.BENCH_QUIET_WAIT_S ?? 60);
const out = process.env.BENCH_OUT ?? mkdtempSync(path.join(tmpdir(), 'parley-net-runs-'));
mkdirSync(out, { recursive: true });
const launcher = path.resolve(import.meta.dirname, 'net.mjs');
const log = (line: string): void => void process.stderr.write(`[bench:net runs] ${line}\n`);

async function waitForQuiet(): Promise<number | undefined> {
  const deadline = Date.now() + quietWaitS * 1000;
  let other: number | undefined;
  do {
    const meter = new MachineMeter();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    other = meter.otherCores(0);
    if (other === undefined || other < quietCores) return other;
    log(`machine busy (${other} cores used by others); waiting`);
  } while (Date.now() < deadline);
  return other;
}

interface RunResult {
  latency_ms: { p50: number; p99: number; mean: number };
  persisted_msgs_per_s: number;
  persisted_msgs_per_s_one_send_at_a_time: number;
  bare_stream_rtt_ms: { p50: number; p99: number };
  bare_one_way_frames_per_s: number;
  latency_p50_vs_bare_rtt: number;
  latency_detail: { quiet_latency_ms: { p50: number; p99: number }; other_load_cores: number | null };
  throughput_detail: { other_load_cores: number | null };
  targets: { target: string; pass: boolean }[];
  env: { src_fingerprint: string; node: string; cpu_model: string };
}

const results: RunResult[] = [];
const loadBefore: (number | null)[] = [];
for (let i = 1; i <= runs; i++) {
  loadBefore.push((await waitForQuiet()) ?? null);
  log(`run ${i}/${runs}`);
  const run = spawnSync(process.execPath, [launcher], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(path.join(out, `run${i}.json`), run.stdout);
  writeFileSync(path.join(out, `run${i}.log`), run.stderr);
  if (run.status !== 0) {
    log(`run ${i} failed (exit ${run.status}); see ${path.join(out, `run${i}.log`)}`);
    process.exit(1);
  }
  results.push(JSON.parse(readFileSync(path.join(out, `run${i}.json`), 'utf8')) as RunResult);
}

const med = (pick: (r: RunResult) => number, digits = 3): number => round(median(results.map(pick)), digits);
const medians = {
  latency_p50_ms: med((r) => r.latency_ms.p50),
  latency_p99_ms: med((r) => r.latency_ms.p99),
  latency_mean_ms: med((r) => r.latency_ms.mean),
  quiet_latency_p50_ms: med((r) => r.latency_detail.quiet_latency_ms.p50),
  quiet_latency_p99_ms: med((r) => r.latency_detail.quiet_latency_ms.p99),
  persisted_msgs_per_s: med((r) => r.persisted_msgs_per_s, 0),
  persisted_msgs_per_s_one_send_at_a_time: med((r) => r.persisted_msgs_per_s_one_send_at_a_time, 0),
  bare_stream_rtt_p50_ms: med((r) => r.bare_stream_rtt_ms.p50),
  bare_stream_rtt_p99_ms: med((r) => r.bare_stream_rtt_ms.p99),
  bare_one_way_frames_per_s: med((r) => r.bare_one_way_frames_per_s, 0),
  latency_p50_vs_bare_rtt: med((r) => r.latency_p50_vs_bare_rtt, 2),
};
const fingerprints = [...new Set(results.map((r) => r.env.src_fingerprint))];
const summary = {
  runs,
  medians,
  targets: {
    'latency p50 < 5 ms': medians.latency_p50_ms < 5,
    'latency p99 < 25 ms': medians.latency_p99_ms < 25,
    'persisted >= 1000 msg/s': medians.persisted_msgs_per_s >= 1000,
    'latency p50 <= 3x bare stream RTT p50': medians.latency_p50_vs_bare_rtt <= 3,
  },
  per_run: results.map((r, i) => ({
    latency_p50_ms: r.latency_ms.p50,
    latency_p99_ms: r.latency_ms.p99,
    persisted_msgs_per_s: r.persisted_msgs_per_s,
    bare_stream_rtt_p50_ms: r.bare_stream_rtt_ms.p50,
    other_load_cores_before: loadBefore[i],
    other_load_cores_latency: r.latency_detail.other_load_cores,
    other_load_cores_throughput: r.throughput_detail.other_load_cores,
  })),
  ...(fingerprints.length > 1 ? { warning: 'src/ changed between runs: the medians mix code versions' } : {}),
  src_fingerprints: fingerprints,
  env: { node: results[0]?.env.node, cpu_model: results[0]?.env.cpu_model },
  out,
};
writeFileSync(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2));
process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
