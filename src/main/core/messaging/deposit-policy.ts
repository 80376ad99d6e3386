/**
 * What happens to a batch a device did not take (ARCHITECTURE.md §6; issue 5, items 3 and 4):
 * back off, or leave it in the device's mailboxes on its relays (MAILBOX_COPIES of them), and
 * for a deposited text message still waiting for its receipt, deposit it again when due
 * (redepositDelay) or give it up past MAILBOX_GIVE_UP_AFTER_MS. Split from the outbox worker,
 * which walks the queue and sends batches, so the mailbox policy reads as one piece; the
 * worker hands every failed batch to `notSent`.
 */
import type { OutboxItem, Store, Message as StoredMessage } from '../../store';
import type { Logger } from '../types';
import { MAILBOX_COPIES, MAILBOX_FALLBACK_AFTER_MS, MAILBOX_GIVE_UP_AFTER_MS, redepositDelay, retryDelay } from './outbox-policy';

/** A contact device's mailbox on one relay, from its card. */
export interface MailboxTarget {
  readonly relayAddress: string;
  readonly mailboxId: Uint8Array;
}

/** Mailbox deposits, for devices that cannot be reached (ParleyNetwork in the app). */
export interface OutboxMailbox {
  /** The device's mailboxes, in the order its card names them; empty if it names none. */
  targets(deviceId: number): MailboxTarget[];
  /** Resolves once the relay stored the envelope; throws (MailboxError with a code, or a transport error) otherwise. */
  deposit(target: MailboxTarget, envelope: Uint8Array): Promise<void>;
}

/** Relay refusals that concern one envelope only: the next may still be taken. */
const PER_ENVELOPE_REFUSALS = new Set(['tooLarge', 'unavailable']);

export class DepositPolicy {
  readonly #store: Store;
  readonly #mailbox: OutboxMailbox | undefined;
  readonly #stateChanged: (message: StoredMessage) => void;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #stopped: () => boolean;
  readonly #redepositAfterMs: number;

  constructor(deps: {
    store: Store;
    mailbox: OutboxMailbox | undefined;
    stateChanged: (message: StoredMessage) => void;
    log: Logger;
    now: () => number;
    /** The worker stopped: deposits in progress end after the envelope in flight. */
    stopped: () => boolean;
    redepositAfterMs: number;
  }) {
    this.#store = deps.store;
    this.#mailbox = deps.mailbox;
    this.#stateChanged = deps.stateChanged;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#stopped = deps.stopped;
    this.#redepositAfterMs = deps.redepositAfterMs;
  }

  /**
   * The device did not take the batch. Items never deposited go to the mailboxes if the device
   * is unreachable or they are overdue, else back off; deposited ones are deposited again once
   * due, expired past MAILBOX_GIVE_UP_AFTER_MS, and otherwise left waiting for their receipt.
   * True if nothing here waits for a retry, so the walk may go on to the next batch.
   */
  async notSent(deviceId: number, items: OutboxItem[], error: string): Promise<boolean> {
    const now = this.#now();
    const fresh = items.filter((i) => i.depositedAt === undefined);
    const expired = items.filter((i) => i.depositedAt !== undefined && now - i.depositedAt >= MAILBOX_GIVE_UP_AFTER_MS);
    const again = items.filter((i) => i.depositedAt !== undefined && i.nextAttemptAt <= now && !expired.includes(i));
    if (expired.length > 0) this.#expire(expired);
    const toMailbox = this.#mailbox && (error === 'PeerUnreachableError' || this.#overdue(fresh)) ? fresh : [];
    const waiting = fresh.filter((i) => !toMailbox.includes(i));
    const deposits = this.#mailbox ? items.filter((i) => toMailbox.includes(i) || again.includes(i)) : [];
    if (waiting.length > 0) {
      this.#log.info('outbox batch not delivered; backing off', { error, items: waiting.length });
      this.#backOff(waiting);
    }
    const deposited = deposits.length === 0 || (await this.#deposit(deviceId, deposits));
    return deposited && waiting.length === 0;
  }

  /** No receipt within MAILBOX_GIVE_UP_AFTER_MS of the first deposit: failed, visibly, with Retry. */
  #expire(items: OutboxItem[]): void {
    const changed: StoredMessage[] = [];
    this.#store.transaction(() => {
      for (const item of items) {
        if (!this.#store.outbox.expire(item.id)) continue;
        if (this.#store.messages.updateState(item.messageId, 'failed')) {
          const m = this.#store.messages.get(item.messageId);
          if (m?.kind === 'text') changed.push(m);
        }
      }
    });
    this.#log.info('outbox gave up on deposited messages with no receipt', { items: items.length });
    for (const m of changed) this.#stateChanged(m);
  }

  /** The batch has been failing for MAILBOX_FALLBACK_AFTER_MS (its first item is the oldest). */
  #overdue(items: OutboxItem[]): boolean {
    const first = items[0];
    return first !== undefined && first.attempts > 0 && this.#now() - first.createdAt >= MAILBOX_FALLBACK_AFTER_MS;
  }

  /**
   * Leaves the batch in the device's mailboxes: relay by relay in card order, each envelope
   * until MAILBOX_COPIES relays hold it. Within a relay the envelopes go in order; a refusal
   * of the whole relay (full, rate-limited, unreachable) moves on to the next relay. Envelopes
   * no relay took back off like a failed send. A deposited text message stays in the outbox
   * for its receipt (next deposit at redepositDelay); anything else is done. True if every
   * envelope was deposited.
   */
  async #deposit(deviceId: number, items: OutboxItem[]): Promise<boolean> {
    const mailbox = this.#mailbox as OutboxMailbox;
    const copies = new Map<number, number>(items.map((i) => [i.id, 0]));
    let relays = 0;
    for (const target of mailbox.targets(deviceId)) {
      const wanted = items.filter((i) => (copies.get(i.id) ?? 0) < MAILBOX_COPIES);
      if (wanted.length === 0) break;
      relays++;
      for (const item of wanted) {
        if (this.#stopped()) break;
        try {
          await mailbox.deposit(target, item.envelope);
          copies.set(item.id, (copies.get(item.id) ?? 0) + 1);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (error instanceof Error && error.name === 'MailboxError' && typeof code === 'string' && PER_ENVELOPE_REFUSALS.has(code)) continue;
          this.#log.info('mailbox deposit failed; trying the next relay', { error: error instanceof Error ? error.name : 'unknown', ...(typeof code === 'string' ? { code } : {}) });
          break;
        }
      }
    }
    const deposited = items.filter((i) => (copies.get(i.id) ?? 0) > 0);
    const left = items.filter((i) => (copies.get(i.id) ?? 0) === 0);
    if (!this.#store.isOpen) return false;
    const changed: StoredMessage[] = [];
    const now = this.#now();
    this.#store.transaction(() => {
      for (const item of deposited) {
        const message = this.#store.messages.get(item.messageId);
        if (message?.kind === 'text') {
          // Never past the give-up time: that pass expires it instead of depositing again.
          const giveUpAt = (item.depositedAt ?? now) + MAILBOX_GIVE_UP_AFTER_MS;
          this.#store.outbox.markDeposited(item.id, Math.min(now + redepositDelay(item.deposits + 1, this.#redepositAfterMs), giveUpAt), now);
        } else {
          this.#store.outbox.acknowledge(item.messageId, item.deviceId);
        }
        if (this.#store.messages.updateState(item.messageId, 'sent', { path: 'mailbox', now })) {
          const m = this.#store.messages.get(item.messageId);
          if (m?.kind === 'text') changed.push(m);
        }
      }
    });
    for (const m of changed) this.#stateChanged(m);
    if (left.length > 0) {
      this.#log.info('outbox batch not deposited; backing off', { items: left.length, relays });
      this.#backOff(left);
    }
    return left.length === 0;
  }

  #backOff(items: OutboxItem[]): void {
    const now = this.#now();
    this.#store.transaction(() => {
      for (const item of items) this.#store.outbox.markAttempt(item.id, now + retryDelay(item.attempts));
    });
  }
}
