/**
 * Names and defaults of the relay node (`npm run relay`). Limits of the circuit relay live in
 * net/constants.ts, those of the mailbox in net/protocols/mailbox/constants.ts; here are the
 * ones that exist only because a relay is a long-lived server.
 */

// ── the data folder ─────────────────────────────────────────────────────────────────────────

/** The relay's libp2p key (protobuf Ed25519): its PeerId, stable across restarts. Owner-only. */
export const RELAY_KEY_FILE = 'relay.key';
/** The mailbox database (mailbox-store.ts). */
export const MAILBOX_DB_FILE = 'mailbox.db';
/** Locked while a relay runs on the folder: two relays on one folder would share a PeerId. */
export const RELAY_LOCK_FILE = 'relay.lock';
/** A protobuf Ed25519 private key is 68 bytes; anything far larger is not our key file. */
export const RELAY_KEY_FILE_MAX_BYTES = 1024;

// ── the mailbox database ────────────────────────────────────────────────────────────────────

export const MAILBOX_SCHEMA_VERSION = 1;
/** Only this process writes; a wait means a checkpoint in progress, which takes milliseconds. */
export const MAILBOX_DB_BUSY_TIMEOUT_MS = 5_000;
/** WAL kept after a checkpoint between sweeps (a burst of deposits); truncated at each sweep that deleted. */
export const MAILBOX_DB_WAL_LIMIT_BYTES = 4 * 1024 * 1024;

// ── the node ────────────────────────────────────────────────────────────────────────────────

/**
 * Open connections of a relay. A relay's connections are its clients (one each for a
 * reservation, plus senders depositing and DHT peers), not a desktop's handful of contacts:
 * 1,024 leaves room for the default reservations (net RELAY_MAX_RESERVATIONS) several times over
 * and stays far below a default file-descriptor limit of 4,096 per process.
 */
export const RELAY_MAX_CONNECTIONS = 1024;
/**
 * Inbound connections mid-handshake at once: clients reconnect together after a relay restart,
 * so more than a desktop's 10, still bounding Noise handshake CPU.
 */
export const RELAY_MAX_INCOMING_PENDING_CONNECTIONS = 64;

/** How often the relay logs its counters (connections, reservations, stored envelopes). */
export const RELAY_STATS_INTERVAL_MS = 10 * 60 * 1000;
/** How long a clean stop may take before the process gives up waiting and exits anyway. */
export const RELAY_STOP_TIMEOUT_MS = 10_000;
