import { protocolId } from '../../constants';

/** Sealed envelopes between contacts, acknowledged after the receiver's commit. */
export const MSG_PROTOCOL = protocolId('msg', '1.0.0');
const WIRE_VERSION = 1;
export const MSG_WIRE_VERSION = WIRE_VERSION;

/**
 * Envelopes per request. A batch is processed in one store transaction and acknowledged
 * together, which is what makes 1,000+ persisted messages a second possible with a
 * synchronous disk (one fsync per batch, not per message).
 */
export const MSG_MAX_BATCH = 64;
/** Largest envelope: the largest sealed-envelope bucket (crypto/envelope.ts). */
export const MSG_MAX_ENVELOPE_BYTES = 64 * 1024;
/**
 * Bytes per request: 1 MiB holds a full batch of short messages (256 B each) and at least 15
 * of the largest; senders fill batches up to it. Well under the 4 MiB frame ceiling
 * (net/constants.ts), and a receiver never buffers more than this per stream.
 */
export const MSG_MAX_REQUEST_BYTES = 1024 * 1024;
/** Bytes one envelope adds to a batch besides itself (its length prefix). */
export const MSG_ENVELOPE_OVERHEAD_BYTES = 4;
/** Bytes of the batch header. */
export const MSG_BATCH_HEADER_BYTES = 3;
export const MSG_MAX_RESPONSE_BYTES = 3 + MSG_MAX_BATCH;
/** A full batch over a slow relayed link plus the receiver's commit. */
export const MSG_TIMEOUT_MS = 30_000;
/**
 * Batches to one contact share a long-lived stream (one exchange after another). The
 * receiver closes a stream that stays idle this long, so a quiet contact holds nothing open;
 * a minute covers the pauses of a conversation in progress.
 */
export const MSG_RECEIVER_IDLE_MS = 60_000;
/** The sender ends its idle streams first (half the receiver's wait), so neither side races a close. */
export const MSG_SENDER_IDLE_MS = MSG_RECEIVER_IDLE_MS / 2;
/**
 * Contacts are trusted not to flood, but a compromised one must not pin the disk. While the link
 * is idle each message goes out as its own batch, so a sender that sends one message at a time
 * uses one batch per message (bench:net sends 100–250 a second that way). A reset costs an honest
 * sender a back-off of at least RETRY_BASE_MS, so the budget must sit above honest use, not at it:
 * a burst of 400 batches, then 200 a second.
 */
export const MSG_RATE_LIMIT = { capacity: 400, refillPerSecond: 200 } as const;

/** What the receiver did with each envelope of a batch. */
export const DELIVERY_STATUS = {
  /** Committed (or already committed earlier): drop it from the outbox. */
  stored: 0,
  /** A temporary failure on the receiver (store busy): try again later. */
  retry: 1,
  /** Can never be processed (no session, undecryptable): stop sending it. */
  rejected: 2,
} as const;
export type DeliveryStatus = keyof typeof DELIVERY_STATUS;
