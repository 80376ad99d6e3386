/**
 * `npm run relay -- --data DIR --listen MULTIADDR… [options]`: a Parley relay node
 * (circuit-relay-v2 server, DHT server, mailboxes). See relay-args.ts for the options,
 * run-relay.ts for its life, docs/relays.md for running one.
 *
 * Run with tsx straight from source on plain Node, like the headless peer.
 */
// First: libp2p needs Promise.withResolvers, which Node 20 lacks (ARCHITECTURE.md §10).
import '../polyfills';
import { runRelay } from './run-relay';

// A closed pipe on stdout (`… | head -1`) must not crash a running relay.
process.stdout.on('error', () => {});

process.exit(await runRelay(process.argv.slice(2)));
