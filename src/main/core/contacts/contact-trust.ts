/**
 * Trust in a contact (ARCHITECTURE.md §3): its safety number, the user's verification and
 * blocking, and identity-key changes: a changed key is held as a blocking warning until the
 * user accepts it, and accepting starts over with a fresh introduction. Split from
 * contact-book.ts so every path that can change whom we trust reads in one place.
 */
import { equalBytes, safetyNumber } from '../../../crypto';
import { ApiFailure, type Contact as ApiContact, type SafetyNumber } from '../../../shared';
import type { Contact, Device, Store } from '../../store';
import type { EventBus } from '../events';
import type { LocalIdentity } from '../identity/local-identity';
import { toApiId } from '../ids';
import type { Logger } from '../types';
import { verifyCard, type VerifiedCard } from './card';
import { identityKeyOf, requireContact } from './contact-views';
import type { Introductions } from './introductions';

/** Settings key of the card that came with a changed identity key, until the user decides. */
const PENDING_CARD = (contactId: number) => `keychange.card.${contactId}`;

export class ContactTrust {
  readonly #store: Store;
  readonly #local: LocalIdentity;
  readonly #intros: Pick<Introductions, 'owe' | 'deliver'>;
  readonly #events: EventBus;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #toDto: (contact: Contact) => ApiContact;

  constructor(deps: {
    store: Store;
    local: LocalIdentity;
    intros: Pick<Introductions, 'owe' | 'deliver'>;
    events: EventBus;
    log: Logger;
    now: () => number;
    toDto: (contact: Contact) => ApiContact;
  }) {
    this.#store = deps.store;
    this.#local = deps.local;
    this.#intros = deps.intros;
    this.#events = deps.events;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#toDto = deps.toDto;
  }

  safetyNumber(contactId: number): SafetyNumber {
    const contact = requireContact(this.#store, contactId);
    const remote = identityKeyOf(contact.pendingIdentityKey ?? contact.identityKey);
    const { digits, qrPayload } = safetyNumber(this.#local.identity.publicKey, remote);
    return { digits, qrPayload: Buffer.from(qrPayload).toString('base64url'), verified: contact.verified && !contact.keyChanged };
  }

  setVerified(contactId: number, verified: boolean): ApiContact {
    const contact = requireContact(this.#store, contactId);
    if (verified && contact.keyChanged) throw new ApiFailure('KEY_CHANGED', 'accept the new safety number first');
    return this.#emitUpdated(this.#store.contacts.update(contactId, { verified }));
  }

  setBlocked(contactId: number, blocked: boolean): ApiContact {
    requireContact(this.#store, contactId);
    return this.#emitUpdated(this.#store.contacts.update(contactId, { blocked }));
  }

  /**
   * The user accepted a changed identity key. The old sessions end; queued messages were
   * sealed for the old key and will fail visibly (retry re-encrypts them). The new identity
   * does not know us yet, so we introduce ourselves again.
   */
  acceptKeyChange(contactId: number): ApiContact {
    const contact = requireContact(this.#store, contactId);
    if (!contact.keyChanged) throw new ApiFailure('NOT_FOUND', 'no key change to accept');
    const encoded = this.#store.settings.get(PENDING_CARD(contactId));
    const next = this.#store.transaction(() => {
      this.#store.contacts.acceptIdentityKeyChange(contactId);
      this.#store.sessions.deactivateForContact(contactId);
      if (encoded) {
        const card = verifyCard(new Uint8Array(Buffer.from(encoded, 'base64')));
        this.#store.devices.saveCard({ contactId, peerId: card.peerId, card: card.encoded, cardCreatedAt: card.createdAt });
        this.#store.settings.delete(PENDING_CARD(contactId));
      }
      this.#intros.owe(contactId, undefined);
      return this.#store.contacts.update(contactId, { requestState: 'outgoing' });
    });
    for (const device of this.#store.devices.listByContact(contactId)) void this.#introduce(next, device);
    return this.#emitUpdated(next);
  }

  /** Sends the introduction we now owe (async: a failure is the attempt's, never the caller's). */
  async #introduce(contact: Contact, device: Device): Promise<void> {
    await this.#intros.deliver(contact, device);
  }

  #emitUpdated(contact: Contact): ApiContact {
    const dto = this.#toDto(contact);
    this.#events.emit('contact.updated', { contact: dto });
    return dto;
  }

  /**
   * A device of `contact` presented a card with another identity key: kept aside (the card
   * too) and sending held until the user accepts the new safety number (acceptKeyChange).
   */
  identityKeyChanged(contact: Contact, card: VerifiedCard): void {
    if (contact.pendingIdentityKey && equalBytes(contact.pendingIdentityKey, card.identityKey)) return;
    const next = this.#store.transaction(() => {
      this.#store.settings.set(PENDING_CARD(contact.id), Buffer.from(card.encoded).toString('base64'));
      return this.#store.contacts.markIdentityKeyChanged(contact.id, card.identityKey);
    });
    this.#log.warn('contact identity key changed; sending is held until the user accepts');
    this.#events.emit('contact.keyChanged', { contactId: toApiId(contact.id), at: next.keyChangedAt ?? this.#now() });
    this.#events.emit('contact.updated', { contact: this.#toDto(next) });
  }
}
