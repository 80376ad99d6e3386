/**
 * `npm run serve -- --data DIR [--port N] [--listen MULTIADDR]... [--no-lan] [--passphrase-file F]`:
 * the headless peer (ARCHITECTURE.md §1). Prints one line, the URL to open in a browser on this
 * machine; see run-serve.ts for the rest.
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

// A closed pipe on stdout (`… | head -1`) must not crash a running peer.
process.stdout.on('error', () => {});

process.exit(await runServe(process.argv.slice(2), { startCore }));
