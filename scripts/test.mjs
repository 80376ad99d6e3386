// `npm test`: typecheck, lint, then every test suite, inside a private network namespace
// when run as root (see scripts/netns.mjs). Stops at the first failing step.
// `node scripts/test.mjs e2e` (`npm run test:e2e`) runs only the named step, in the namespace too.
import { spawnSync } from 'node:child_process';
import { enterNetnsOrContinue } from './netns.mjs';

enterNetnsOrContinue();

const steps = [
  ['typecheck', ['npx', 'tsc', '-b']],
  // tsc does not read .svelte files; svelte-check covers the components' TypeScript.
  ['svelte-check', ['npx', 'svelte-check', '--tsconfig', 'src/renderer/tsconfig.json', '--fail-on-warnings']],
  ['lint', ['npx', 'eslint', '.']],
  ['unit + integration', ['npx', 'vitest', 'run']],
  // Real headless peers and Debian's Chromium (playwright.config.ts builds out/ first if stale);
  // the electron project reports itself skipped, with the reason, where no Electron binary exists.
  ['e2e', ['npx', 'playwright', 'test', '--project=web', '--project=electron']],
];

const only = process.argv[2];
const selected = only === undefined ? steps : steps.filter(([name]) => name === only);
if (selected.length === 0) {
  console.error(`no test step named '${only}' (steps: ${steps.map(([name]) => name).join(', ')})`);
  process.exit(2);
}

for (const [name, [cmd, ...args]] of selected) {
  console.log(`\n== ${name}: ${[cmd, ...args].join(' ')}`);
  const { status } = spawnSync(cmd, args, { stdio: 'inherit' });
  if (status !== 0) {
    console.error(`\n== ${name} failed (exit ${status})`);
    process.exit(status ?? 1);
  }
}
console.log(`\n== ${only === undefined ? 'all test steps' : only} passed`);
