/**
 * Where a network benchmark result was measured: Node, CPU, package versions, the filesystem
 * the databases lived on (a commit is an fsync, so the disk matters), the network namespace,
 * a fingerprint of the sources that ran (others edit src/ while benchmarks run: two results
 * compare only when it matches), and how busy the machine was besides us.
 *
 *   const env = describeEnvironment(dataRoot);
 *   const meter = new MachineMeter();  …  meter.otherCores(ourCpuSeconds);
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** USER_HZ, the unit of /proc/stat. */
const CLOCK_TICKS_PER_S = 100;

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** SHA-256 (16 hex digits) over the non-test .ts sources under these src/ folders, in path order. */
export function sourceFingerprint(folders: readonly string[] = ['main/core', 'main/net', 'main/store', 'crypto', 'shared']): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.includes('.test')) files.push(path);
    }
  };
  for (const folder of folders) walk(join(REPO_ROOT, 'src', folder));
  const hash = createHash('sha256');
  for (const path of files.sort()) hash.update(path.slice(REPO_ROOT.length)).update('\0').update(readFileSync(path)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** The filesystem type holding `dir`, from the longest matching mount point (Linux). */
function filesystemOf(dir: string): string {
  try {
    const target = resolve(dir);
    let best = { point: '', type: 'unknown' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, point, type] = line.split(' ');
      if (!point || !type) continue;
      const inside = target === point || target.startsWith(point.endsWith('/') ? point : `${point}/`);
      if (inside && point.length >= best.point.length) best = { point, type };
    }
    return best.type;
  } catch {
    return 'unknown';
  }
}

export function describeEnvironment(dataRoot: string) {
  return {
    timestamp: new Date().toISOString(),
    node: process.version,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    platform: `${os.platform()} ${os.release()}`,
    loadavg_1m_start: Math.round(os.loadavg()[0]! * 100) / 100,
    netns: process.env.PARLEY_NETNS ?? null,
    data_dir_fs: filesystemOf(dataRoot),
    packages: Object.fromEntries(
      ['libp2p', '@chainsafe/libp2p-yamux', '@chainsafe/libp2p-noise', '@libp2p/tcp', 'libsql'].map((p) => [p, packageVersion(p)]),
    ),
    src_fingerprint: sourceFingerprint(),
  };
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat); undefined elsewhere. */
function machineBusySeconds(): number | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (fields.reduce((a, b) => a + b, 0) - idle) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** Machine CPU use over a window, so a window where others used the cores can be told apart. */
export class MachineMeter {
  #busy = machineBusySeconds();
  #wall = process.hrtime.bigint();

  restart(): void {
    this.#busy = machineBusySeconds();
    this.#wall = process.hrtime.bigint();
  }

  /** Cores used by everything else, given the CPU seconds our processes used in the window. */
  otherCores(ourCpuSeconds: number): number | undefined {
    const busy = machineBusySeconds();
    if (busy === undefined || this.#busy === undefined) return undefined;
    const wall = Number(process.hrtime.bigint() - this.#wall) / 1e9;
    return Math.round(Math.max(0, (busy - this.#busy - ourCpuSeconds) / wall) * 100) / 100;
  }
}
