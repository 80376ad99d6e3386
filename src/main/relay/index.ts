/**
 * The relay node: circuit-relay-v2 server, Kademlia DHT server and the mailbox protocol over
 * its own libsql store, with a stable PeerId kept in its data folder.
 *
 * @example
 * ```ts
 * const relay = await startRelay(parseRelayArgs(['--data', dir, '--listen', '/ip4/127.0.0.1/tcp/0']) as RelayConfig);
 * console.log(relay.addresses()); // ['/ip4/127.0.0.1/tcp/41234/p2p/12D3KooW…']
 * await relay.stop();
 * ```
 */
export { startRelay, type LogFields, type Relay, type RelayDeps, type RelayLog } from './relay-node';
export { parseRelayArgs, parseDuration, parseSize, RELAY_USAGE, UsageError, type RelayCommand, type RelayConfig } from './relay-args';
export { runRelay, type RunRelayDeps } from './run-relay';
export { LibsqlMailboxStore, MailboxStoreError } from './mailbox-store';
export * from './constants';
