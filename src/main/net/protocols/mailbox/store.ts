/**
 * What the mailbox server needs from storage, as an interface the relay implements (the relay
 * uses libsql: src/main/relay/mailbox-store.ts). Calls are synchronous, so a deposit's quota
 * check and insert happen in one transaction with no other request in between.
 */
import type { MailboxEntryInfo, MailboxEnvelope } from './codec';

export interface NewEnvelope {
  mailboxId: Uint8Array;
  envelope: Uint8Array;
  /**
   * A keyed hash of the depositor's PeerId under a key that lives only in the relay's memory:
   * enough to count a depositor's share while it runs, unlinkable to any PeerId on disk.
   */
  depositor: Uint8Array;
  depositedAt: number;
  expiresAt: number;
}

/** Caps checked atomically with each insert. */
export interface DepositQuotas {
  mailboxMaxEnvelopes: number;
  mailboxMaxBytes: number;
  depositorMaxEnvelopes: number;
  depositorMaxBytes: number;
  relayMaxEnvelopes: number;
  relayMaxBytes: number;
}

export type DepositOutcome = 'ok' | 'mailboxFull' | 'depositorQuota' | 'relayFull';

export interface Page<T> {
  items: T[];
  /** More entries follow the last one returned. */
  more: boolean;
}

export interface MailboxStoreStats {
  envelopes: number;
  bytes: number;
}

export interface MailboxStore {
  /** Stores the envelope unless a quota would be exceeded; expired envelopes count for nothing. */
  deposit(entry: NewEnvelope, quotas: DepositQuotas, now: number): DepositOutcome;
  /** Unexpired entries of a mailbox with id > after, oldest first, at most maxCount. */
  list(mailboxId: Uint8Array, after: number, maxCount: number, now: number): Page<MailboxEntryInfo>;
  /**
   * Like list, with the envelopes, stopping before the page would pass maxBytes of envelopes;
   * the first entry is always included, so a page never comes back empty while entries remain.
   */
  fetch(mailboxId: Uint8Array, after: number, maxCount: number, maxBytes: number, now: number): Page<MailboxEnvelope>;
  /** Deletes those of `ids` that belong to the mailbox; returns how many were deleted. */
  delete(mailboxId: Uint8Array, ids: readonly number[]): number;
  /** Deletes every envelope expired at `now` from disk; returns how many. */
  sweep(now: number): number;
  stats(): MailboxStoreStats;
  close(): void;
}
