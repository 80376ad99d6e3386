/**
 * A running relay (ARCHITECTURE.md §1, issue 5): a libp2p node with the circuit-relay-v2
 * server under operator limits, Kademlia in server mode, no mDNS, and the mailbox protocol over
 * a libsql store in its data folder. In-process, so tests and benchmarks can start, stop and
 * restart one on the same folder; `npm run relay` (run-relay.ts) wraps it.
 *
 * The data folder holds the relay's key (its PeerId survives restarts, so contact cards that
 * name it stay valid), the mailbox database, and a lock so that two relays never share it.
 *
 * What it logs: connection and reservation counts, and per mailbox exchange its operation,
 * status, sizes, counts and an 8-hex-digit keyed tag of the mailbox. Never envelope bytes,
 * mailbox ids, keys or PeerIds.
 */
import '../polyfills';
import fs from 'node:fs';
import path from 'node:path';
import type { ComponentLogger, Connection } from '@libp2p/interface';
import { initCrypto } from '../../crypto';
import { createParleyNode, generateDeviceKey, peerIdFromDeviceKey, type ParleyNode } from '../net';
import { MailboxServer, resolveMailboxLimits, type MailboxActivity } from '../net/protocols/mailbox';
import { FolderLock } from '../store/folder-lock';
import { ensurePrivateDir, writeFileAtomic } from '../store/files';
import {
  MAILBOX_DB_FILE,
  RELAY_KEY_FILE,
  RELAY_KEY_FILE_MAX_BYTES,
  RELAY_LOCK_FILE,
  RELAY_MAX_CONNECTIONS,
  RELAY_MAX_INCOMING_PENDING_CONNECTIONS,
  RELAY_STATS_INTERVAL_MS,
} from './constants';
import { LibsqlMailboxStore } from './mailbox-store';
import type { RelayConfig } from './relay-args';

export type LogFields = Record<string, string | number | boolean>;

/** Where the relay's log lines go. Fields are counts, sizes, statuses and short tags only. */
export interface RelayLog {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
}

export interface RelayDeps {
  log?: RelayLog;
  /** Milliseconds clock of the mailbox (tests expire envelopes with it). */
  now?: () => number;
  /** libp2p's component logger (silent unless DEBUG is set, if omitted). */
  logger?: ComponentLogger;
  /** Counters log interval (default RELAY_STATS_INTERVAL_MS). */
  statsIntervalMs?: number;
}

export interface Relay {
  readonly node: ParleyNode;
  readonly mailbox: MailboxServer;
  readonly store: LibsqlMailboxStore;
  readonly peerId: string;
  /** The addresses to give clients, each ending in /p2p/<PeerId>. */
  addresses(): string[];
  /** Stops serving, closes the store (checkpointed) and releases the folder. Idempotent. */
  stop(): Promise<void>;
}

const silentLog: RelayLog = { info: () => undefined, warn: () => undefined };

export async function startRelay(config: RelayConfig, deps: RelayDeps = {}): Promise<Relay> {
  const log = deps.log ?? silentLog;
  // Nonsensical limits are refused before anything is written.
  const mailboxLimits = resolveMailboxLimits(config.mailbox);
  const dir = path.resolve(config.dataDir);
  ensurePrivateDir(dir);
  const lock = FolderLock.acquire(path.join(dir, RELAY_LOCK_FILE));
  const cleanup: (() => void | Promise<void>)[] = [() => lock.release()];
  // Undone in reverse: stats timer, mailbox (resets exchanges in flight), node, store, lock.
  const undo = async (): Promise<void> => {
    let failure: unknown;
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  };
  try {
    await initCrypto();
    const privateKey = await loadOrCreateKey(path.join(dir, RELAY_KEY_FILE), log);
    const store = LibsqlMailboxStore.open(path.join(dir, MAILBOX_DB_FILE));
    cleanup.push(() => store.close());

    const node = await createParleyNode({
      privateKey,
      listen: [...config.listen],
      announce: [...config.announce],
      bootstrap: [...config.bootstrap],
      lan: false,
      relayServer: config.relay,
      dhtMode: 'server',
      dhtKeepPrivateAddresses: config.dhtKeepPrivateAddresses,
      limits: {
        maxConnections: config.maxConnections ?? RELAY_MAX_CONNECTIONS,
        maxIncomingPendingConnections: RELAY_MAX_INCOMING_PENDING_CONNECTIONS,
      },
      logger: deps.logger,
    });
    cleanup.push(() => node.stop());
    const mailbox = new MailboxServer(node, {
      store,
      limits: mailboxLimits,
      now: deps.now,
      onActivity: (activity) => logActivity(log, activity),
    });
    await mailbox.start();
    cleanup.push(() => mailbox.stop());
    await node.start();

    watchConnections(node, log);
    // Envelopes that expired while the relay was down leave the disk now, not in ten minutes.
    mailbox.sweep();
    const stats = setInterval(() => logStats(node, store, log), deps.statsIntervalMs ?? RELAY_STATS_INTERVAL_MS);
    stats.unref();
    cleanup.push(() => clearInterval(stats));

    const { envelopes, bytes } = store.stats();
    log.info('relay started', {
      addresses: node.getMultiaddrs().length,
      envelopes,
      bytes,
      maxReservations: config.relay.maxReservations ?? 'default',
    });

    let stopping: Promise<void> | undefined;
    return {
      node,
      mailbox,
      store,
      peerId: node.peerId.toString(),
      addresses: () => node.getMultiaddrs().map((m) => m.toString()),
      stop: () => {
        stopping ??= (async () => {
          await undo();
          log.info('relay stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await undo().catch(() => undefined);
    throw err;
  }
}

/** The relay's libp2p key from the folder, or a new one written there (owner-only, atomically). */
async function loadOrCreateKey(file: string, log: RelayLog): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined;
  try {
    const size = fs.statSync(file).size;
    if (size > RELAY_KEY_FILE_MAX_BYTES) throw new Error('The relay key file is not a relay key');
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (bytes !== undefined) {
    peerIdFromDeviceKey(bytes); // throws InvalidDeviceKeyError for anything else
    return bytes;
  }
  const key = await generateDeviceKey();
  writeFileAtomic(file, key);
  log.info('relay key created');
  return key;
}

function watchConnections(node: ParleyNode, log: RelayLog): void {
  // The relay server emits no event per reservation; the count rides on connection lines.
  const counts = (): LogFields => ({
    connections: node.getConnections().length,
    peers: node.getPeers().length,
    reservations: node.services.relay?.reservations.size ?? 0,
  });
  const kind = (connection: Connection): LogFields => ({
    direction: connection.direction,
    relayed: connection.limits !== undefined,
  });
  node.addEventListener('connection:open', (evt) => log.info('connection open', { ...kind(evt.detail), ...counts() }));
  node.addEventListener('connection:close', (evt) => log.info('connection close', { ...kind(evt.detail), ...counts() }));
}

function logStats(node: ParleyNode, store: LibsqlMailboxStore, log: RelayLog): void {
  const { envelopes, bytes } = store.stats();
  log.info('stats', {
    connections: node.getConnections().length,
    peers: node.getPeers().length,
    reservations: node.services.relay?.reservations.size ?? 0,
    envelopes,
    bytes,
  });
}

function logActivity(log: RelayLog, activity: MailboxActivity): void {
  // Challenges are one per owner session and say nothing the next line does not.
  if (activity.op === 'challenge' && activity.status === 'ok') return;
  if (activity.op === 'sweep' && activity.status === 'ok' && activity.count === 0) return;
  const fields: LogFields = { status: activity.status };
  if (activity.mailbox !== undefined) fields.mailbox = activity.mailbox;
  if (activity.count !== undefined) fields.count = activity.count;
  if (activity.bytes !== undefined) fields.bytes = activity.bytes;
  const line = `mailbox ${activity.op}`;
  if (activity.status === 'ok') log.info(line, fields);
  else log.warn(line, fields);
}
