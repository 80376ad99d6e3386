// Re-runs the current command inside a private network namespace (scripts/in-netns.sh) when
// this process may create one: root, iproute2 present, not already inside one. Anything that
// starts a libp2p node (mDNS multicasts on every interface) must go through here, so test and
// benchmark traffic never leaves this machine (ARCHITECTURE.md §10). Elsewhere it runs as is.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const IN_NETNS = path.resolve(import.meta.dirname, 'in-netns.sh');

function canEnterNetns() {
  if (process.env.PARLEY_NETNS) return false; // already inside one
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  return spawnSync('ip', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Returns true if the caller should go on here; otherwise the command ran in a namespace and this process exits with its status. */
export function enterNetnsOrContinue() {
  if (!canEnterNetns()) {
    if (!process.env.PARLEY_NETNS) {
      console.error('[netns] not root or no iproute2: running on this host\'s network (loopback only by configuration)');
    }
    return true;
  }
  const result = spawnSync(IN_NETNS, [process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
