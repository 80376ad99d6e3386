/**
 * Turns the probe spans of the two peer processes (net-phases.ts) into "where the time goes":
 * per message of the latency run, the consecutive phases from the send command to the
 * receiver's event; for the throughput run, batch sizes, commits and CPU per message.
 *
 *   const phases = latencyPhases(sends, receivedAt, aliceSpans, bobSpans);
 */
import type { Span } from './net-phases';
import { round, summarize, type LatencySummary } from './net-stats';

export interface SendTiming {
  /** Before `messages.send` was called (ns). */
  readonly t0: number;
  /** When the receiver's `message.received` fired (ns). */
  readonly received: number;
}

/** The phases, in order; they add up to the latency of the message. */
export const PHASES = {
  dispatch_ms: 'messages.send called → Messenger.sendText starts (argument validation, lookups)',
  send_store_ms: 'sendText: message row, ratchet encrypt, outbox row, commit (fsync)',
  outbox_to_request_ms: 'sendText done → msg request starts (outbox kick, pending query, batch encode)',
  request_to_handler_ms: 'msg request starts → receiver handler has the stream (stream open, protocol select, rate limit)',
  handler_to_receive_ms: 'receiver reads the frame and the end of the stream, admits the peer',
  receive_store_ms: 'receiveBatch: decrypt, dedup, store, queue delivery receipt, commit (fsync)',
  emit_ms: 'receiveBatch done → message.received event fired',
} as const;
export type PhaseName = keyof typeof PHASES;

const byStart = (spans: readonly Span[], kind: Span['kind'], protocol?: string): Span[] =>
  spans.filter((s) => s.kind === kind && (protocol === undefined || s.protocol === protocol)).sort((a, b) => a.start - b.start);

/** The first span starting at or after `t` (spans sorted by start). */
function firstFrom(spans: readonly Span[], t: number): Span | undefined {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((spans[mid] as Span).start < t) lo = mid + 1;
    else hi = mid;
  }
  return spans[lo];
}

export interface LatencyPhases {
  /** Messages whose spans were all found (one message per batch). */
  readonly matched: number;
  readonly phases_ms: Record<PhaseName, LatencySummary>;
  readonly send_commit_ms: LatencySummary;
  readonly receive_commit_ms: LatencySummary;
  readonly meaning: typeof PHASES;
}

export function latencyPhases(sends: readonly SendTiming[], senderSpans: readonly Span[], receiverSpans: readonly Span[], msgProtocol: string): LatencyPhases {
  const stores = byStart(senderSpans, 'send.store');
  const requests = byStart(senderSpans, 'msg.request');
  const streams = byStart(receiverSpans, 'msg.stream', msgProtocol);
  const receives = byStart(receiverSpans, 'recv.store');
  const samples: Record<PhaseName, number[]> = {
    dispatch_ms: [],
    send_store_ms: [],
    outbox_to_request_ms: [],
    request_to_handler_ms: [],
    handler_to_receive_ms: [],
    receive_store_ms: [],
    emit_ms: [],
  };
  const sendCommit: number[] = [];
  const receiveCommit: number[] = [];
  let matched = 0;
  for (const { t0, received } of sends) {
    const store = firstFrom(stores, t0);
    const request = store && firstFrom(requests, store.start);
    const stream = request && firstFrom(streams, request.start);
    const receive = stream && firstFrom(receives, stream.start);
    if (!store || !request || !stream || !receive || receive.end > received || request.n !== 1) continue;
    matched++;
    const ms = (a: number, b: number): number => (b - a) / 1e6;
    samples.dispatch_ms.push(ms(t0, store.start));
    samples.send_store_ms.push(ms(store.start, store.end));
    samples.outbox_to_request_ms.push(ms(store.end, request.start));
    samples.request_to_handler_ms.push(ms(request.start, stream.start));
    samples.handler_to_receive_ms.push(ms(stream.start, receive.start));
    samples.receive_store_ms.push(ms(receive.start, receive.end));
    samples.emit_ms.push(ms(receive.end, received));
    sendCommit.push(store.commitNs / 1e6);
    receiveCommit.push(receive.commitNs / 1e6);
  }
  const phases = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])) as Record<PhaseName, LatencySummary>;
  return { matched, phases_ms: phases, send_commit_ms: summarize(sendCommit), receive_commit_ms: summarize(receiveCommit), meaning: PHASES };
}

/** Count, mean batch size and mean duration of one kind of span. */
export function spanTotals(spans: readonly Span[], kind: Span['kind'], protocol?: string) {
  const list = byStart(spans, kind, protocol);
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
