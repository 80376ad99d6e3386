/**
 * The operator's knobs of the mailbox server, each defaulting to its constant (constants.ts,
 * where every value has its reason), and the check that refuses nonsense at start.
 */
import { RateLimiter, type RateLimitInit } from '../../rate-limit';
import {
  DEPOSITOR_MAX_BYTES,
  DEPOSITOR_MAX_ENVELOPES,
  MAILBOX_CHALLENGE_TTL_MS,
  MAILBOX_DEPOSIT_RATE_LIMIT,
  MAILBOX_FETCH_PAGE_BYTES,
  MAILBOX_MAX_BYTES,
  MAILBOX_MAX_CHALLENGES,
  MAILBOX_MAX_CHALLENGES_PER_PEER,
  MAILBOX_MAX_ENVELOPE_BYTES,
  MAILBOX_MAX_ENVELOPES,
  MAILBOX_REQUEST_RATE_LIMIT,
  MAILBOX_SWEEP_INTERVAL_MS,
  MAILBOX_TTL_MS,
  RELAY_MAX_STORED_BYTES,
  RELAY_MAX_STORED_ENVELOPES,
} from './constants';
import type { DepositQuotas } from './store';

/** Every limit of the server; the relay operator may set each one (defaults: constants.ts). */
export interface MailboxLimits extends DepositQuotas {
  /** Largest envelope accepted, ≤ MAILBOX_MAX_ENVELOPE_BYTES. */
  maxEnvelopeBytes: number;
  ttlMs: number;
  sweepIntervalMs: number;
  /** Deposits per depositor PeerId (answered `rateLimited`). */
  depositRateLimit: Omit<RateLimitInit, 'now'>;
  /** Streams per PeerId for any operation (reset before reading). */
  requestRateLimit: Omit<RateLimitInit, 'now'>;
  challengeTtlMs: number;
  maxChallengesPerPeer: number;
  maxChallenges: number;
  /** Envelope bytes per FETCH page, MAILBOX_MAX_ENVELOPE_BYTES..MAILBOX_FETCH_PAGE_BYTES. */
  fetchPageBytes: number;
}

export const DEFAULT_MAILBOX_LIMITS: Readonly<MailboxLimits> = Object.freeze({
  maxEnvelopeBytes: MAILBOX_MAX_ENVELOPE_BYTES,
  mailboxMaxEnvelopes: MAILBOX_MAX_ENVELOPES,
  mailboxMaxBytes: MAILBOX_MAX_BYTES,
  depositorMaxEnvelopes: DEPOSITOR_MAX_ENVELOPES,
  depositorMaxBytes: DEPOSITOR_MAX_BYTES,
  relayMaxEnvelopes: RELAY_MAX_STORED_ENVELOPES,
  relayMaxBytes: RELAY_MAX_STORED_BYTES,
  ttlMs: MAILBOX_TTL_MS,
  sweepIntervalMs: MAILBOX_SWEEP_INTERVAL_MS,
  depositRateLimit: MAILBOX_DEPOSIT_RATE_LIMIT,
  requestRateLimit: MAILBOX_REQUEST_RATE_LIMIT,
  challengeTtlMs: MAILBOX_CHALLENGE_TTL_MS,
  maxChallengesPerPeer: MAILBOX_MAX_CHALLENGES_PER_PEER,
  maxChallenges: MAILBOX_MAX_CHALLENGES,
  fetchPageBytes: MAILBOX_FETCH_PAGE_BYTES,
});

/** Checks operator limits; a nonsensical value is refused at start, not discovered by a user. */
export function resolveMailboxLimits(overrides: Partial<MailboxLimits> = {}): MailboxLimits {
  const limits: MailboxLimits = { ...DEFAULT_MAILBOX_LIMITS, ...definedOnly(overrides) };
  const positive = (name: keyof MailboxLimits): void => {
    const value = limits[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`mailbox limit ${name} must be a positive integer`);
    }
  };
  for (const name of Object.keys(limits) as (keyof MailboxLimits)[]) {
    if (name !== 'depositRateLimit' && name !== 'requestRateLimit') positive(name);
  }
  if (limits.maxEnvelopeBytes > MAILBOX_MAX_ENVELOPE_BYTES) {
    throw new RangeError(`mailbox limit maxEnvelopeBytes must be at most ${MAILBOX_MAX_ENVELOPE_BYTES}`);
  }
  if (limits.fetchPageBytes < MAILBOX_MAX_ENVELOPE_BYTES || limits.fetchPageBytes > MAILBOX_FETCH_PAGE_BYTES) {
    throw new RangeError(`mailbox limit fetchPageBytes must be in ${MAILBOX_MAX_ENVELOPE_BYTES}..${MAILBOX_FETCH_PAGE_BYTES}`);
  }
  // RateLimiter's constructor checks the rate limits.
  new RateLimiter(limits.depositRateLimit);
  new RateLimiter(limits.requestRateLimit);
  return limits;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
