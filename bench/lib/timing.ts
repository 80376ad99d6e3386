/**
 * Timing helpers for the benchmarks, matching the methodology of the libsignal anchor
 * (`../shared/bench/libsignal/bench.mjs`) so the figures can be set side by side: an untimed
 * warm-up, then a timed window of at least BENCH_SECONDS read with `process.hrtime.bigint`,
 * `batch` steps between clock reads, and a full GC between benchmarks (never inside a window).
 *
 *   const r = timed('one_way', () => sendOne(), { batch: 10 });   // r.per_s
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { OtherLoadMeter } from './environment';

/** Timed window per throughput figure, as libsignal's bench (BENCH_SECONDS, default 2 s). */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
/** Untimed warm-up before each window, as libsignal's bench (BENCH_WARMUP_SECONDS, default 0.3 s). */
export const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 0.3);

export interface TimedResult {
  readonly ops: number;
  readonly seconds: number;
  readonly per_s: number;
  /** Cores used by other processes during the timed window (Linux only): above ~0.2, distrust it. */
  readonly other_load_cores?: number;
}

export const log = (...parts: unknown[]): void => {
  process.stderr.write(parts.join(' ') + '\n');
};

export const now = (): bigint => process.hrtime.bigint();
export const secs = (ns: bigint): number => Number(ns) / 1e9;
export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

export interface TimedOptions {
  /** Steps between two clock reads, for microsecond-scale steps. */
  readonly batch?: number;
  readonly seconds?: number;
  /** Runs once between warm-up and the timed window (e.g. to start counting phases). */
  readonly afterWarmup?: () => void;
}

/**
 * Runs `step` for WARMUP_SECONDS untimed, then for at least `seconds` timed. Everything the
 * Parley crypto library does is synchronous, so steps are never awaited (libsignal's bench
 * likewise runs its synchronous libsodium steps without promises).
 */
export function timed(name: string, step: () => void, options: TimedOptions = {}): TimedResult {
  const { batch = 1, seconds = SECONDS, afterWarmup } = options;
  const warmEnd = now() + BigInt(Math.round(WARMUP_SECONDS * 1e9));
  while (now() < warmEnd) for (let i = 0; i < batch; i++) step();
  afterWarmup?.();
  const limit = BigInt(Math.round(seconds * 1e9));
  let ops = 0;
  const load = new OtherLoadMeter();
  const t0 = now();
  let t: bigint;
  do {
    for (let i = 0; i < batch; i++) step();
    ops += batch;
    t = now();
  } while (t - t0 < limit);
  const otherLoad = load.read();
  const s = secs(t - t0);
  const perS = ops / s;
  const loadNote = otherLoad === undefined ? '' : `, other load ${otherLoad.toFixed(2)} cores`;
  log(`  ${name}: ${ops} ops in ${s.toFixed(3)} s = ${perS.toFixed(1)}/s (${(1e6 / perS).toFixed(2)} us/op${loadNote})`);
  return { ops, seconds: s, per_s: perS, ...(otherLoad === undefined ? {} : { other_load_cores: otherLoad }) };
}

/** Mean time of `fn` in microseconds over `n` calls, after min(n, 200) warm-up calls. */
export function microseconds(n: number, fn: () => void): number {
  for (let i = 0; i < Math.min(200, n); i++) fn();
  const t0 = now();
  for (let i = 0; i < n; i++) fn();
  return (secs(now() - t0) * 1e6) / n;
}

// Full GC without starting node with --expose-gc, the same way libsignal's bench does it.
v8.setFlagsFromString('--expose-gc');
const gcFunction = vm.runInNewContext('gc') as () => void;
v8.setFlagsFromString('--no-expose-gc');

/** A full, synchronous garbage collection. Call it between benchmarks only. */
export function fullGc(): void {
  gcFunction();
}

/** Throws unless `got` equals `want` byte for byte: a benchmark never counts a wrong decrypt. */
export function assertEqualBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  if (got.length !== want.length || Buffer.compare(got, want) !== 0) {
    throw new Error(`plaintext mismatch in ${what}`);
  }
}

/** Running min / mean / max, for wire sizes that vary from message to message. */
export class SizeStats {
  #n = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  add(x: number): void {
    this.#n++;
    this.#sum += x;
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
  }

  out(): { min: number; mean: number; max: number } {
    return { min: this.#min, mean: round(this.#sum / this.#n), max: this.#max };
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
