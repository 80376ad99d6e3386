/**
 * The relay side of `/parley/mailbox/1.0.0` (wire format: codec.ts). Open to anyone, over
 * direct and relayed connections; every request is rate-limited per PeerId before it is read.
 *
 * DEPOSIT: size check, the depositor's deposit budget, then the quotas (mailbox, depositor,
 * relay) and the insert in one store transaction. Owner operations: the challenge is looked up
 * and used up first (bound to this PeerId and mailbox, fresh), then the signature is checked
 * against the presented key, whose keyed hash must be the mailbox id. Any failure is one
 * status, `unauthorized`, with no data: a wrong, replayed, expired or foreign challenge
 * signature learns nothing, not even whether the mailbox holds anything.
 *
 * The server never logs: it reports each exchange to `onActivity` as op, status, sizes and a
 * short keyed tag of the mailbox (keys.ts `mailboxLogTag`), never ids or envelope bytes.
 */
import type { PeerId } from '@libp2p/interface';
import { hmacSha256, randomBytes } from '../../../../crypto';
import { admitAnyone } from '../../gater';
import { RateLimiter } from '../../rate-limit';
import { RequestResponse, type ProtocolHost, type RequestContext } from '../../request-response';
import { Challenges } from './challenges';
import { decodeRequest, encodeResponse, type MailboxRequest, type MailboxResponse, type OwnerRequest } from './codec';
import {
  MAILBOX_MAX_REQUEST_BYTES,
  MAILBOX_MAX_RESPONSE_BYTES,
  MAILBOX_OP,
  MAILBOX_PAGE_ENVELOPES,
  MAILBOX_PROTOCOL,
  MAILBOX_TIMEOUT_MS,
  type MailboxOp,
  type MailboxStatus,
} from './constants';
import { authMessage, mailboxLogTag, verifyMailboxAuth } from './keys';
import { resolveMailboxLimits, type MailboxLimits } from './limits';
import type { MailboxStore } from './store';

/** One exchange, as the relay may log it: no ids, no envelope bytes. */
export interface MailboxActivity {
  op: MailboxOp | 'sweep';
  status: MailboxStatus;
  /** Short keyed tag of the mailbox (8 hex digits), when the request named one. */
  mailbox?: string;
  /** Envelope bytes deposited or returned. */
  bytes?: number;
  /** Envelopes returned, listed, deleted or swept. */
  count?: number;
}

export interface MailboxServerInit {
  store: MailboxStore;
  limits?: Partial<MailboxLimits>;
  /** Milliseconds clock (tests move it to expire challenges and envelopes). */
  now?: () => number;
  onActivity?: (activity: MailboxActivity) => void;
}

/** Bytes of the depositor tag (keyed hash of a PeerId). */
const DEPOSITOR_TAG_BYTES = 16;

export class MailboxServer {
  readonly limits: Readonly<MailboxLimits>;
  readonly #service: RequestResponse;
  readonly #store: MailboxStore;
  readonly #now: () => number;
  readonly #onActivity: (activity: MailboxActivity) => void;
  readonly #challenges: Challenges;
  readonly #deposits: RateLimiter;
  /** Keys the depositor tags; in memory only, new at every start (see NewEnvelope.depositor). */
  readonly #depositorKey = randomBytes(32);
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(host: ProtocolHost, init: MailboxServerInit) {
    this.limits = Object.freeze(resolveMailboxLimits(init.limits));
    this.#store = init.store;
    this.#now = init.now ?? Date.now;
    this.#onActivity = init.onActivity ?? ((): void => undefined);
    this.#challenges = new Challenges(
      { ttlMs: this.limits.challengeTtlMs, maxPerPeer: this.limits.maxChallengesPerPeer, maxTotal: this.limits.maxChallenges },
      this.#now,
    );
    this.#deposits = new RateLimiter({ ...this.limits.depositRateLimit, now: this.#now });
    this.#service = new RequestResponse(
      { host },
      {
        protocol: MAILBOX_PROTOCOL,
        // Senders are strangers to the relay, and so are owners: the mailbox key is the only credential.
        admit: admitAnyone,
        // The protocol's ceiling, not the operator's envelope limit: an envelope above that
        // limit gets a typed `tooLarge`, not a reset.
        maxRequestBytes: MAILBOX_MAX_REQUEST_BYTES,
        maxResponseBytes: MAILBOX_MAX_RESPONSE_BYTES,
        timeoutMs: MAILBOX_TIMEOUT_MS,
        rateLimit: this.limits.requestRateLimit,
        runOnLimitedConnection: true,
        now: this.#now,
        handler: (frame, context) => this.#handle(frame, context),
      },
    );
  }

  /** What the protocol handler has done since start (served, rate-limited, violations…). */
  get stats(): RequestResponse['stats'] {
    return this.#service.stats;
  }

  async start(): Promise<void> {
    await this.#service.start();
    if (this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => this.sweep(), this.limits.sweepIntervalMs);
      this.#sweeper.unref();
    }
  }

  /** Stops serving; the store stays open (its owner closes it). */
  async stop(): Promise<void> {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    await this.#service.stop();
    this.#challenges.clear();
    this.#deposits.clear();
  }

  /** Deletes expired envelopes from disk now; returns how many (also run every sweepIntervalMs). */
  sweep(): number {
    let count = 0;
    try {
      count = this.#store.sweep(this.#now());
    } catch {
      this.#report({ op: 'sweep', status: 'unavailable' });
      return 0;
    }
    this.#report({ op: 'sweep', status: 'ok', count });
    return count;
  }

  #handle(frame: Uint8Array, context: RequestContext): Uint8Array {
    // Malformed frames throw InvalidFrameError: the stream is reset and the peer penalised.
    const request = decodeRequest(frame);
    const peer = context.peerId.toString();
    let response: MailboxResponse;
    try {
      response = this.#dispatch(request, context.peerId, peer);
    } catch {
      // A store failure (disk full, I/O): a typed answer so the sender tries another relay.
      // The error itself is not reported: store messages may name paths or values.
      response = { op: request.op, status: 'unavailable' };
      this.#report({ op: request.op, status: 'unavailable', mailbox: mailboxLogTag(mailboxOf(request)) });
    }
    return encodeResponse(response);
  }

  #dispatch(request: MailboxRequest, peerId: PeerId, peer: string): MailboxResponse {
    switch (request.op) {
      case 'deposit':
        return this.#deposit(request, peerId, peer);
      case 'challenge': {
        const challenge = this.#challenges.issue(peer, request.mailboxId);
        this.#report({ op: 'challenge', status: 'ok', mailbox: mailboxLogTag(request.mailboxId) });
        return { op: 'challenge', status: 'ok', challenge, ttlMs: this.limits.challengeTtlMs };
      }
      case 'list':
      case 'fetch':
      case 'ack':
        return this.#owner(request, peer);
      default:
        return unreachable(request);
    }
  }

  #deposit(request: Extract<MailboxRequest, { op: 'deposit' }>, peerId: PeerId, peer: string): MailboxResponse {
    const { mailboxId, envelope } = request;
    const tag = mailboxLogTag(mailboxId);
    const refuse = (status: Exclude<MailboxStatus, 'ok'>): MailboxResponse => {
      this.#report({ op: 'deposit', status, mailbox: tag, bytes: envelope.length });
      return { op: 'deposit', status };
    };
    if (envelope.length > this.limits.maxEnvelopeBytes) return refuse('tooLarge');
    if (!this.#deposits.tryRemove(peer)) return refuse('rateLimited');
    const now = this.#now();
    const outcome = this.#store.deposit(
      {
        mailboxId,
        envelope,
        depositor: hmacSha256(this.#depositorKey, peerId.toMultihash().bytes).slice(0, DEPOSITOR_TAG_BYTES),
        depositedAt: now,
        expiresAt: now + this.limits.ttlMs,
      },
      this.limits,
      now,
    );
    if (outcome !== 'ok') return refuse(outcome);
    this.#report({ op: 'deposit', status: 'ok', mailbox: tag, bytes: envelope.length });
    return { op: 'deposit', status: 'ok' };
  }

  #owner(request: OwnerRequest, peer: string): MailboxResponse {
    const { auth } = request;
    const tag = mailboxLogTag(auth.mailboxId);
    // Used up before the signature is checked: a challenge gets exactly one try.
    const fresh = this.#challenges.consume(auth.challenge, peer, auth.mailboxId);
    const signed =
      fresh &&
      verifyMailboxAuth(
        auth.mailboxId,
        auth.publicKey,
        authMessage(auth.challenge, MAILBOX_OP[request.op], auth.mailboxId, request.args),
        auth.signature,
      );
    if (!signed) {
      this.#report({ op: request.op, status: 'unauthorized', mailbox: tag });
      return { op: request.op, status: 'unauthorized' };
    }
    const now = this.#now();
    const next = (): Uint8Array => this.#challenges.issue(peer, auth.mailboxId);
    switch (request.op) {
      case 'list': {
        if (request.page.maxCount === 0) return this.#badRequest(request.op, tag);
        const page = this.#store.list(auth.mailboxId, request.page.after, Math.min(request.page.maxCount, MAILBOX_PAGE_ENVELOPES), now);
        this.#report({ op: 'list', status: 'ok', mailbox: tag, count: page.items.length });
        return { op: 'list', status: 'ok', next: next(), more: page.more, entries: page.items };
      }
      case 'fetch': {
        const { after, maxCount, maxBytes } = request.page;
        if (maxCount === 0 || maxBytes === 0) return this.#badRequest(request.op, tag);
        const page = this.#store.fetch(
          auth.mailboxId,
          after,
          Math.min(maxCount, MAILBOX_PAGE_ENVELOPES),
          Math.min(maxBytes, this.limits.fetchPageBytes),
          now,
        );
        const bytes = page.items.reduce((sum, e) => sum + e.envelope.length, 0);
        this.#report({ op: 'fetch', status: 'ok', mailbox: tag, count: page.items.length, bytes });
        return { op: 'fetch', status: 'ok', next: next(), more: page.more, envelopes: page.items };
      }
      case 'ack': {
        const deleted = this.#store.delete(auth.mailboxId, request.ids);
        this.#report({ op: 'ack', status: 'ok', mailbox: tag, count: deleted });
        return { op: 'ack', status: 'ok', next: next(), deleted };
      }
      default:
        return unreachable(request);
    }
  }

  #badRequest(op: MailboxOp, tag: string): MailboxResponse {
    this.#report({ op, status: 'badRequest', mailbox: tag });
    return { op, status: 'badRequest' };
  }

  #report(activity: MailboxActivity): void {
    try {
      this.#onActivity(activity);
    } catch {
      // A failing log sink must not fail the exchange.
    }
  }
}

function mailboxOf(request: MailboxRequest): Uint8Array {
  return 'auth' in request ? request.auth.mailboxId : request.mailboxId;
}

function unreachable(value: never): never {
  throw new Error(`Unhandled mailbox request ${String((value as { op?: unknown }).op)}`);
}
