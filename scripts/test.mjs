// `npm test`: typecheck, lint, then every test suite, inside a private network namespace
// when run as root (see scripts/netns.mjs). Stops at the first failing step.
import { spawnSync } from 'node:child_process';
import { enterNetnsOrContinue } from './netns.mjs';

enterNetnsOrContinue();

const steps = [
  ['typecheck', ['npx', 'tsc', '-b']],
  // tsc does not read .svelte files; svelte-check covers the components' TypeScript.
  ['svelte-check', ['npx', 'svelte-check', '--tsconfig', 'src/renderer/tsconfig.json', '--fail-on-warnings']],
  ['lint', ['npx', 'eslint', '.']],
  ['unit + integration', ['npx', 'vitest', 'run']],
];

for (const [name, [cmd, ...args]] of steps) {
  console.log(`\n== ${name}: ${[cmd, ...args].join(' ')}`);
  const { status } = spawnSync(cmd, args, { stdio: 'inherit' });
  if (status !== 0) {
    console.error(`\n== ${name} failed (exit ${status})`);
    process.exit(status ?? 1);
  }
}
console.log('\n== all test steps passed');
