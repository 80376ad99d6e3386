/**
 * What a benchmark result must say about where it was measured: package versions, which
 * version of src/crypto ran (other engineers edit it while benchmarks run, so two results are
 * only comparable when this fingerprint matches), and how busy the machine was.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * SHA-256 (first 16 hex digits) over the library sources of src/crypto (tests excluded), in
 * path order: the same fingerprint means the same crypto code was measured.
 */
export function cryptoSourceFingerprint(): string {
  const root = join(REPO_ROOT, 'src', 'crypto');
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !/\.test(-util)?\.ts$/.test(entry.name) && !entry.name.includes('.test.')) files.push(path);
    }
  };
  walk(root);
  const hash = createHash('sha256');
  for (const path of files.sort()) {
    hash.update(path.slice(root.length)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** USER_HZ: the unit of /proc/stat and /proc/self/stat times on Linux. */
const CLOCK_TICKS_PER_S = 100;

/** Busy CPU time of the whole machine so far, in seconds, from /proc/stat; undefined off Linux. */
function machineBusySeconds(): number | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
    return (fields.reduce((a, b) => a + b, 0) - idle) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** CPU seconds of this process's children that have been waited for (cutime + cstime). */
export function childrenCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of proc(5); index 13 and 14 after the ")" that ends field 2.
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

/**
 * Measures the load that is not ours: machine busy time minus the CPU time of this process
 * (and, with `includeChildren`, of its finished children), per second of wall time, in cores.
 * A benchmark window during which other processes used a noticeable share of the two cores
 * is not comparable with one measured on a quiet machine.
 */
export class OtherLoadMeter {
  readonly #includeChildren: boolean;
  #busy: number | undefined;
  #own = 0;
  #wall = 0n;

  constructor(includeChildren = false) {
    this.#includeChildren = includeChildren;
    this.start();
  }

  #ownSeconds(): number {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6 + (this.#includeChildren ? childrenCpuSeconds() : 0);
  }

  start(): void {
    this.#busy = machineBusySeconds();
    this.#own = this.#ownSeconds();
    this.#wall = process.hrtime.bigint();
  }

  /** Cores used by other processes since start(), rounded to 0.01; undefined off Linux. */
  read(): number | undefined {
    const busy = machineBusySeconds();
    if (busy === undefined || this.#busy === undefined) return undefined;
    const wall = Number(process.hrtime.bigint() - this.#wall) / 1e9;
    const other = (busy - this.#busy - (this.#ownSeconds() - this.#own)) / wall;
    return Math.round(Math.max(0, other) * 100) / 100;
  }
}

/** Cores in use by other processes over the next `ms` milliseconds. */
export async function busyCores(ms = 1000): Promise<number | undefined> {
  const meter = new OtherLoadMeter();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return meter.read();
}
