import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          // Argon2id at MODERATE limits and the property tests take seconds each on 2 cores.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Real libp2p nodes and child processes; each test bounds its own waits.
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
