// `npm run bench:relay`: the relay benchmark (bench/relay.bench.ts) inside a private network
// namespace when run as root with iproute2 (scripts/netns.mjs, as `npm test` does): it starts
// libp2p nodes, whose traffic must never leave this machine (ARCHITECTURE.md §10). Elsewhere
// it runs as is, on 127.0.0.1 only.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { enterNetnsOrContinue } from '../scripts/netns.mjs';

enterNetnsOrContinue();

const bench = path.resolve(import.meta.dirname, 'relay.bench.ts');
const { status, signal } = spawnSync(process.execPath, ['--import', 'tsx', bench, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(status ?? (signal ? 1 : 0));
