/**
 * `/parley/mailbox/1.0.0`: sealed envelopes held on a relay for offline recipients. Anyone
 * deposits into a mailbox id; only the holder of the mailbox key lists, fetches and
 * acknowledges (deletes), by signing a single-use challenge of the relay. Mailbox ids are keyed
 * hashes of per-relay keys (keys.ts), so relays cannot link them to identities or PeerIds.
 *
 * - `MailboxServer` (relay side): start/stop around a RequestResponse; storage is the
 *   `MailboxStore` interface the relay implements (src/main/relay/mailbox-store.ts).
 * - `MailboxClient` (app side): deposit, list, fetchAll, ack.
 * - `deriveMailboxKey(identity, relayPeerId)`: the owner's key for one relay.
 *
 * @example
 * ```ts
 * // the recipient, once per relay: publish key.id in its contact card
 * const key = deriveMailboxKey(identity, relayPeerId);
 * // a sender, while the recipient is offline
 * await new MailboxClient(node).deposit(relayPeerId, card.mailboxId, envelope, { signal });
 * // the recipient, back online
 * const client = new MailboxClient(node);
 * const waiting = await client.fetchAll(relayPeerId, key, { signal });
 * // … store every envelope in one transaction, then
 * await client.ack(relayPeerId, key, waiting.map((e) => e.id), { signal });
 * ```
 */
export { MailboxClient, type MailboxClientOptions } from './mailbox-client';
export { MailboxServer, type MailboxActivity, type MailboxServerInit } from './mailbox-server';
export { DEFAULT_MAILBOX_LIMITS, resolveMailboxLimits, type MailboxLimits } from './limits';
export { MailboxKey, authMessage, deriveMailboxKey, mailboxIdOf, mailboxLogTag, verifyMailboxAuth } from './keys';
export { MailboxError, isMailboxError, type MailboxErrorCode } from './errors';
export {
  decodeRequest,
  decodeResponse,
  encodeChallengeRequest,
  encodeDeposit,
  encodeOwnerArgs,
  encodeOwnerRequest,
  encodeResponse,
  type MailboxAuth,
  type MailboxEntryInfo,
  type MailboxEnvelope,
  type MailboxRequest,
  type MailboxResponse,
} from './codec';
export type { DepositOutcome, DepositQuotas, MailboxStore, MailboxStoreStats, NewEnvelope, Page } from './store';
export * from './constants';
