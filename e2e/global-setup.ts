/**
 * Before any e2e test:
 *
 * 1. Network safety (ARCHITECTURE.md §10): the peers multicast mDNS, so where a private network
 *    namespace can be made (root with iproute2) and this run is not inside one, refuse to start
 *    rather than announce test peers on the machine's real interfaces. Use `npm run test:e2e`,
 *    `npm test`, or `scripts/in-netns.sh npx playwright test …`. Elsewhere (no root) the tests run
 *    as the integration tests do, on loopback addresses.
 * 2. The headless peers serve the built renderer (out/renderer), so build it when it is missing
 *    or older than its sources. `electron-vite build` also builds main and preload (the
 *    `electron` project launches out/main/index.js); it takes a few seconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..');
/** Everything the build reads: a change in any of these makes out/ stale. */
const SOURCES = ['src/renderer', 'src/shared', 'src/preload', 'src/main', 'electron.vite.config.ts', 'package.json'];
const BUILT = ['out/renderer/index.html', 'out/main/index.js', 'out/preload/index.cjs'];

function newestMtime(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry.name)));
  }
  return newest;
}

export function buildIsStale(): boolean {
  const built = BUILT.map((file) => path.join(REPO, file));
  if (!built.every((file) => existsSync(file))) return true;
  const builtAt = Math.min(...built.map((file) => statSync(file).mtimeMs));
  const sourcesAt = Math.max(...SOURCES.map((source) => path.join(REPO, source)).filter(existsSync).map(newestMtime));
  return sourcesAt > builtAt;
}

/** Why this run must not start peers here, or undefined when it may (the rule of scripts/netns.mjs). */
export function hostNetworkRefusal(): string | undefined {
  if (process.env.PARLEY_NETNS) return undefined;
  if (process.getuid?.() !== 0) return undefined;
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return undefined;
  return (
    'refusing to start Parley peers on the host network: they multicast mDNS (ARCHITECTURE.md §10). ' +
    'Run `npm run test:e2e`, or `scripts/in-netns.sh npx playwright test …`'
  );
}

export default function globalSetup(): void {
  const refusal = hostNetworkRefusal();
  if (refusal) throw new Error(refusal);
  if (!buildIsStale()) return;
  console.log('e2e: out/ is missing or older than its sources; running `npx electron-vite build`');
  const { status, stdout, stderr } = spawnSync('npx', ['electron-vite', 'build'], { cwd: REPO, encoding: 'utf8' });
  if (status !== 0) throw new Error(`electron-vite build failed (exit ${status}); the e2e tests need out/renderer\n${stdout}\n${stderr}`);
}
