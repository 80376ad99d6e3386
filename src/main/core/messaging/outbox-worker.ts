/**
 * Delivers the outbox (ARCHITECTURE.md §6): per device, the oldest envelopes first, in batches,
 * one batch in flight per device so the receiver sees each sender's order. The exact stored
 * ciphertext is sent every time. Failures back off exponentially with jitter; a connection
 * from the device, or new mail for it, makes it try again at once.
 *
 * Offline contacts (issue 5, items 3 and 4): when no connection to the device can be made
 * (the network tried its addresses, its relays and the DHT: PeerUnreachableError), or a batch
 * has kept failing for MAILBOX_FALLBACK_AFTER_MS, the same envelopes are deposited in the
 * device's mailboxes on its relays, on MAILBOX_COPIES of them when it names that many.
 *
 * Delivered exactly once or visibly pending: a relay may accept an envelope and lose it, so a
 * deposited text message stays in the outbox (the same ciphertext, marked deposited) until
 * the recipient's end-to-end delivery receipt removes it (Messenger). Until then it is resent
 * directly whenever the device is reachable again, and deposited again every
 * redepositDelay() (hours, backing off); past MAILBOX_GIVE_UP_AFTER_MS with no receipt it is
 * expired and the message shown failed, with Retry. Receipts, introductions and profiles get
 * no receipt of their own: for them a deposit is final, as before. Should the recipient get a
 * message twice (two relays, a re-deposit, or a direct resend), it keeps one: messages are
 * deduplicated by id and a replayed ratchet message is refused as a duplicate (and
 * acknowledged, so a direct resend of a message it already has finishes the item).
 */
import type { ConnectionPath, DeliveryStatus } from '../../net';
import { MSG_BATCH_HEADER_BYTES, MSG_ENVELOPE_OVERHEAD_BYTES, MSG_MAX_BATCH, MSG_MAX_REQUEST_BYTES } from '../../net';
import { MAILBOX_TTL_MS } from '../../net/protocols/mailbox/constants';
import type { OutboxItem, Store, Message as StoredMessage } from '../../store';
import type { Logger } from '../types';

/** First retry after 1 s: a peer that just blinked (Wi-Fi roam) is back almost at once. */
export const RETRY_BASE_MS = 1_000;
/** At most every 5 min while a contact stays away: cheap, and mDNS/reconnects kick sooner. */
export const RETRY_MAX_MS = 5 * 60_000;
/** How many due items one pass looks at (the store caps a query at 200; the rest wait for the next pass). */
const DUE_SCAN_LIMIT = 200;
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

export interface OutboxTransport {
  send(peerId: string, envelopes: Uint8Array[]): Promise<DeliveryStatus[]>;
  pathTo(peerId: string): ConnectionPath | undefined;
  /**
   * False while the device is owed our introduction (contacts/introductions.ts): it can open
   * our messages only after that one, so they are held until its sender releases them.
   */
  ready?(deviceId: number): boolean;
}

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

export interface OutboxEvents {
  stateChanged(message: StoredMessage): void;
}

/** Delay before attempt `attempts + 1`: exponential, capped, with ±50 % jitter so peers don't sync up. */
export function retryDelay(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.5 + random()));
}

/** Wait before deposit number `deposits + 1` of an envelope already deposited `deposits` times. */
export function redepositDelay(deposits: number, firstMs: number = MAILBOX_REDEPOSIT_AFTER_MS): number {
  return Math.min(MAILBOX_REDEPOSIT_MAX_MS, firstMs * 2 ** Math.min(Math.max(deposits - 1, 0), 20));
}

export interface OutboxOptions {
  /** First re-deposit after this long without a receipt (default MAILBOX_REDEPOSIT_AFTER_MS); tests shorten it. */
  readonly redepositAfterMs?: number;
  /** Direct resend of deposited messages to a reachable device (default DIRECT_RESEND_AFTER_MS); tests shorten it. */
  readonly directResendAfterMs?: number;
}

/** The longest prefix of `items` (in order) that fits one msg request of `maxBytes` (always at least one item). */
function fitBatch(items: OutboxItem[], maxBytes = MSG_MAX_REQUEST_BYTES): OutboxItem[] {
  let size = MSG_BATCH_HEADER_BYTES;
  let count = 0;
  for (const item of items) {
    size += MSG_ENVELOPE_OVERHEAD_BYTES + item.envelope.length;
    if (size > maxBytes && (count > 0 || size > MSG_MAX_REQUEST_BYTES)) break;
    count++;
  }
  return items.slice(0, count);
}

export class OutboxWorker {
  readonly #store: Store;
  readonly #transport: OutboxTransport;
  readonly #events: OutboxEvents;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #busy = new Set<number>();
  /** Devices kicked while busy: run again right after the current batch. */
  readonly #again = new Set<number>();
  /** Devices whose next flush also resends deposited messages not yet due, directly. */
  readonly #resendDeposited = new Set<number>();
  /** Pending DIRECT_RESEND_AFTER_MS timers, per device. */
  readonly #resendTimers = new Map<number, NodeJS.Timeout>();
  readonly #directResendAfterMs: number;
  readonly #mailbox: OutboxMailbox | undefined;
  readonly #redepositAfterMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    store: Store,
    transport: OutboxTransport,
    events: OutboxEvents,
    log: Logger,
    now: () => number,
    mailbox?: OutboxMailbox,
    options: OutboxOptions = {},
  ) {
    this.#store = store;
    this.#transport = transport;
    this.#events = events;
    this.#log = log;
    this.#now = now;
    this.#mailbox = mailbox;
    this.#redepositAfterMs = options.redepositAfterMs ?? MAILBOX_REDEPOSIT_AFTER_MS;
    this.#directResendAfterMs = options.directResendAfterMs ?? DIRECT_RESEND_AFTER_MS;
  }

  start(): void {
    this.#scheduleDue(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const timer of this.#resendTimers.values()) clearTimeout(timer);
    this.#resendTimers.clear();
  }

  /** Try a device now, whatever its backoff says (it connected, or has new mail). */
  kick(deviceId: number): void {
    if (this.#stopped) return;
    if (this.#busy.has(deviceId)) {
      this.#again.add(deviceId);
      return;
    }
    void this.#flush(deviceId);
  }

  #resendSoon(deviceId: number): void {
    if (this.#stopped || this.#resendTimers.has(deviceId)) return;
    const timer = setTimeout(() => {
      this.#resendTimers.delete(deviceId);
      this.#resendDeposited.add(deviceId);
      this.kick(deviceId);
    }, this.#directResendAfterMs);
    timer.unref?.();
    this.#resendTimers.set(deviceId, timer);
  }

  #scheduleDue(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#runDue(), Math.max(0, delayMs));
    this.#timer.unref?.();
  }

  #runDue(): void {
    if (this.#stopped || !this.#store.isOpen) return;
    // A timer callback: any failure is logged, never thrown into the event loop.
    try {
      this.#runDueOnce();
    } catch (error) {
      this.#log.warn('outbox scan failed', { error: error instanceof Error ? error.name : 'unknown' });
    }
  }

  #runDueOnce(): void {
    const devices = new Set(this.#store.outbox.due(this.#now(), { limit: DUE_SCAN_LIMIT }).map((i) => i.deviceId));
    for (const deviceId of devices) this.kick(deviceId);
    const next = this.#store.outbox.nextAttemptAt();
    if (next !== undefined) this.#scheduleDue(Math.min(next - this.#now(), RETRY_MAX_MS));
  }

  async #flush(deviceId: number): Promise<void> {
    this.#busy.add(deviceId);
    const withDeposited = this.#resendDeposited.delete(deviceId);
    let skipped = false;
    let peerId: string | undefined;
    try {
      // Walks the queue once: deposited items stay pending, so the walk moves past each batch.
      let afterId = 0;
      for (;;) {
        if (this.#stopped || !this.#store.isOpen) return;
        const device = this.#store.devices.get(deviceId);
        if (!device) return;
        if (this.#transport.ready?.(deviceId) === false) {
          this.#store.outbox.holdForContact(device.contactId);
          return;
        }
        peerId = device.peerId;
        const relayed = this.#transport.pathTo(device.peerId) === 'relayed';
        const pending = this.#store.outbox.pendingForDevice(deviceId, { limit: MSG_MAX_BATCH, ...(afterId > 0 ? { afterId } : {}) });
        if (pending.length === 0) return;
        // Deposited messages go again only when due, or in the delayed direct resend.
        const now = this.#now();
        const wanted = pending.filter((i) => withDeposited || i.depositedAt === undefined || i.nextAttemptAt <= now);
        if (wanted.length < pending.length) skipped = true;
        if (wanted.length === 0) {
          afterId = (pending[pending.length - 1] as OutboxItem).id;
          continue;
        }
        const items = fitBatch(wanted, relayed ? RELAYED_BATCH_BYTES : MSG_MAX_REQUEST_BYTES);
        afterId = (items[items.length - 1] as OutboxItem).id;
        const delivered = await this.#sendBatch(device.id, device.peerId, items);
        if (delivered) continue;
        if (!this.#again.delete(deviceId)) return;
        afterId = 0;
      }
    } catch (error) {
      this.#log.warn('outbox flush failed', { error: error instanceof Error ? error.name : 'unknown' });
    } finally {
      this.#busy.delete(deviceId);
      // Deposited messages were passed over while the device is reachable: resend them soon.
      if (skipped && peerId !== undefined && this.#transport.pathTo(peerId) !== undefined) this.#resendSoon(deviceId);
      if (this.#again.delete(deviceId)) this.kick(deviceId);
      const next = this.#store.isOpen ? this.#store.outbox.nextAttemptAt() : undefined;
      if (next !== undefined) this.#scheduleDue(Math.min(next - this.#now(), RETRY_MAX_MS));
    }
  }

  /** Sends one batch; true if the receiver (or its mailboxes) took it, so the next batch may follow at once. */
  async #sendBatch(deviceId: number, peerId: string, items: OutboxItem[]): Promise<boolean> {
    let statuses: DeliveryStatus[];
    try {
      // Nothing leaves this machine (to the peer or a mailbox) before it is durable here: a
      // ratchet step lost to a power cut after its envelope went out would reuse a message key.
      await this.#store.sync();
      statuses = await this.#transport.send(peerId, items.map((i) => i.envelope));
    } catch (error) {
      return this.#notSent(deviceId, items, error instanceof Error ? error.name : 'unknown');
    }
    const path = this.#transport.pathTo(peerId) ?? 'direct';
    const changed: StoredMessage[] = [];
    this.#store.transaction(() => {
      items.forEach((item, i) => {
        const status = statuses[i];
        if (status === 'stored') {
          this.#store.outbox.acknowledge(item.messageId, item.deviceId);
          if (this.#store.messages.updateState(item.messageId, 'sent', { path })) {
            const m = this.#store.messages.get(item.messageId);
            if (m?.kind === 'text') changed.push(m);
          }
        } else if (status === 'rejected') {
          this.#store.outbox.remove(item.id);
          if (this.#store.messages.updateState(item.messageId, 'failed')) {
            const m = this.#store.messages.get(item.messageId);
            if (m?.kind === 'text') changed.push(m);
          }
        } else if (item.depositedAt === undefined) {
          this.#store.outbox.markAttempt(item.id, this.#now() + retryDelay(item.attempts));
        }
        // A deposited item the device could not take now keeps its mailbox copy and schedule.
      });
      // Bookkeeping only: if a power cut loses it, the same envelopes are resent and deduplicated.
    }, { deferSync: true });
    for (const m of changed) this.#events.stateChanged(m);
    return statuses.every((s) => s !== 'retry');
  }

  /**
   * The device did not take the batch. Items never deposited go to the mailboxes if the device
   * is unreachable or they are overdue, else back off; deposited ones are deposited again once
   * due, expired past MAILBOX_GIVE_UP_AFTER_MS, and otherwise left waiting for their receipt.
   * True if nothing here waits for a retry, so the walk may go on to the next batch.
   */
  async #notSent(deviceId: number, items: OutboxItem[], error: string): Promise<boolean> {
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
    for (const m of changed) this.#events.stateChanged(m);
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
        if (this.#stopped) break;
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
    for (const m of changed) this.#events.stateChanged(m);
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
