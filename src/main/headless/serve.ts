/**
 * `npm run serve -- --data DIR [--port N] [--listen MULTIADDR]... [--relay MULTIADDR]... [--no-lan] [--passphrase-file F]`:
 * the headless peer (ARCHITECTURE.md §1). Prints one line, the URL to open in a browser on this
 * machine; see run-serve.ts for the rest, and serve-relays.ts for `--relay`.
 *
 * Run with tsx (`tsx src/main/headless/serve.ts`): electron-vite bundles main for Electron's
 * runtime, while this entry runs on the system's plain Node 20 straight from source, with no
 * second build configuration to keep in step with the first.
 *
 * This file stays this small on purpose: it is the only one here that imports the real core.
 */
// First: libp2p needs Promise.withResolvers, which Node 20 lacks (ARCHITECTURE.md §10).
import '../polyfills';
import { startCore } from '../core/core';
import { runServe } from './run-serve';
import { RelayFlagError, takeRelayFlags, withStartupRelays } from './serve-relays';

// A closed pipe on stdout (`… | head -1`) must not crash a running peer.
process.stdout.on('error', () => {});

let command;
try {
  command = takeRelayFlags(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof RelayFlagError)) throw error;
  process.stderr.write(`parley: ${error.message}\n`);
  // 2, like every other command-line mistake (run-serve.ts).
  process.exit(2);
}
process.exit(await runServe(command.argv, { startCore: withStartupRelays(startCore, command.relays) }));
