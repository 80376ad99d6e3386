/**
 * Where a message's time goes, measured inside a running core without changing src/: wraps a
 * few prototype methods on the send and receive paths and records when each call started and
 * ended (monotonic nanoseconds, comparable across processes on one machine). Installed only in
 * the benchmark's peer processes. Each wrapper costs two clock reads (well under 1 µs) against
 * phases of 0.1 ms and more.
 *
 *   installPhaseProbes();            // before startCore
 *   ...                              // run traffic
 *   const spans = takeSpans();       // [{ kind: 'send.store', start, end, commitNs, n }, …]
 *
 * Kinds:
 * - `send.store`   Messenger.sendText: the message row, encrypt, outbox row, one commit (fsync).
 * - `msg.request`  Msg.send on the sender: stream open, request out, receiver's commit, status back.
 * - `msg.stream`   RequestResponse.onStream on the receiver: from libp2p handing over the
 *                  negotiated stream to the response being written and closed.
 * - `recv.store`   Messenger.receiveBatch: decrypt, dedup, store, queue receipts, one commit.
 * - `outbox.ack`   the sender's transaction after a batch was acknowledged (Store.transaction
 *                  called from OutboxWorker; recognised as a transaction outside the others).
 * `commitNs` is the time spent in COMMIT inside the span (the WAL fsync of `synchronous=FULL`).
 */
import { Messenger } from '../../src/main/core/messaging/messenger';
import { Msg } from '../../src/main/net/protocols/msg/msg';
import { RequestResponse, type RequestResponseStats } from '../../src/main/net/request-response';
import { Db } from '../../src/main/store/database';

export type SpanKind = 'send.store' | 'msg.request' | 'msg.stream' | 'recv.store' | 'other.txn';

export interface Span {
  readonly kind: SpanKind;
  readonly start: number;
  end: number;
  /** Nanoseconds spent in COMMIT (fsync) during this span. */
  commitNs: number;
  /** Envelopes in the batch (msg.request, recv.store), else 1. */
  readonly n: number;
  /** The protocol of a msg.stream span. */
  readonly protocol?: string;
}

export interface CommitTotals {
  readonly commits: number;
  readonly commitMs: number;
  readonly transactions: number;
}

const now = (): number => Number(process.hrtime.bigint());

let spans: Span[] = [];
/** Synchronous spans (send.store, recv.store) that a COMMIT is attributed to. */
let current: Span | undefined;
let commits = 0;
let commitNs = 0;
let transactions = 0;
const services: RequestResponse[] = [];

type Method = (this: unknown, ...args: unknown[]) => unknown;

function wrap(proto: object, name: string, make: (original: Method) => Method): void {
  const target = proto as Record<string, Method>;
  const original = target[name];
  if (typeof original !== 'function') throw new Error(`phase probe: no method ${name}`);
  target[name] = make(original);
}

function syncSpan(kind: SpanKind, n: (args: unknown[]) => number) {
  return (original: Method): Method =>
    function (this: unknown, ...args: unknown[]) {
      const span: Span = { kind, start: now(), end: 0, commitNs: 0, n: n(args) };
      const outer = current;
      current = span;
      try {
        return original.apply(this, args);
      } finally {
        span.end = now();
        current = outer;
        spans.push(span);
      }
    };
}

function asyncSpan(kind: SpanKind, n: (self: unknown, args: unknown[]) => number, protocol?: (self: unknown) => string) {
  return (original: Method): Method =>
    function (this: unknown, ...args: unknown[]) {
      const span: Span = { kind, start: now(), end: 0, commitNs: 0, n: n(this, args), ...(protocol ? { protocol: protocol(this) } : {}) };
      const done = (): void => {
        span.end = now();
        spans.push(span);
      };
      const result = original.apply(this, args) as Promise<unknown>;
      return result.then(
        (value) => {
          done();
          return value;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      );
    };
}

let installed = false;

export function installPhaseProbes(): void {
  if (installed) return;
  installed = true;
  wrap(Messenger.prototype, 'sendText', syncSpan('send.store', () => 1));
  wrap(Messenger.prototype, 'receiveBatch', syncSpan('recv.store', (args) => (args[2] as unknown[]).length));
  wrap(Msg.prototype, 'send', asyncSpan('msg.request', (_self, args) => (args[1] as unknown[]).length));
  wrap(RequestResponse.prototype, 'onStream', asyncSpan('msg.stream', () => 1, (self) => (self as RequestResponse).protocol));
  wrap(RequestResponse.prototype, 'start', (original) =>
    function (this: unknown, ...args: unknown[]) {
      if (!services.includes(this as RequestResponse)) services.push(this as RequestResponse);
      return original.apply(this, args);
    },
  );
  wrap(Db.prototype, 'transaction', (original) =>
    function (this: unknown, ...args: unknown[]) {
      if ((this as Db).inTransaction) return original.apply(this, args);
      transactions++;
      if (current) return original.apply(this, args);
      // A top-level transaction outside sendText/receiveBatch: the outbox acknowledging a batch,
      // marking attempts, contacts, settings.
      return syncSpan('other.txn', () => 1)(original).apply(this, args);
    },
  );
  wrap(Db.prototype, 'exec', (original) =>
    function (this: unknown, ...args: unknown[]) {
      if (args[0] !== 'COMMIT') return original.apply(this, args);
      const t0 = now();
      try {
        return original.apply(this, args);
      } finally {
        const dt = now() - t0;
        commits++;
        commitNs += dt;
        if (current) current.commitNs += dt;
      }
    },
  );
}

/** Returns the spans recorded since the last call and forgets them. */
export function takeSpans(): Span[] {
  const out = spans;
  spans = [];
  return out;
}

/** Commits and top-level transactions since the last call. */
export function takeCommitTotals(): CommitTotals {
  const out = { commits, commitMs: commitNs / 1e6, transactions };
  commits = 0;
  commitNs = 0;
  transactions = 0;
  return out;
}

/** Counters of every request-response service of this process (msg, hello), by protocol. */
export function serviceStats(): Record<string, RequestResponseStats> {
  return Object.fromEntries(services.map((s) => [s.protocol, { ...s.stats }]));
}
