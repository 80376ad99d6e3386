import { MAX_ENVELOPE_BYTES } from '../../../../crypto';
import { protocolId } from '../../constants';

/**
 * Sealed envelopes held on a relay for an offline recipient (ARCHITECTURE.md §6, issue 5).
 * Anyone may deposit; only the holder of the mailbox key may list, fetch and acknowledge.
 */
export const MAILBOX_PROTOCOL = protocolId('mailbox', '1.0.0');
/** First byte of every request and response; a relay answers only the versions it knows. */
export const MAILBOX_WIRE_VERSION = 1;

// ── identifiers and keys ────────────────────────────────────────────────────────────────────

/** Mailbox ids are SHA-256-sized: 256 bits, no collision among all mailboxes ever made. */
export const MAILBOX_ID_BYTES = 32;
/** Ed25519 public key of a mailbox. */
export const MAILBOX_PUBLIC_KEY_BYTES = 32;
/** Ed25519 signature. */
export const MAILBOX_SIGNATURE_BYTES = 64;
/** Relay challenges: 256 random bits, never guessed, never repeated. */
export const MAILBOX_CHALLENGE_BYTES = 32;

/**
 * Domain-separation labels, each used for exactly one purpose so no value computed for one
 * can be presented as another (hypercore-crypto style: constants at the top, one each).
 */
export const MAILBOX_LABELS = {
  /** HMAC key of the mailbox id: id = HMAC-SHA-256(label, mailbox public key). */
  id: 'parley/mailbox/id/v1',
  /** HKDF salt of the per-relay mailbox key derived from the identity secret. */
  keySalt: 'parley/mailbox/key/v1',
  /** Signature context of owner operations. */
  auth: 'parley/mailbox/auth/v1',
  /** HMAC key of the short mailbox tag in relay logs (never the id itself). */
  logTag: 'parley/mailbox/log-tag/v1',
} as const;

// ── wire ────────────────────────────────────────────────────────────────────────────────────

export const MAILBOX_OP = { deposit: 1, challenge: 2, list: 3, fetch: 4, ack: 5 } as const;
export type MailboxOp = keyof typeof MAILBOX_OP;

/** The relay's answer to a request; every refusal has its own status, so clients can react. */
export const MAILBOX_STATUS = {
  ok: 0,
  /** The envelope is larger than this relay accepts. */
  tooLarge: 1,
  /** The recipient's mailbox holds its maximum count or bytes; try another relay or later. */
  mailboxFull: 2,
  /** This depositor (PeerId) has used its share of the relay; wait for the recipient to fetch. */
  depositorQuota: 3,
  /** The relay as a whole is full. */
  relayFull: 4,
  /** Too many deposits from this PeerId in a short time; retry later. */
  rateLimited: 5,
  /** Owner operation without a valid, fresh, unused challenge signature: nothing is revealed. */
  unauthorized: 6,
  /** The request does not parse or its values are out of range. */
  badRequest: 7,
  /** The relay failed internally (store error); retry later. */
  unavailable: 8,
} as const;
export type MailboxStatus = keyof typeof MAILBOX_STATUS;

// ── limits (each configurable by the relay operator, see MailboxLimits) ──────────────────────

/**
 * Largest envelope the protocol carries: the largest sealed-envelope bucket (crypto/envelope.ts).
 * Operators may lower it, never raise it.
 */
export const MAILBOX_MAX_ENVELOPE_BYTES = MAX_ENVELOPE_BYTES;

/**
 * Envelopes one mailbox holds. 1,000 is weeks of a busy chat for one recipient device (the
 * sender keeps its outbox and retries, so a full mailbox delays, never loses); a flood of one
 * mailbox stops there instead of filling the relay.
 */
export const MAILBOX_MAX_ENVELOPES = 1000;
/** Bytes one mailbox holds: 16 MiB, a thousand 16 KiB envelopes or 256 of the largest. */
export const MAILBOX_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Envelopes stored at once from one depositor PeerId, over all mailboxes. A user writing to a
 * few dozen offline contacts stays far below; one PeerId cannot fill the relay for everyone.
 */
export const DEPOSITOR_MAX_ENVELOPES = 2000;
/** Bytes stored at once from one depositor PeerId: 32 MiB, two full mailboxes. */
export const DEPOSITOR_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Everything the relay stores: 1 GiB and 200,000 envelopes, the disk a community relay on a
 * small VPS can spare. Beyond it deposits get `relayFull` and senders try their other relays.
 */
export const RELAY_MAX_STORED_BYTES = 1024 * 1024 * 1024;
export const RELAY_MAX_STORED_ENVELOPES = 200_000;

/**
 * How long an envelope waits for its recipient: 14 days. Long enough for a holiday offline,
 * short enough that a relay never becomes an archive; the sender's outbox still holds the
 * message, and it is resent when the contact is seen again.
 */
export const MAILBOX_TTL_MS = 14 * 24 * 60 * 60 * 1000;
/**
 * How often expired envelopes are deleted from disk. Reads already hide expired envelopes at
 * once; the sweep frees their bytes. Ten minutes keeps the work (one indexed DELETE and one WAL
 * checkpoint) negligible.
 */
export const MAILBOX_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Deposits per depositor PeerId: bursts of 100, then 10 a second. A sender flushing an outbox
 * of 50 messages to an offline contact passes at once; a flood gets `rateLimited` within a
 * second, before it reaches the quotas.
 */
export const MAILBOX_DEPOSIT_RATE_LIMIT = { capacity: 100, refillPerSecond: 10 } as const;
/**
 * Streams per peer for any operation (checked before reading, the stream is reset): a backstop
 * against floods of challenges or garbage. Above the deposit budget so that budget, with its
 * typed answer, is what an honest but eager sender meets.
 */
export const MAILBOX_REQUEST_RATE_LIMIT = { capacity: 200, refillPerSecond: 50 } as const;

/**
 * A challenge's lifetime: 30 s covers a fetch round trip over a slow relayed link (the client
 * signs at once), and a captured signature is useless after it, and after first use anyway.
 */
export const MAILBOX_CHALLENGE_TTL_MS = 30_000;
/** Outstanding challenges per PeerId; more than a few means a client that never uses them. */
export const MAILBOX_MAX_CHALLENGES_PER_PEER = 8;
/** Outstanding challenges in all; beyond it the oldest are forgotten (memory bound: ~1 MiB). */
export const MAILBOX_MAX_CHALLENGES = 8192;

/**
 * Bytes of envelopes per FETCH page: 1 MiB, like a msg batch. A page is one frame the client
 * buffers whole; it stays far under the 4 MiB frame ceiling (net/constants.ts) and always holds
 * at least one envelope of the largest size.
 */
export const MAILBOX_FETCH_PAGE_BYTES = 1024 * 1024;
/** Envelopes per FETCH or LIST page: bounds the per-entry overhead of one response. */
export const MAILBOX_PAGE_ENVELOPES = 256;
/** Ids per ACK request: one page's worth and more; 8 KiB of ids. */
export const MAILBOX_ACK_MAX_IDS = 1024;

// ── frame sizes ─────────────────────────────────────────────────────────────────────────────

/** version ‖ op ‖ mailbox id ‖ public key ‖ challenge ‖ signature */
export const MAILBOX_AUTH_HEADER_BYTES = 2 + MAILBOX_ID_BYTES + MAILBOX_PUBLIC_KEY_BYTES + MAILBOX_CHALLENGE_BYTES + MAILBOX_SIGNATURE_BYTES;
/** Largest request: a deposit of the largest envelope (the ACK of MAILBOX_ACK_MAX_IDS is smaller). */
export const MAILBOX_MAX_REQUEST_BYTES = 2 + MAILBOX_ID_BYTES + MAILBOX_MAX_ENVELOPE_BYTES;
/** Bytes a FETCH entry adds to its envelope: id (u64) ‖ deposited at (u64) ‖ length (u32). */
export const MAILBOX_FETCH_ENTRY_OVERHEAD_BYTES = 20;
/** version ‖ status ‖ next challenge ‖ more ‖ count */
export const MAILBOX_PAGE_HEADER_BYTES = 2 + MAILBOX_CHALLENGE_BYTES + 1 + 2;
/** Largest response: a full FETCH page with its entry overheads. */
export const MAILBOX_MAX_RESPONSE_BYTES =
  MAILBOX_PAGE_HEADER_BYTES + MAILBOX_FETCH_PAGE_BYTES + MAILBOX_PAGE_ENVELOPES * MAILBOX_FETCH_ENTRY_OVERHEAD_BYTES;

/**
 * Deadline of one exchange: a 1 MiB page over a slow relayed link (~100 KiB/s) plus the
 * relay's store work, with room to spare.
 */
export const MAILBOX_TIMEOUT_MS = 30_000;
/** Pages `fetchAll` reads before it stops: a full mailbox (16 MiB) is at most 16 of them. */
export const MAILBOX_FETCH_ALL_MAX_PAGES = 64;
