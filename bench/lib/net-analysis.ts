/**
 * Turns the probe spans of the two peer processes (net-phases.ts) into "where the time goes":
 * per message of the latency run, the consecutive phases from the send command to the
 * receiver's event, then what follows the event until the sender has its acknowledgement; for
 * the throughput run, batch sizes, commits, syncs and CPU per message.
 *
 *   const phases = latencyPhases(sends, aliceSpans, bobSpans, MSG_PROTOCOL);
 */
import type { Span, SyncCaller } from './net-phases';
import { round, summarize, type LatencySummary } from './net-stats';

export interface SendTiming {
  /** Before `messages.send` was called (ns). */
  readonly t0: number;
  /** When the receiver's `message.received` fired (ns). */
  readonly received: number;
}

/** The phases, in order; they add up to the latency of the message. */
export const PHASES = {
  dispatch_ms: 'messages.send called → the send transaction begins (argument validation, lookups)',
  send_store_ms: 'the send transaction: message row, ratchet encrypt, outbox row, draft cleared, COMMIT (fsync deferred)',
  previous_batch_ms:
    "COMMIT → the previous batch to that device is answered (one batch is in flight per device; the answer waits for the receiver's sync), 0 when none is in flight",
  outbox_to_sync_ms: 'then → the outbox starts its sync before sending (previous statuses recorded, outbox kick, pending query)',
  send_sync_ms: "the outbox's Store.sync: fdatasync of the WAL, shared with the send command's own sync",
  sync_to_request_ms: 'sync done → Msg.send starts',
  request_to_receive_ms:
    'Msg.send starts → the receiver starts receiveBatch (batch encode, frame written on the kept-alive stream, Noise/yamux/TCP, frame read, rate limit, admission, batch decode)',
  receive_store_ms: 'receiveBatch: decrypt, dedup, store, queue the delivery receipt, COMMIT (fsync deferred)',
  emit_ms: 'receiveBatch done → message.received fired (before the receiver syncs)',
} as const;
export type PhaseName = keyof typeof PHASES;

/** After the event, in order, until the sender's request resolves (not part of the latency). */
export const AFTER_EVENT = {
  receiver_sync_ms: "message.received → the receiver's Store.sync done (fdatasync of the WAL before acknowledging)",
  respond_ms: 'sync done → the response handed to the stream (statuses encoded)',
  response_to_sender_ms: "response handed to the stream → the sender's Msg.send resolves (yamux, Noise, TCP, frame read, statuses decoded)",
} as const;
export type AfterEventName = keyof typeof AFTER_EVENT;

type Match = { protocol?: string; caller?: SyncCaller };

const byStart = (spans: readonly Span[], kind: Span['kind'], match: Match = {}): Span[] =>
  spans
    .filter(
      (s) => s.kind === kind && (match.protocol === undefined || s.protocol === match.protocol) && (match.caller === undefined || s.caller === match.caller),
    )
    .sort((a, b) => a.start - b.start);

/** The index of the first span starting at or after `t` (spans sorted by start). */
function indexFrom(spans: readonly Span[], t: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((spans[mid] as Span).start < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first span starting at or after `t`. */
const firstFrom = (spans: readonly Span[], t: number): Span | undefined => spans[indexFrom(spans, t)];
/** The last span starting before `t`. */
const lastBefore = (spans: readonly Span[], t: number): Span | undefined => spans[indexFrom(spans, t) - 1];

/** Where matching stopped for messages that were not matched, by the first span not found. */
type Unmatched = Record<'send_store' | 'outbox_sync' | 'msg_request' | 'receive_store' | 'out_of_order', number>;

export interface LatencyPhases {
  /** Messages whose spans were all found (one message per batch). */
  readonly matched: number;
  readonly unmatched: Unmatched;
  readonly phases_ms: Record<PhaseName, LatencySummary>;
  /** Of the matched messages whose receiver sync, response and request end were found. */
  readonly after_event_ms: Record<AfterEventName, LatencySummary>;
  /** COMMIT inside the two store phases (without an fsync: it is deferred to the syncs). */
  readonly send_commit_ms: LatencySummary;
  readonly receive_commit_ms: LatencySummary;
  readonly meaning: typeof PHASES & typeof AFTER_EVENT;
}

const summarizeAll = <K extends string>(samples: Record<K, number[]>): Record<K, LatencySummary> =>
  Object.fromEntries(Object.entries<number[]>(samples).map(([k, v]) => [k, summarize(v)])) as Record<K, LatencySummary>;

export function latencyPhases(sends: readonly SendTiming[], senderSpans: readonly Span[], receiverSpans: readonly Span[], msgProtocol: string): LatencyPhases {
  const stores = byStart(senderSpans, 'send.store');
  const outboxSyncs = byStart(senderSpans, 'sync', { caller: 'outbox' });
  const requests = byStart(senderSpans, 'msg.request');
  const receives = byStart(receiverSpans, 'recv.store');
  const receiverSyncs = byStart(receiverSpans, 'sync', { caller: 'receive' });
  const responses = byStart(receiverSpans, 'msg.respond', { protocol: msgProtocol });
  const samples: Record<PhaseName, number[]> = {
    dispatch_ms: [],
    send_store_ms: [],
    previous_batch_ms: [],
    outbox_to_sync_ms: [],
    send_sync_ms: [],
    sync_to_request_ms: [],
    request_to_receive_ms: [],
    receive_store_ms: [],
    emit_ms: [],
  };
  const after: Record<AfterEventName, number[]> = { receiver_sync_ms: [], respond_ms: [], response_to_sender_ms: [] };
  const sendCommit: number[] = [];
  const receiveCommit: number[] = [];
  const unmatched: Unmatched = { send_store: 0, outbox_sync: 0, msg_request: 0, receive_store: 0, out_of_order: 0 };
  let matched = 0;
  const ms = (a: number, b: number): number => (b - a) / 1e6;
  for (const { t0, received } of sends) {
    const store = firstFrom(stores, t0);
    if (!store) {
      unmatched.send_store++;
      continue;
    }
    const sync = firstFrom(outboxSyncs, store.end);
    if (!sync) {
      unmatched.outbox_sync++;
      continue;
    }
    const request = firstFrom(requests, sync.end);
    if (!request || request.n !== 1) {
      unmatched.msg_request++;
      continue;
    }
    const receive = firstFrom(receives, request.start);
    if (!receive) {
      unmatched.receive_store++;
      continue;
    }
    if (receive.end > received || store.start > received) {
      unmatched.out_of_order++;
      continue;
    }
    matched++;
    samples.dispatch_ms.push(ms(t0, store.start));
    samples.send_store_ms.push(ms(store.start, store.end));
    // The outbox sends one batch per device at a time: a batch still in flight at COMMIT is answered first.
    const answered = Math.min(sync.start, Math.max(store.end, lastBefore(requests, store.end)?.end ?? 0));
    samples.previous_batch_ms.push(ms(store.end, answered));
    samples.outbox_to_sync_ms.push(ms(answered, sync.start));
    samples.send_sync_ms.push(ms(sync.start, sync.end));
    samples.sync_to_request_ms.push(ms(sync.end, request.start));
    samples.request_to_receive_ms.push(ms(request.start, receive.start));
    samples.receive_store_ms.push(ms(receive.start, receive.end));
    samples.emit_ms.push(ms(receive.end, received));
    sendCommit.push(store.commitNs / 1e6);
    receiveCommit.push(receive.commitNs / 1e6);
    const receiverSync = firstFrom(receiverSyncs, receive.end);
    const response = receiverSync && firstFrom(responses, receiverSync.end);
    if (!receiverSync || !response || response.start > request.end) continue;
    after.receiver_sync_ms.push(ms(received, receiverSync.end));
    after.respond_ms.push(ms(receiverSync.end, response.start));
    after.response_to_sender_ms.push(ms(response.start, request.end));
  }
  return {
    matched,
    unmatched,
    phases_ms: summarizeAll(samples),
    after_event_ms: summarizeAll(after),
    send_commit_ms: summarize(sendCommit),
    receive_commit_ms: summarize(receiveCommit),
    meaning: { ...PHASES, ...AFTER_EVENT },
  };
}

/** Count, mean batch size and mean duration of one kind of span. */
export function spanTotals(spans: readonly Span[], kind: Span['kind'], match: Match = {}) {
  const list = byStart(spans, kind, match);
  const n = list.reduce((a, s) => a + s.n, 0);
  const ms = list.reduce((a, s) => a + (s.end - s.start), 0) / 1e6;
  const commitMs = list.reduce((a, s) => a + s.commitNs, 0) / 1e6;
  return {
    count: list.length,
    items: n,
    mean_batch: list.length ? round(n / list.length, 2) : 0,
    mean_ms: list.length ? round(ms / list.length) : 0,
    total_ms: round(ms, 1),
    commit_total_ms: round(commitMs, 1),
  };
}

/** Store.sync calls by caller: how many, and how long each waited (for its own or a shared fsync). */
export function syncTotals(spans: readonly Span[]) {
  const callers: readonly SyncCaller[] = ['send', 'outbox', 'receive', 'other'];
  return Object.fromEntries(
    callers.map((caller) => {
      const { count, mean_ms, total_ms } = spanTotals(spans, 'sync', { caller });
      return [caller, { count, mean_ms, total_ms }];
    }),
  ) as Record<SyncCaller, { count: number; mean_ms: number; total_ms: number }>;
}
