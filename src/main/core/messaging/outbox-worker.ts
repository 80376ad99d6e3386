/**
 * Delivers the outbox (ARCHITECTURE.md §6): per device, the oldest envelopes first, in batches,
 * one batch in flight per device so the receiver sees each sender's order. The exact stored
 * ciphertext is sent every time. Failures back off exponentially with jitter; a connection
 * from the device, or new mail for it, makes it try again at once.
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

export interface OutboxTransport {
  send(peerId: string, envelopes: Uint8Array[]): Promise<DeliveryStatus[]>;
  pathTo(peerId: string): ConnectionPath | undefined;
}

export interface OutboxEvents {
  stateChanged(message: StoredMessage): void;
}

/** Delay before attempt `attempts + 1`: exponential, capped, with ±50 % jitter so peers don't sync up. */
export function retryDelay(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.5 + random()));
}

/** The longest prefix of `items` (in order) that fits one msg request. */
function fitBatch(items: OutboxItem[]): OutboxItem[] {
  let size = MSG_BATCH_HEADER_BYTES;
  let count = 0;
  for (const item of items) {
    size += MSG_ENVELOPE_OVERHEAD_BYTES + item.envelope.length;
    if (size > MSG_MAX_REQUEST_BYTES) break;
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
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(store: Store, transport: OutboxTransport, events: OutboxEvents, log: Logger, now: () => number) {
    this.#store = store;
    this.#transport = transport;
    this.#events = events;
    this.#log = log;
    this.#now = now;
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
        const items = fitBatch(this.#store.outbox.pendingForDevice(deviceId, { limit: MSG_MAX_BATCH }));
        if (!device || items.length === 0) return;
        const delivered = await this.#sendBatch(device.peerId, items);
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

  /** Sends one batch; true if the receiver took it (so the next batch may follow at once). */
  async #sendBatch(peerId: string, items: OutboxItem[]): Promise<boolean> {
    let statuses: DeliveryStatus[];
    try {
      statuses = await this.#transport.send(peerId, items.map((i) => i.envelope));
    } catch (error) {
      this.#log.info('outbox batch not delivered; backing off', { error: error instanceof Error ? error.name : 'unknown', items: items.length });
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

  #backOff(items: OutboxItem[]): void {
    const now = this.#now();
    this.#store.transaction(() => {
      for (const item of items) this.#store.outbox.markAttempt(item.id, now + retryDelay(item.attempts));
    });
  }
}
