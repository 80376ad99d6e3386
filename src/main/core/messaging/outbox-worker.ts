/**
 * Delivers the outbox (ARCHITECTURE.md §6): per device, the oldest envelopes first, in batches,
 * one batch in flight per device so the receiver sees each sender's order. The exact stored
 * ciphertext is sent every time. Failures back off exponentially with jitter; a connection
 * from the device, or new mail for it, makes it try again at once.
 *
 * Offline contacts (issue 5, items 3 and 4): when no connection to the device can be made
 * (the network tried its addresses, its relays and the DHT: PeerUnreachableError), or a batch
 * has kept failing for MAILBOX_FALLBACK_AFTER_MS, the same envelopes are deposited in the
 * device's mailboxes on its relays, on MAILBOX_COPIES of them when it names that many. An
 * envelope a relay accepted is done here: the relay holds it until the recipient fetches it,
 * and the recipient's end-to-end delivery receipt turns it 'delivered'. Should the recipient
 * get it twice (two relays, or a direct send whose answer was lost), it keeps one: messages
 * are deduplicated by id and a replayed ratchet message is refused as a duplicate.
 */
import type { ConnectionPath, DeliveryStatus } from '../../net';
import { MSG_BATCH_HEADER_BYTES, MSG_ENVELOPE_OVERHEAD_BYTES, MSG_MAX_BATCH, MSG_MAX_REQUEST_BYTES } from '../../net';
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
 * Bytes per batch over a relayed connection: a relay cuts a circuit after
 * RELAY_CONNECTION_DATA_LIMIT_BYTES (128 KiB by default), so a full 1 MiB batch could never
 * cross one; a quarter of the limit lets a few batches through per circuit.
 */
export const RELAYED_BATCH_BYTES = 32 * 1024;

export interface OutboxTransport {
  send(peerId: string, envelopes: Uint8Array[]): Promise<DeliveryStatus[]>;
  pathTo(peerId: string): ConnectionPath | undefined;
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
  readonly #mailbox: OutboxMailbox | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(store: Store, transport: OutboxTransport, events: OutboxEvents, log: Logger, now: () => number, mailbox?: OutboxMailbox) {
    this.#store = store;
    this.#transport = transport;
    this.#events = events;
    this.#log = log;
    this.#now = now;
    this.#mailbox = mailbox;
  }

  start(): void {
    this.#scheduleDue(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
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
    try {
      for (;;) {
        if (this.#stopped || !this.#store.isOpen) return;
        const device = this.#store.devices.get(deviceId);
        if (!device) return;
        const relayed = this.#transport.pathTo(device.peerId) === 'relayed';
        const items = fitBatch(this.#store.outbox.pendingForDevice(deviceId, { limit: MSG_MAX_BATCH }), relayed ? RELAYED_BATCH_BYTES : MSG_MAX_REQUEST_BYTES);
        if (items.length === 0) return;
        const delivered = await this.#sendBatch(device.id, device.peerId, items);
        if (!delivered && !this.#again.delete(deviceId)) return;
      }
    } catch (error) {
      this.#log.warn('outbox flush failed', { error: error instanceof Error ? error.name : 'unknown' });
    } finally {
      this.#busy.delete(deviceId);
      if (this.#again.delete(deviceId)) this.kick(deviceId);
      const next = this.#store.isOpen ? this.#store.outbox.nextAttemptAt() : undefined;
      if (next !== undefined) this.#scheduleDue(Math.min(next - this.#now(), RETRY_MAX_MS));
    }
  }

  /** Sends one batch; true if the receiver (or its mailboxes) took it, so the next batch may follow at once. */
  async #sendBatch(deviceId: number, peerId: string, items: OutboxItem[]): Promise<boolean> {
    let statuses: DeliveryStatus[];
    try {
      statuses = await this.#transport.send(peerId, items.map((i) => i.envelope));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'unknown';
      if (this.#mailbox && (name === 'PeerUnreachableError' || this.#overdue(items))) return this.#deposit(deviceId, items);
      this.#log.info('outbox batch not delivered; backing off', { error: name, items: items.length });
      this.#backOff(items);
      return false;
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
        } else {
          this.#store.outbox.markAttempt(item.id, this.#now() + retryDelay(item.attempts));
        }
      });
    });
    for (const m of changed) this.#events.stateChanged(m);
    return statuses.every((s) => s !== 'retry');
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
   * no relay took back off like a failed send. True if every envelope was deposited.
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
    this.#store.transaction(() => {
      for (const item of deposited) {
        this.#store.outbox.acknowledge(item.messageId, item.deviceId);
        if (this.#store.messages.updateState(item.messageId, 'sent', { path: 'mailbox' })) {
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
