/**
 * The app side of `/parley/mailbox/1.0.0`: deposit for a contact, and list, fetch and
 * acknowledge one's own mailbox on a relay. Needs no handler of its own, so it has nothing to
 * start or stop; every call dials (or reuses a connection to) the relay, including relayed
 * connections.
 *
 * A refusal by the relay throws MailboxError with the relay's status as `code`; transport
 * failures throw what `request` throws (StreamResetError when the relay's request limiter
 * reset the stream, AbortError/TimeoutError, dial errors).
 */
import type { AbortOptions, DialTarget, Libp2p } from '@libp2p/interface';
import { request } from '../../request-response';
import {
  decodeResponse,
  encodeChallengeRequest,
  encodeDeposit,
  encodeOwnerArgs,
  encodeOwnerRequest,
  type MailboxEntryInfo,
  type MailboxEnvelope,
  type MailboxResponse,
} from './codec';
import {
  MAILBOX_ACK_MAX_IDS,
  MAILBOX_FETCH_ALL_MAX_PAGES,
  MAILBOX_FETCH_PAGE_BYTES,
  MAILBOX_ID_BYTES,
  MAILBOX_MAX_ENVELOPE_BYTES,
  MAILBOX_MAX_REQUEST_BYTES,
  MAILBOX_MAX_RESPONSE_BYTES,
  MAILBOX_OP,
  MAILBOX_PAGE_ENVELOPES,
  MAILBOX_PROTOCOL,
  MAILBOX_TIMEOUT_MS,
  type MailboxOp,
  type MailboxStatus,
} from './constants';
import { MailboxError } from './errors';
import { authMessage, type MailboxKey } from './keys';

export interface MailboxClientOptions {
  /** Deadline per exchange (default MAILBOX_TIMEOUT_MS). */
  timeoutMs?: number;
  /**
   * Envelope bytes to ask for per FETCH page (default MAILBOX_FETCH_PAGE_BYTES). Lower it when
   * the relay is reached over a data-limited relayed connection (RELAY_CONNECTION_DATA_LIMIT_BYTES).
   */
  fetchPageBytes?: number;
  /** Pages `fetchAll` reads at most (default MAILBOX_FETCH_ALL_MAX_PAGES). */
  maxPages?: number;
}

type Reply<Op extends MailboxOp> = Extract<MailboxResponse, { op: Op; status: 'ok' }>;

export class MailboxClient {
  readonly #host: Pick<Libp2p, 'dialProtocol'>;
  readonly #timeoutMs: number;
  readonly #pageBytes: number;
  readonly #maxPages: number;

  constructor(host: Pick<Libp2p, 'dialProtocol'>, options: MailboxClientOptions = {}) {
    this.#host = host;
    this.#timeoutMs = options.timeoutMs ?? MAILBOX_TIMEOUT_MS;
    this.#pageBytes = options.fetchPageBytes ?? MAILBOX_FETCH_PAGE_BYTES;
    this.#maxPages = options.maxPages ?? MAILBOX_FETCH_ALL_MAX_PAGES;
    if (!(this.#pageBytes >= 1 && this.#pageBytes <= MAILBOX_FETCH_PAGE_BYTES)) throw new RangeError('fetchPageBytes out of range');
  }

  /**
   * Leaves a sealed envelope in the mailbox `mailboxId` (from the recipient's contact card) on
   * `relay`. Resolves once the relay has committed it to disk.
   */
  async deposit(relay: DialTarget, mailboxId: Uint8Array, envelope: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (mailboxId.length !== MAILBOX_ID_BYTES) throw new RangeError('mailbox id length');
    if (envelope.length === 0) throw new RangeError('empty envelope');
    // Refused here rather than reset by the relay: the protocol never carries more.
    if (envelope.length > MAILBOX_MAX_ENVELOPE_BYTES) throw new MailboxError('tooLarge');
    await this.#exchange(relay, 'deposit', encodeDeposit(mailboxId, envelope), options);
  }

  /** Metadata of every envelope waiting in our mailbox on `relay`, oldest first. */
  async list(relay: DialTarget, key: MailboxKey, options: AbortOptions = {}): Promise<MailboxEntryInfo[]> {
    const entries: MailboxEntryInfo[] = [];
    let challenge = await this.#challenge(relay, key, options);
    for (let page = 0, after = 0; page < this.#maxPages; page++) {
      const args = encodeOwnerArgs({ op: 'list', page: { after, maxCount: MAILBOX_PAGE_ENVELOPES } });
      const reply = await this.#owner(relay, key, 'list', challenge, args, options);
      entries.push(...reply.entries);
      if (!reply.more || reply.entries.length === 0) break;
      after = (reply.entries.at(-1) as MailboxEntryInfo).id;
      challenge = reply.next;
    }
    return entries;
  }

  /**
   * Every envelope waiting in our mailbox on `relay`, oldest first, page by page (at most
   * `maxPages`). Nothing is deleted: acknowledge with `ack` once they are safely stored.
   */
  async fetchAll(relay: DialTarget, key: MailboxKey, options: AbortOptions = {}): Promise<MailboxEnvelope[]> {
    const envelopes: MailboxEnvelope[] = [];
    let challenge = await this.#challenge(relay, key, options);
    for (let page = 0, after = 0; page < this.#maxPages; page++) {
      const args = encodeOwnerArgs({
        op: 'fetch',
        page: { after, maxCount: MAILBOX_PAGE_ENVELOPES, maxBytes: this.#pageBytes },
      });
      const reply = await this.#owner(relay, key, 'fetch', challenge, args, options);
      envelopes.push(...reply.envelopes);
      if (!reply.more || reply.envelopes.length === 0) break;
      after = (reply.envelopes.at(-1) as MailboxEnvelope).id;
      challenge = reply.next;
    }
    return envelopes;
  }

  /**
   * Deletes the envelopes `ids` (as fetched) from our mailbox on `relay`; ids that are already
   * gone are skipped. Returns how many were deleted.
   */
  async ack(relay: DialTarget, key: MailboxKey, ids: readonly number[], options: AbortOptions = {}): Promise<number> {
    if (ids.length === 0) return 0;
    let deleted = 0;
    let challenge = await this.#challenge(relay, key, options);
    for (let i = 0; i < ids.length; i += MAILBOX_ACK_MAX_IDS) {
      const args = encodeOwnerArgs({ op: 'ack', ids: ids.slice(i, i + MAILBOX_ACK_MAX_IDS) });
      const reply = await this.#owner(relay, key, 'ack', challenge, args, options);
      deleted += reply.deleted;
      challenge = reply.next;
    }
    return deleted;
  }

  async #challenge(relay: DialTarget, key: MailboxKey, options: AbortOptions): Promise<Uint8Array> {
    const reply = await this.#exchange(relay, 'challenge', encodeChallengeRequest(key.id), options);
    return reply.challenge;
  }

  async #owner<Op extends 'list' | 'fetch' | 'ack'>(
    relay: DialTarget,
    key: MailboxKey,
    op: Op,
    challenge: Uint8Array,
    args: Uint8Array,
    options: AbortOptions,
  ): Promise<Reply<Op>> {
    const signature = key.signAuth(authMessage(challenge, MAILBOX_OP[op], key.id, args));
    const frame = encodeOwnerRequest(op, { mailboxId: key.id, publicKey: key.publicKey, challenge, signature }, args);
    return this.#exchange(relay, op, frame, options);
  }

  async #exchange<Op extends MailboxOp>(relay: DialTarget, op: Op, frame: Uint8Array, options: AbortOptions): Promise<Reply<Op>> {
    const response = await request(this.#host, relay, MAILBOX_PROTOCOL, frame, {
      signal: options.signal,
      timeoutMs: this.#timeoutMs,
      maxRequestBytes: MAILBOX_MAX_REQUEST_BYTES,
      maxResponseBytes: MAILBOX_MAX_RESPONSE_BYTES,
      runOnLimitedConnection: true,
    });
    const reply = decodeResponse(op, response);
    if (reply.status !== 'ok') throw new MailboxError(reply.status as Exclude<MailboxStatus, 'ok'>);
    return reply as Reply<Op>;
  }
}
