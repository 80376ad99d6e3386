/**
 * The targets of issue 2 ("Benchmark"), and the comparison of a Parley result with a result of
 * the libsignal anchor (`../shared/bench/libsignal/bench.mjs`). Used by crypto.bench.ts for one
 * run and by alternate.ts for the medians of several.
 */
import { readFileSync } from 'node:fs';
import { round } from './timing';

/** The figures of a libsignal anchor run that Parley is compared with. */
export interface LibsignalFigures {
  readonly session_setups_per_s: number;
  readonly one_way_msgs_per_s: number;
  readonly ping_pong_msgs_per_s: number;
  readonly reverse_decrypt_us_per_msg: number;
  readonly sodium_aead_200B_per_s: number;
  readonly sodium_aead_64KiB_MBps: number;
}

/** The Parley figures the targets are about. */
export interface ParleyFigures {
  readonly session_setups_per_s: number;
  readonly one_way_msgs_per_s: number;
  readonly ping_pong_msgs_per_s: number;
  readonly reverse_decrypt_us_per_msg: number;
  readonly envelope_seal_open_per_s: number;
  readonly file_stream_MBps: number;
  readonly sodium_aead_200B_per_s: number;
  readonly sodium_aead_64KiB_MBps: number;
}

/** Issue 2: one-way ≥ 5×, ping-pong ≥ 1.2×, session setup ≥ 1.5× libsignal; files ≥ 70 % of raw AEAD. */
export const TARGETS = {
  one_way_vs_libsignal: 5,
  ping_pong_vs_libsignal: 1.2,
  session_setup_vs_libsignal: 1.5,
  file_stream_vs_raw_aead: 0.7,
} as const;

/** Reads the headline figures from a libsignal bench.mjs JSON output. */
export function readLibsignalResults(path: string): LibsignalFigures {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> & {
    out_of_order?: { reverse_decrypt_us_per_msg?: number };
  };
  const num = (value: unknown, name: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${path}: no numeric ${name}`);
    return value;
  };
  return {
    session_setups_per_s: num(raw.session_setups_per_s, 'session_setups_per_s'),
    one_way_msgs_per_s: num(raw.one_way_msgs_per_s, 'one_way_msgs_per_s'),
    ping_pong_msgs_per_s: num(raw.ping_pong_msgs_per_s, 'ping_pong_msgs_per_s'),
    reverse_decrypt_us_per_msg: num(raw.out_of_order?.reverse_decrypt_us_per_msg, 'out_of_order.reverse_decrypt_us_per_msg'),
    sodium_aead_200B_per_s: num(raw.sodium_aead_200B_per_s, 'sodium_aead_200B_per_s'),
    sodium_aead_64KiB_MBps: num(raw.sodium_aead_64KiB_MBps, 'sodium_aead_64KiB_MBps'),
  };
}

interface TargetCheck {
  readonly target: string;
  readonly required_ratio: number;
  readonly measured_ratio: number;
  readonly pass: boolean;
  /** How far off the target is, as a percentage of the figure needed (negative = short). */
  readonly margin_pct: number;
}

function check(target: string, required: number, measured: number): TargetCheck {
  return {
    target,
    required_ratio: required,
    measured_ratio: round(measured, 3),
    pass: measured >= required,
    margin_pct: round((measured / required - 1) * 100, 1),
  };
}

/**
 * Ratios of Parley to libsignal (above 1 = Parley faster; for the reverse decrypt, which is a
 * time, libsignal's time over Parley's) and the pass/fail of each target. The AEAD floors of
 * both runs are compared too: both measure libsodium 1.0.22, so a ratio far from 1 means the
 * machine was not equally loaded during the two runs.
 */
export function compareWithLibsignal(ours: ParleyFigures, libsignal: LibsignalFigures) {
  const vs = {
    session_setups: round(ours.session_setups_per_s / libsignal.session_setups_per_s, 3),
    one_way: round(ours.one_way_msgs_per_s / libsignal.one_way_msgs_per_s, 3),
    ping_pong: round(ours.ping_pong_msgs_per_s / libsignal.ping_pong_msgs_per_s, 3),
    reverse_decrypt_speedup: round(libsignal.reverse_decrypt_us_per_msg / ours.reverse_decrypt_us_per_msg, 3),
    aead_floor_200B_same_library: round(ours.sodium_aead_200B_per_s / libsignal.sodium_aead_200B_per_s, 3),
    aead_floor_64KiB_same_library: round(ours.sodium_aead_64KiB_MBps / libsignal.sodium_aead_64KiB_MBps, 3),
  };
  const fileRatio = ours.file_stream_MBps / ours.sodium_aead_64KiB_MBps;
  const targets = [
    check('one_way_msgs_per_s >= 5x libsignal', TARGETS.one_way_vs_libsignal, vs.one_way),
    check('ping_pong_msgs_per_s >= 1.2x libsignal', TARGETS.ping_pong_vs_libsignal, vs.ping_pong),
    check('session_setups_per_s >= 1.5x libsignal', TARGETS.session_setup_vs_libsignal, vs.session_setups),
    check('file_stream_MBps >= 70% of sodium_aead_64KiB_MBps (same run)', TARGETS.file_stream_vs_raw_aead, fileRatio),
  ];
  return { vs_libsignal: vs, targets, all_targets_pass: targets.every((t) => t.pass) };
}
