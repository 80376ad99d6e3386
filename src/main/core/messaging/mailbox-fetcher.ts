/**
 * Fetches our mailboxes on our relays (issue 5, item 3): at start, whenever a reservation on
 * a relay comes back (we were away from it, so mail may wait there), and every
 * MAILBOX_POLL_INTERVAL_MS in case a contact deposited while we were reachable only to it.
 *
 * One relay at a time per relay (a trigger during a fetch runs it again right after):
 *
 *   fetch every waiting envelope → sort by the relay's id (deposit order), drop repeated ids
 *   → receive them through the same pipeline as /parley/msg (committed in the store)
 *   → only then acknowledge, so the relay deletes them.
 *
 * What is acknowledged: envelopes stored (or already stored: a duplicate from another relay,
 * or one that also came directly) and envelopes that can never be opened here (not for us,
 * corrupted by the relay); a relay that corrupts an envelope loses only its own copy, the
 * sender left another on a second relay. Envelopes from a contact we have not accepted yet, or
 * that met a busy store, stay on the relay and are fetched again. An envelope no session of
 * ours claims may be an introduction (someone used our invite link while we were away): the
 * receiver (mailbox-inbox.ts) takes it before the messages deposited behind it.
 */
import type { DeliveryStatus, MailboxEnvelope, MailboxKey } from '../../net';
import type { Logger } from '../types';

/**
 * How often our mailboxes are checked while the app runs: contacts that can reach us deposit
 * only when a direct or relayed connection failed, so this is a backstop, not the main path;
 * two minutes bounds the delay of such a message without loading relays.
 */
export const MAILBOX_POLL_INTERVAL_MS = 2 * 60_000;
/** One fetch (all pages) or acknowledgement: a few 1 MiB pages over a slow link. */
export const MAILBOX_FETCH_TIMEOUT_MS = 60_000;
/**
 * After a reservation on a relay comes back, its mailbox is fetched at once and once more
 * this much later. Contacts that tried to reach us while it was down leave mail there within
 * a second or two of their failed attempt, which can be just after it came back (after a
 * relay restart, a returning contact's receipts arrive then): without the second fetch they
 * would wait for the next poll, MAILBOX_POLL_INTERVAL_MS later.
 */
export const RESERVATION_FOLLOW_UP_FETCH_MS = 10_000;

export interface MailboxFetchNet {
  fetchMailbox(relayAddress: string, key: MailboxKey, signal?: AbortSignal): Promise<MailboxEnvelope[]>;
  ackMailbox(relayAddress: string, key: MailboxKey, ids: readonly number[], signal?: AbortSignal): Promise<number>;
}

export interface MailboxFetcherDeps {
  net: MailboxFetchNet;
  /** Our relays now: address and PeerId. */
  relays(): { address: string; relayPeerId: string }[];
  /** Our mailbox key on a relay. */
  keyFor(relayPeerId: string): MailboxKey;
  /** Receives envelopes in order, committing before it resolves; one status per envelope. */
  receive(envelopes: Uint8Array[]): Promise<DeliveryStatus[]>;
  log: Logger;
  /** Poll interval (default MAILBOX_POLL_INTERVAL_MS). */
  intervalMs?: number;
}

export class MailboxFetcher {
  readonly #deps: MailboxFetcherDeps;
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #shutdown = new AbortController();
  #poll: ReturnType<typeof setInterval> | undefined;
  /** Follow-up fetches after a reservation came back, per relay (at most one each). */
  readonly #followUps = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(deps: MailboxFetcherDeps) {
    this.#deps = deps;
  }

  /** Fetches every relay now and then every poll interval. */
  start(): void {
    this.fetchAll();
    this.#poll = setInterval(() => this.fetchAll(), this.#deps.intervalMs ?? MAILBOX_POLL_INTERVAL_MS);
    this.#poll.unref?.();
  }

  /** Waits for fetches in flight to end (aborted), so the store can close after. */
  async stop(): Promise<void> {
    clearInterval(this.#poll);
    for (const timer of this.#followUps.values()) clearTimeout(timer);
    this.#followUps.clear();
    this.#shutdown.abort();
    await Promise.allSettled([...this.#running.values()]);
  }

  /** Our reservation on this relay is back: fetch now, and again RESERVATION_FOLLOW_UP_FETCH_MS later. */
  reservationBack(relayPeerId: string): void {
    if (this.#shutdown.signal.aborted) return;
    void this.fetch(relayPeerId);
    clearTimeout(this.#followUps.get(relayPeerId));
    const timer = setTimeout(() => {
      this.#followUps.delete(relayPeerId);
      void this.fetch(relayPeerId);
    }, RESERVATION_FOLLOW_UP_FETCH_MS);
    timer.unref?.();
    this.#followUps.set(relayPeerId, timer);
  }

  fetchAll(): void {
    for (const { relayPeerId } of this.#deps.relays()) this.fetch(relayPeerId);
  }

  /** Fetches our mailbox on one relay (a PeerId of ours); resolves when that round is done. */
  fetch(relayPeerId: string): Promise<void> {
    if (this.#shutdown.signal.aborted) return Promise.resolve();
    const running = this.#running.get(relayPeerId);
    if (running) {
      this.#again.add(relayPeerId);
      return running;
    }
    const round = (async () => {
      try {
        do {
          this.#again.delete(relayPeerId);
          await this.#fetchOnce(relayPeerId);
        } while (this.#again.has(relayPeerId) && !this.#shutdown.signal.aborted);
      } finally {
        this.#running.delete(relayPeerId);
      }
    })();
    this.#running.set(relayPeerId, round);
    return round;
  }

  async #fetchOnce(relayPeerId: string): Promise<void> {
    const relay = this.#deps.relays().find((r) => r.relayPeerId === relayPeerId);
    if (!relay) return;
    const key = this.#deps.keyFor(relayPeerId);
    const signal = AbortSignal.any([this.#shutdown.signal, AbortSignal.timeout(MAILBOX_FETCH_TIMEOUT_MS)]);
    let fetched: MailboxEnvelope[];
    try {
      fetched = await this.#deps.net.fetchMailbox(relay.address, key, signal);
    } catch (error) {
      if (!signal.aborted) this.#deps.log.info('mailbox fetch failed', { error: error instanceof Error ? error.name : 'unknown' });
      return;
    }
    if (fetched.length === 0) return;
    // The relay's ids are its deposit order; a relay that reorders or repeats is undone here.
    const unique = [...new Map(fetched.map((e) => [e.id, e])).values()].sort((a, b) => a.id - b.id);
    let statuses: DeliveryStatus[];
    try {
      statuses = await this.#deps.receive(unique.map((e) => e.envelope));
    } catch (error) {
      this.#deps.log.warn('mailbox envelopes not processed', { error: error instanceof Error ? error.name : 'unknown', count: unique.length });
      return;
    }
    const done = unique.filter((_, i) => statuses[i] === 'stored' || statuses[i] === 'rejected').map((e) => e.id);
    const rejected = statuses.filter((s) => s === 'rejected').length;
    if (rejected > 0) this.#deps.log.info('mailbox envelopes refused', { count: rejected });
    if (done.length === 0 || this.#shutdown.signal.aborted) return;
    try {
      await this.#deps.net.ackMailbox(relay.address, key, done, signal);
    } catch (error) {
      // Committed already: the relay offers them again next time and they are recognised as duplicates.
      if (!signal.aborted) this.#deps.log.info('mailbox acknowledgement failed', { error: error instanceof Error ? error.name : 'unknown' });
    }
  }
}
