/**
 * A misbehaving relay, for tests only: a real circuit relay and mailbox server whose mailbox
 * storage is wrapped by `FaultyMailboxStore`, a decorator that, with seeded randomness,
 *
 * - refuses deposits (the sender sees `unavailable`), stores one and still answers
 *   `unavailable` (the answer is lost: the sender retries, the mailbox holds it twice), stores
 *   it twice, or answers `ok` and throws it away (a lying relay);
 * - returns fetched pages reordered, with an envelope repeated, with envelopes left out, or
 *   with an envelope truncated or with one byte flipped;
 * - ignores some acknowledgements, so deleted envelopes come back;
 * - on request (`loseAfterAck(n)`), answers `ok` to the next n deposits and then loses them,
 *   as a relay whose disk or process dies after it answered: with no second relay, only the
 *   sender's outbox (re-deposit, or a direct resend) can still deliver those messages.
 *
 * Each fault is counted, so a test can show the faults really happened. Loopback only.
 */
import path from 'node:path';
import { createParleyNode, generateDeviceKey, type ParleyNode } from '../../../src/main/net';
import {
  MAILBOX_PAGE_ENVELOPES,
  MailboxServer,
  type DepositOutcome,
  type DepositQuotas,
  type MailboxEntryInfo,
  type MailboxEnvelope,
  type MailboxStore,
  type MailboxStoreStats,
  type NewEnvelope,
  type Page,
} from '../../../src/main/net/protocols/mailbox';
import { LibsqlMailboxStore } from '../../../src/main/relay';

/** Probability (0..1) of each fault, per deposit, fetched page, or acknowledged id. */
export interface Faults {
  depositRefused?: number;
  depositAnswerLost?: number;
  depositDuplicated?: number;
  /** Answers ok and stores nothing: only safe to enable where another relay holds a copy. */
  depositDropped?: number;
  fetchReordered?: number;
  fetchDuplicated?: number;
  fetchOmitted?: number;
  /** Corrupts an envelope it returns: only safe where another relay holds a copy. */
  fetchTruncated?: number;
  ackIgnored?: number;
}

export type FaultCounts = Record<keyof Faults, number>;

/** mulberry32: small, fast, seeded; the faults must be reproducible from the seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class StoreFault extends Error {
  constructor() {
    super('injected store fault');
    this.name = 'StoreFault';
  }
}

export class FaultyMailboxStore implements MailboxStore {
  readonly counts: FaultCounts = {
    depositRefused: 0,
    depositAnswerLost: 0,
    depositDuplicated: 0,
    depositDropped: 0,
    fetchReordered: 0,
    fetchDuplicated: 0,
    fetchOmitted: 0,
    fetchTruncated: 0,
    ackIgnored: 0,
  };
  /** Fetch requests served (each page), faulty or not. */
  fetches = 0;
  /** Deposits acknowledged and then lost by `loseAfterAck`. */
  lostAfterAck = 0;
  #loseNext = 0;
  readonly #inner: MailboxStore;
  readonly #faults: Faults;
  readonly #random: () => number;

  constructor(inner: MailboxStore, faults: Faults, random: () => number) {
    this.#inner = inner;
    this.#faults = faults;
    this.#random = random;
  }

  #hit(fault: keyof Faults): boolean {
    const p = this.#faults[fault] ?? 0;
    if (p <= 0 || this.#random() >= p) return false;
    this.counts[fault]++;
    return true;
  }

  /** The next `count` deposits (whatever their mailbox) are acknowledged and lost. */
  loseAfterAck(count: number): void {
    this.#loseNext = count;
  }

  deposit(entry: NewEnvelope, quotas: DepositQuotas, now: number): DepositOutcome {
    if (this.#loseNext > 0) {
      // Stored and answered ok, then gone: the write never reached the disk before a crash.
      const outcome = this.#inner.deposit(entry, quotas, now);
      if (outcome !== 'ok') return outcome;
      this.#loseNext--;
      this.lostAfterAck++;
      this.#forgetNewest(entry.mailboxId, now);
      return outcome;
    }
    if (this.#hit('depositRefused')) throw new StoreFault();
    if (this.#hit('depositDropped')) return 'ok';
    const outcome = this.#inner.deposit(entry, quotas, now);
    if (outcome !== 'ok') return outcome;
    if (this.#hit('depositDuplicated')) this.#inner.deposit(entry, quotas, now);
    if (this.#hit('depositAnswerLost')) throw new StoreFault();
    return outcome;
  }

  /** Deletes the newest envelope of a mailbox (the one just deposited). */
  #forgetNewest(mailboxId: Uint8Array, now: number): void {
    let newest: number | undefined;
    let after = 0;
    for (;;) {
      const page = this.#inner.list(mailboxId, after, MAILBOX_PAGE_ENVELOPES, now);
      for (const item of page.items) newest = Math.max(newest ?? 0, item.id);
      if (!page.more || page.items.length === 0) break;
      after = page.items[page.items.length - 1]?.id ?? after;
    }
    if (newest !== undefined) this.#inner.delete(mailboxId, [newest]);
  }

  list(mailboxId: Uint8Array, after: number, maxCount: number, now: number): Page<MailboxEntryInfo> {
    return this.#inner.list(mailboxId, after, maxCount, now);
  }

  fetch(mailboxId: Uint8Array, after: number, maxCount: number, maxBytes: number, now: number): Page<MailboxEnvelope> {
    this.fetches++;
    const page = this.#inner.fetch(mailboxId, after, maxCount, maxBytes, now);
    let items = page.items.map((item) => ({ ...item }));
    if (items.length > 1 && this.#hit('fetchOmitted')) items = items.filter((_, i) => i % 2 === 0);
    if (items.length > 0 && this.#hit('fetchTruncated')) {
      const i = Math.floor(this.#random() * items.length);
      const victim = items[i] as MailboxEnvelope;
      const bytes = this.#random() < 0.5 ? victim.envelope.slice(0, Math.max(1, victim.envelope.length >> 1)) : flipOneByte(victim.envelope, this.#random);
      items[i] = { ...victim, envelope: bytes };
    }
    if (items.length > 0 && this.#hit('fetchDuplicated')) items.push({ ...(items[Math.floor(this.#random() * items.length)] as MailboxEnvelope) });
    if (items.length > 1 && this.#hit('fetchReordered')) items.reverse();
    return { items, more: page.more };
  }

  delete(mailboxId: Uint8Array, ids: readonly number[]): number {
    const kept = ids.filter(() => !this.#hit('ackIgnored'));
    return this.#inner.delete(mailboxId, kept);
  }

  sweep(now: number): number {
    return this.#inner.sweep(now);
  }

  stats(): MailboxStoreStats {
    return this.#inner.stats();
  }

  close(): void {
    this.#inner.close();
  }
}

function flipOneByte(envelope: Uint8Array, random: () => number): Uint8Array {
  const out = envelope.slice();
  const i = Math.floor(random() * out.length);
  out[i] = (out[i] as number) ^ 0x40;
  return out;
}

export interface FaultyRelay {
  readonly node: ParleyNode;
  readonly store: FaultyMailboxStore;
  readonly address: string;
  stop(): Promise<void>;
}

/** A relay (circuit relay server, DHT server, mailbox) on `127.0.0.1:port` with injected faults. */
export async function startFaultyRelay(dir: string, port: number, faults: Faults, seed: number): Promise<FaultyRelay> {
  const inner = LibsqlMailboxStore.open(path.join(dir, 'faulty-mailbox.db'));
  const store = new FaultyMailboxStore(inner, faults, seededRandom(seed));
  const node = await createParleyNode({
    privateKey: await generateDeviceKey(),
    listen: [`/ip4/127.0.0.1/tcp/${port}`],
    lan: false,
    relayServer: true,
    dhtMode: 'server',
  });
  const server = new MailboxServer(node, { store });
  await server.start();
  await node.start();
  return {
    node,
    store,
    address: `/ip4/127.0.0.1/tcp/${port}/p2p/${node.peerId.toString()}`,
    async stop() {
      await server.stop();
      await node.stop();
      store.close();
    },
  };
}
