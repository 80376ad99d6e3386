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
 *
 * This file walks the queue and sends batches; the numbers (retry timing, batch sizes, the
 * re-deposit schedule) are in outbox-policy.ts, and what becomes of a batch the device did
 * not take (backoff, deposits, re-deposits, giving up) is in deposit-policy.ts.
 */
import type { ConnectionPath, DeliveryStatus } from '../../net';
import { MSG_MAX_BATCH, MSG_MAX_REQUEST_BYTES } from '../../net';
import type { OutboxItem, Store, Message as StoredMessage } from '../../store';
import type { Logger } from '../types';
import { DepositPolicy, type OutboxMailbox } from './deposit-policy';
import { DIRECT_RESEND_AFTER_MS, fitBatch, MAILBOX_REDEPOSIT_AFTER_MS, RELAYED_BATCH_BYTES, RETRY_MAX_MS, retryDelay } from './outbox-policy';

export {
  DIRECT_RESEND_AFTER_MS,
  MAILBOX_COPIES,
  MAILBOX_FALLBACK_AFTER_MS,
  MAILBOX_GIVE_UP_AFTER_MS,
  MAILBOX_REDEPOSIT_AFTER_MS,
  MAILBOX_REDEPOSIT_MAX_MS,
  RELAYED_BATCH_BYTES,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  redepositDelay,
  retryDelay,
} from './outbox-policy';
export type { MailboxTarget, OutboxMailbox } from './deposit-policy';

/** How many due items one pass looks at (the store caps a query at 200; the rest wait for the next pass). */
const DUE_SCAN_LIMIT = 200;

export interface OutboxTransport {
  send(peerId: string, envelopes: Uint8Array[]): Promise<DeliveryStatus[]>;
  pathTo(peerId: string): ConnectionPath | undefined;
  /**
   * False while the device is owed our introduction (contacts/introductions.ts): it can open
   * our messages only after that one, so they are held until its sender releases them.
   */
  ready?(deviceId: number): boolean;
}


export interface OutboxEvents {
  stateChanged(message: StoredMessage): void;
}

export interface OutboxOptions {
  /** First re-deposit after this long without a receipt (default MAILBOX_REDEPOSIT_AFTER_MS); tests shorten it. */
  readonly redepositAfterMs?: number;
  /** Direct resend of deposited messages to a reachable device (default DIRECT_RESEND_AFTER_MS); tests shorten it. */
  readonly directResendAfterMs?: number;
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
  readonly #deposits: DepositPolicy;
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
    this.#deposits = new DepositPolicy({
      store,
      mailbox,
      stateChanged: (message) => events.stateChanged(message),
      log,
      now,
      stopped: () => this.#stopped,
      redepositAfterMs: options.redepositAfterMs ?? MAILBOX_REDEPOSIT_AFTER_MS,
    });
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

  /** Moves the items' next attempt out by their backoff; a store that fails here too is logged only. */
  #postpone(items: OutboxItem[]): void {
    const now = this.#now();
    try {
      this.#store.transaction(() => {
        for (const item of items) this.#store.outbox.markAttempt(item.id, now + retryDelay(item.attempts));
      });
    } catch (error) {
      this.#log.warn('outbox backoff not recorded', { error: error instanceof Error ? error.name : 'unknown' });
    }
  }

  /** Sends one batch; true if the receiver (or its mailboxes) took it, so the next batch may follow at once. */
  async #sendBatch(deviceId: number, peerId: string, items: OutboxItem[]): Promise<boolean> {
    try {
      // Nothing leaves this machine (to the peer or a mailbox) before it is durable here: a
      // ratchet step lost to a power cut after its envelope went out would reuse a message key.
      await this.#store.sync();
    } catch (error) {
      // Not durable, so not sent anywhere — not even to a mailbox; tried again after a backoff.
      this.#log.warn('outbox sync failed; not sending', { error: error instanceof Error ? error.name : 'unknown' });
      this.#postpone(items);
      return false;
    }
    let statuses: DeliveryStatus[];
    try {
      statuses = await this.#transport.send(peerId, items.map((i) => i.envelope));
    } catch (error) {
      return this.#deposits.notSent(deviceId, items, error instanceof Error ? error.name : 'unknown');
    }
    const path = this.#transport.pathTo(peerId) ?? 'direct';
    const changed: StoredMessage[] = [];
    const now = this.#now();
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
        } else if (item.depositedAt === undefined || item.nextAttemptAt <= now) {
          // Backed off; a deposited item too once it is due, or it would be picked again at once.
          this.#store.outbox.markAttempt(item.id, now + retryDelay(item.attempts));
        }
        // A deposited item not yet due keeps its mailbox copy and its re-deposit schedule.
      });
      // Bookkeeping only: if a power cut loses it, the same envelopes are resent and deduplicated.
    }, { deferSync: true });
    for (const m of changed) this.#events.stateChanged(m);
    return statuses.every((s) => s !== 'retry');
  }

}
