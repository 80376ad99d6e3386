/**
 * What a mailbox fetch hands us (mailbox-fetcher.ts), in the relay's deposit order: envelopes
 * of contacts, and introductions of people who are not contacts yet (contacts/introductions.ts:
 * someone used our invite link, or asks to become a contact, while we were away).
 *
 * Each envelope is routed by its tag when it is reached, not before: an introduction earlier
 * in the same fetch creates the contact (and its session) that the sender's messages after it
 * need. Consecutive envelopes of one device are committed as one batch, like a msg batch.
 *
 *   - a contact's device we admit       → receive (stored / rejected / retry per envelope)
 *   - a contact we have not accepted     → 'retry': it stays on the relay until the user decides
 *   - blocked, or sealed to nothing here → 'rejected' (acknowledged: the relay deletes it)
 *   - no session or contact claims it    → an introduction: 'stored' if taken (an accepted
 *     contact for a valid invite secret, else a request within MAX_INCOMING_REQUESTS), else
 *     'rejected' with a typed reason. One hostile envelope never stops the others.
 *
 * A store error while taking an introduction leaves it and everything after it on the relay
 * ('retry'): what follows may be the messages that only it lets us open.
 */
import type { Contact, Device } from '../../store';
import { MSG_MAX_BATCH, type DeliveryStatus } from '../../net';
import type { MailboxIntroduction } from '../contacts/introductions';
import type { Logger } from '../types';

export interface MailboxInboxDeps {
  /** The contact device an envelope comes from (by its tag), or undefined (Messenger.senderOf). */
  senderOf(envelope: Uint8Array): { device: Device; contact: Contact } | undefined;
  /** May this contact device's messages be received (ContactBook.admits)? */
  admits(peerId: string): boolean;
  /** Takes an envelope no one claims as an introduction (ContactBook.introduceFromMailbox). */
  introduce(envelope: Uint8Array): MailboxIntroduction;
  /** Receives a batch of one device's envelopes and commits it; one status per envelope. */
  commit(found: { device: Device; contact: Contact }, envelopes: Uint8Array[]): Promise<DeliveryStatus[]>;
  log: Logger;
}

/** Receives the envelopes of one mailbox fetch in order; one status per envelope. */
export async function receiveFromMailbox(deps: MailboxInboxDeps, envelopes: readonly Uint8Array[]): Promise<DeliveryStatus[]> {
  const statuses: DeliveryStatus[] = [];
  let i = 0;
  while (i < envelopes.length) {
    const envelope = envelopes[i] as Uint8Array;
    const sender = deps.senderOf(envelope);
    if (!sender) {
      let taken: MailboxIntroduction;
      try {
        taken = deps.introduce(envelope);
      } catch (error) {
        deps.log.warn('mailbox introduction not processed', { error: error instanceof Error ? error.name : 'unknown' });
        while (statuses.length < envelopes.length) statuses.push('retry');
        return statuses;
      }
      statuses.push(taken.status);
      i++;
      continue;
    }
    if (!deps.admits(sender.device.peerId)) {
      const waits = !sender.contact.blocked && sender.contact.requestState === 'incoming';
      statuses.push(waits ? 'retry' : 'rejected');
      i++;
      continue;
    }
    let end = i + 1;
    while (end < envelopes.length && end - i < MSG_MAX_BATCH && deps.senderOf(envelopes[end] as Uint8Array)?.device.id === sender.device.id) end++;
    statuses.push(...(await deps.commit(sender, envelopes.slice(i, end))));
    i = end;
  }
  return statuses;
}
