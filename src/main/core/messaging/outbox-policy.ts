/**
 * The outbox's timing and sizing policy (ARCHITECTURE.md §6): when a failed send is retried,
 * when a batch falls back to the mailboxes, how often a deposited message is deposited again
 * and when it is given up, and how much goes in one batch. Kept apart from the worker so the
 * numbers, and the reasons behind each, read in one place; introductions share them.
 */
import { MSG_BATCH_HEADER_BYTES, MSG_ENVELOPE_OVERHEAD_BYTES, MSG_MAX_REQUEST_BYTES } from '../../net';
import { MAILBOX_TTL_MS } from '../../net/protocols/mailbox/constants';
import type { OutboxItem } from '../../store';

/** First retry after 1 s: a peer that just blinked (Wi-Fi roam) is back almost at once. */
export const RETRY_BASE_MS = 1_000;
/** At most every 5 min while a contact stays away: cheap, and mDNS/reconnects kick sooner. */
export const RETRY_MAX_MS = 5 * 60_000;
/**
 * A batch that has failed for this long while the device seemed reachable (a connection that
 * resets, a peer that refuses us for now) goes to the mailbox anyway: 10 s is a few retries
 * (1 s, 2 s, 4 s), long enough for a blink, short enough that a message is not stuck.
 */
export const MAILBOX_FALLBACK_AFTER_MS = 10_000;
/**
 * Relays each envelope is left on: two, so one relay that is down, full, or loses it does not
 * lose the message (issue 5, item 4); the recipient keeps one copy.
 */
export const MAILBOX_COPIES = 2;
/**
 * First re-deposit of a text message with no delivery receipt: 6 h. A recipient that is
 * online polls its mailboxes every few minutes and its receipt follows at once, so hours of
 * silence mean it is away or a relay lost every copy; depositing again costs one small
 * envelope per relay, and the recipient drops the duplicates by message id.
 */
export const MAILBOX_REDEPOSIT_AFTER_MS = 6 * 60 * 60_000;
/**
 * Longest wait between re-deposits: 4 days, well under the relays' MAILBOX_TTL_MS (14 days),
 * so a copy deposited after any loss is still on the relay when the next one goes up.
 */
export const MAILBOX_REDEPOSIT_MAX_MS = 4 * 24 * 60 * 60_000;
/**
 * No receipt this long after the first deposit: given up, the message shown failed with
 * Retry. The relays' TTL: the first copy is gone from every relay by then, and the few
 * re-deposits before it (6 h, 12 h, 1, 2, 4, 4 days) bound what one message costs.
 */
export const MAILBOX_GIVE_UP_AFTER_MS = MAILBOX_TTL_MS;
/**
 * A device we reach again gets the messages still waiting for its receipt resent directly,
 * but 10 s later: one that just fetched its mailbox is usually connecting to bring those very
 * receipts, and resending everything at once would cross them (and spend a relayed circuit's
 * data budget on duplicates). What is still unacknowledged after 10 s was most likely lost.
 */
export const DIRECT_RESEND_AFTER_MS = 10_000;
/**
 * Bytes per batch over a relayed connection: a relay cuts a circuit after
 * RELAY_CONNECTION_DATA_LIMIT_BYTES (128 KiB by default), so a full 1 MiB batch could never
 * cross one; a quarter of the limit lets a few batches through per circuit.
 */
export const RELAYED_BATCH_BYTES = 32 * 1024;

/** Delay before attempt `attempts + 1`: exponential, capped, with ±50 % jitter so peers don't sync up. */
export function retryDelay(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.5 + random()));
}

/** Wait before deposit number `deposits + 1` of an envelope already deposited `deposits` times. */
export function redepositDelay(deposits: number, firstMs: number = MAILBOX_REDEPOSIT_AFTER_MS): number {
  return Math.min(MAILBOX_REDEPOSIT_MAX_MS, firstMs * 2 ** Math.min(Math.max(deposits - 1, 0), 20));
}

/** The longest prefix of `items` (in order) that fits one msg request of `maxBytes` (always at least one item). */
export function fitBatch(items: OutboxItem[], maxBytes = MSG_MAX_REQUEST_BYTES): OutboxItem[] {
  let size = MSG_BATCH_HEADER_BYTES;
  let count = 0;
  for (const item of items) {
    size += MSG_ENVELOPE_OVERHEAD_BYTES + item.envelope.length;
    if (size > maxBytes && (count > 0 || size > MSG_MAX_REQUEST_BYTES)) break;
    count++;
  }
  return items.slice(0, count);
}
