/**
 * Where a message's time goes, measured inside a running core without changing src/: wraps a
 * few prototype methods on the send and receive paths and records when each call started and
 * ended (monotonic nanoseconds, comparable across processes on one machine). Installed only in
 * the benchmark's peer processes. Each wrapper costs two clock reads (well under 1 µs) against
 * phases of 0.1 ms and more; a sync span also names its caller from three raw stack frames (~3 µs,
 * once per fsync of about 1 ms).
 *
 *   installPhaseProbes();            // before startCore
 *   ...                              // run traffic
 *   const spans = takeSpans();       // [{ kind: 'send.store', start, end, commitNs, n }, …]
 *
 * Kinds:
 * - `send.store`   the send transaction: from its BEGIN, through Messenger.sendText (message
 *                  row, encrypt, outbox row) and the draft clearing around it, to its COMMIT.
 *                  The commit defers its fsync (`deferSync`): the sync comes after.
 * - `sync`         Db.sync, one fdatasync of the WAL shared by concurrent callers (group
 *                  commit); `caller` says who waited: the send command before answering, the
 *                  outbox before transmitting, the receiver before acknowledging.
 * - `msg.request`  Msg.send on the sender: one exchange on the kept-alive stream (opened first
 *                  if there is none), request out, receiver's store and sync, statuses back.
 * - `recv.store`   Messenger.receiveBatch, once per msg exchange on the receiver: decrypt,
 *                  dedup, store, queue receipts, one COMMIT (deferred fsync).
 * - `msg.respond`  a point (start = end): a responder hands an exchange's response to the
 *                  stream (see respondPoints), once per exchange also on a kept-alive stream.
 * - `other.txn`    any other top-level transaction: the outbox recording a batch's statuses,
 *                  marking attempts, contacts, settings.
 * `commitNs` is the time spent in COMMIT inside the span: an fsync only for transactions that
 * do not defer it.
 */
import type { Stream } from '@libp2p/interface';
import { Messenger } from '../../src/main/core/messaging/messenger';
import { Msg } from '../../src/main/net/protocols/msg/msg';
import { RequestResponse, type RequestResponseStats } from '../../src/main/net/request-response';
import { Db } from '../../src/main/store/database';

export type SpanKind = 'send.store' | 'sync' | 'msg.request' | 'recv.store' | 'msg.respond' | 'other.txn';

/** Who waited for a sync (see SYNC_CALLERS). */
export type SyncCaller = 'send' | 'outbox' | 'receive' | 'other';

export interface Span {
  readonly kind: SpanKind;
  readonly start: number;
  end: number;
  /** Nanoseconds spent in COMMIT during this span. */
  commitNs: number;
  /** Envelopes in the batch (msg.request, recv.store), else 1. */
  readonly n: number;
  /** The protocol of a msg.respond point. */
  readonly protocol?: string;
  /** Who called a sync. */
  readonly caller?: SyncCaller;
}

export interface CommitTotals {
  readonly commits: number;
  readonly commitMs: number;
  readonly transactions: number;
}

/**
 * The callers of Store.sync, by source file (file names survive transpiling; a private
 * method's name is `#sendBatch` or mangled, depending on the target).
 */
const SYNC_CALLERS: readonly (readonly [RegExp, SyncCaller])[] = [
  [/[/\\]core[/\\]peer\.ts$/, 'send'], // Peer.send: before the send command answers
  [/[/\\]outbox-worker\.ts$/, 'outbox'], // OutboxWorker: before a batch leaves
  [/[/\\]inbound\.ts$/, 'receive'], // inbound commit: before a batch is acknowledged
];
/** Frames of the store itself (Store.sync → Db.sync), skipped to reach the caller. */
const STORE_FRAME = /[/\\]store[/\\][^/\\]+\.ts$/;
/** Enough frames to pass Store.sync and reach its caller. */
const CALLER_FRAMES = 3;

const now = (): number => Number(process.hrtime.bigint());

let spans: Span[] = [];
/** The synchronous span (send.store, recv.store, other.txn) a COMMIT is attributed to. */
let current: Span | undefined;
/** The top-level transaction in progress when no probe span encloses it. */
let transaction: Span | undefined;
/** sendText ran inside `transaction`: it becomes a send.store span once that commits. */
let sendInTransaction = false;
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

/** Runs `original` as `span`, the span COMMITs are attributed to; `finish` records it. */
function runAs(span: Span, original: Method, self: unknown, args: unknown[], finish: (span: Span) => void): unknown {
  const outer = current;
  current = span;
  try {
    return original.apply(self, args);
  } finally {
    span.end = now();
    current = outer;
    finish(span);
  }
}

const record = (span: Span): void => void spans.push(span);

function asyncSpan(kind: SpanKind, n: (args: unknown[]) => number, caller?: () => SyncCaller) {
  return (original: Method): Method =>
    function (this: unknown, ...args: unknown[]) {
      const span: Span = { kind, start: now(), end: 0, commitNs: 0, n: n(args), ...(caller ? { caller: caller() } : {}) };
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

const callSites = (_error: Error, sites: NodeJS.CallSite[]): NodeJS.CallSite[] => sites;

/** Who called Store.sync, from raw call sites (no source-map lookup, which would cost ~10 µs). */
function syncCaller(): SyncCaller {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  const holder: { stack?: unknown } = {};
  let sites: NodeJS.CallSite[];
  try {
    Error.stackTraceLimit = CALLER_FRAMES;
    Error.prepareStackTrace = callSites;
    Error.captureStackTrace(holder, syncCaller);
    // Formatted on first access, with the prepareStackTrace of that moment: read it here.
    sites = holder.stack as NodeJS.CallSite[];
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
  // sites[0] is the probe's wrapper; then Store.sync; then the caller.
  for (const site of sites.slice(1)) {
    const file = site.getFileName() ?? '';
    if (STORE_FRAME.test(file)) continue;
    return SYNC_CALLERS.find(([pattern]) => pattern.test(file))?.[1] ?? 'other';
  }
  return 'other';
}

/**
 * The responder's handler is private to RequestResponse, but each exchange ends in exactly one
 * `stream.send` of the response frame (writeFrame; closing the stream sends no data). So
 * RequestResponse.onStream, called once per inbound stream, wraps that stream's `send` to mark
 * the moment each response is handed to the muxer. The `served` counter would be later: it
 * counts after writeFrame resolves, which may wait for a drain event behind other work.
 */
function respondPoints(original: Method): Method {
  return function (this: unknown, ...args: unknown[]) {
    const stream = args[0] as Stream;
    const protocol = (this as RequestResponse).protocol;
    const send = stream.send;
    stream.send = function (this: Stream, ...sendArgs: Parameters<Stream['send']>) {
      const t = now();
      spans.push({ kind: 'msg.respond', start: t, end: t, commitNs: 0, n: 1, protocol });
      return send.apply(this, sendArgs);
    };
    return original.apply(this, args);
  };
}

let installed = false;

export function installPhaseProbes(): void {
  if (installed) return;
  installed = true;
  wrap(Messenger.prototype, 'sendText', (original) =>
    function (this: unknown, ...args: unknown[]) {
      // Inside the send command's transaction, the COMMIT comes after sendText returns: the
      // transaction's span becomes the send.store span when it ends.
      const inside = transaction !== undefined && current === transaction;
      const span: Span = { kind: 'send.store', start: now(), end: 0, commitNs: 0, n: 1 };
      return runAs(span, original, this, args, inside ? () => void (sendInTransaction = true) : record);
    },
  );
  wrap(Messenger.prototype, 'receiveBatch', (original) =>
    function (this: unknown, ...args: unknown[]) {
      const span: Span = { kind: 'recv.store', start: now(), end: 0, commitNs: 0, n: (args[2] as unknown[]).length };
      return runAs(span, original, this, args, record);
    },
  );
  wrap(Msg.prototype, 'send', asyncSpan('msg.request', (args) => (args[1] as unknown[]).length));
  wrap(Db.prototype, 'sync', asyncSpan('sync', () => 1, syncCaller));
  // Bound in the constructor: wrapped here before the core creates its services.
  wrap(RequestResponse.prototype, 'onStream', respondPoints);
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
      const span: Span = { kind: 'other.txn', start: now(), end: 0, commitNs: 0, n: 1 };
      transaction = span;
      sendInTransaction = false;
      return runAs(span, original, this, args, (done) => {
        transaction = undefined;
        record(sendInTransaction ? { ...done, kind: 'send.store' } : done);
        sendInTransaction = false;
      });
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
