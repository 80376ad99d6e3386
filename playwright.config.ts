/**
 * End-to-end tests (ARCHITECTURE.md §9, issue 4): Playwright against real headless peers.
 *
 * - `web`: Debian's Chromium (`/usr/bin/chromium`, never a downloaded browser) drives the real
 *   renderer served by real headless peers (`src/main/headless/serve.ts`), loopback only.
 * - `electron`: the same flows through `_electron.launch` where an Electron binary exists; here
 *   every test reports itself skipped with the reason (see e2e/fixtures/electron.ts).
 * - `figures`: measurements printed as JSON (e2e/figures.spec.ts), never part of `npm test`.
 *
 * Peers multicast mDNS, so run only inside a loopback-only network namespace:
 * `scripts/in-netns.sh npx playwright test --project web --project electron` (what `npm test`
 * does), `scripts/in-netns.sh npx playwright test --project figures` for the figures.
 */
import { defineConfig } from '@playwright/test';
import { CHROMIUM_LAUNCH } from './e2e/fixtures/chromium';

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  globalSetup: './e2e/global-setup.ts',
  // Each test starts two or three peers (Node + libp2p + Argon2id) and as many Chromium pages:
  // on these 2-core machines one test at a time is as fast as it gets, and not flaky.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // A whole two-peer story (three peers, one restart) takes ~40 s here; bounded well above.
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['./e2e/annotations-reporter.ts']],
  use: {
    launchOptions: CHROMIUM_LAUNCH,
    viewport: { width: 1100, height: 720 },
    actionTimeout: 15_000,
    navigationTimeout: 15_000,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'web', testMatch: /(two-peers|hostile-text|relays-settings|drafts|notices)\.spec\.ts$/ },
    { name: 'electron', testMatch: /electron\.spec\.ts$/ },
    { name: 'figures', testMatch: /figures\.spec\.ts$/, timeout: 600_000 },
  ],
});
