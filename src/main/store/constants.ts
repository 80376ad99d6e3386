/**
 * Names, modes and limits of the store. Every limit says why it has the value it has.
 */

// ---------------------------------------------------------------------------------------------
// The data folder
// ---------------------------------------------------------------------------------------------

/** The libsql database, encrypted at rest with the random storage key. */
export const DB_FILE = 'parley.db';
/** The storage key, wrapped (passphrase or keychain). Without it the database is noise. */
export const KEY_FILE = 'keyfile';
/**
 * An empty SQLite file whose exclusive lock marks the folder as owned by one running store.
 * An OS file lock rather than a pid file: the kernel drops it when the process dies, even by
 * SIGKILL, so a crashed peer never leaves a stale lock behind.
 */
export const LOCK_FILE = 'parley.lock';
/** SQLite's companions of DB_FILE in WAL mode; they hold database pages too (encrypted). */
export const DB_COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/** Owner only: the folder and every file in it hold secrets (even if encrypted). */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

// ---------------------------------------------------------------------------------------------
// Key file
// ---------------------------------------------------------------------------------------------

/** "PRLK": tells a Parley key file from any other file handed to us by mistake. */
export const KEY_FILE_MAGIC = Uint8Array.of(0x50, 0x52, 0x4c, 0x4b);
export const KEY_FILE_VERSION = 1;
/**
 * A passphrase-wrapped key is 98 bytes and an Electron safeStorage blob about as small; 4 KiB
 * leaves room for future wrappers while a huge or hostile file is refused before it is read.
 */
export const MAX_KEY_FILE_BYTES = 4096;

// ---------------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------------

/**
 * How long a statement waits for a lock held by another connection before SQLITE_BUSY. Only
 * one store owns the folder (LOCK_FILE), so contention comes from a checkpoint or a tool
 * reading the file; waiting a few seconds beats failing a receive transaction.
 */
export const BUSY_TIMEOUT_MS = 5000;

/** journal_size_limit: the WAL size kept after a checkpoint (see database.ts). */
export const WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Input bounds (checked at the store's boundary, before SQL)
// ---------------------------------------------------------------------------------------------

/** The random message id of ARCHITECTURE.md §4: 128 bits. */
export const MESSAGE_ID_BYTES = 16;
/**
 * A text body, in UTF-8 bytes: the API's 20,000 UTF-16 units (MAX_MESSAGE_BODY_CHARS) at up
 * to 3 bytes each, as the message content codec allows. 60,000 bytes plus the content, ratchet
 * and envelope framing (~200 bytes) fit the 64 KiB envelope. Longer text is a file transfer.
 */
export const MAX_BODY_BYTES = 60_000;
/** Message ids one receipt may acknowledge: a read receipt for a long backlog, not unbounded. */
export const MAX_RECEIPT_REFS = 1024;
/** Display names: enough for any real name in any script, small enough for one list row. */
export const MAX_DISPLAY_NAME_BYTES = 256;
/** Drafts are bodies that were not sent yet. */
export const MAX_DRAFT_BYTES = MAX_BODY_BYTES;
/** Characters of the last message shown in the conversation list. */
export const PREVIEW_CHARS = 120;
/**
 * A serialized ratchet session: root and chain keys, the skipped-key cache (bounded by the
 * ratchet's own caps) and receiver chains. 256 KiB is far above what those caps allow and
 * keeps a corrupted caller from writing megabytes per message.
 */
export const MAX_SESSION_STATE_BYTES = 256 * 1024;
/** Serialized key pairs (identity, prekeys) are well under 200 bytes. */
export const MAX_KEY_PAIR_BYTES = 1024;
/** A signed device record plus display name; contact cards are small by design. */
export const MAX_CARD_BYTES = 8 * 1024;
/** libp2p PeerIds as strings are ~52 characters (crypto's MAX_PEER_ID_BYTES is 128). */
export const MAX_PEER_ID_BYTES = 128;
/** Addresses remembered per device, and the length of each multiaddr string. */
export const MAX_ADDRESSES = 16;
export const MAX_ADDRESS_BYTES = 512;
/** Public keys, X3DH base keys: 32 bytes (Ed25519 / X25519). */
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Settings are small preferences, not a blob store. */
export const MAX_SETTING_KEY_BYTES = 128;
export const MAX_SETTING_VALUE_BYTES = 64 * 1024;

/** Pages of a conversation: the UI shows ~30 rows; 200 keeps one query's memory bounded. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** Outbox items or conversations handed out per call. */
export const MAX_BATCH = 500;

/**
 * Inactive sessions kept per device, newest first, for messages that were in flight (or in a
 * mailbox) when a new session replaced the old one. Signal keeps 40 per address; a peer-to-peer
 * messenger with one device per contact needs far fewer, and each holds key material.
 */
export const MAX_ARCHIVED_SESSIONS_PER_DEVICE = 5;

/** Prekey ids are u32 on the wire (src/crypto/prekeys.ts). */
export const MAX_PREKEY_ID = 0xffff_ffff;
