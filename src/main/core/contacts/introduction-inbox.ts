/**
 * Introductions that reach us (ARCHITECTURE.md §3): over /parley/hello INTRODUCE from a peer
 * that proved its PeerId over Noise, or from one of our mailboxes while we were away. Each is
 * an X3DH prekey message carrying the sender's signed card (and an invite secret when they
 * used our link): it becomes a contact request, an accepted contact (the invite), the answer
 * to our own request, or a refusal with a reason (introductions.ts IntroductionRefusal).
 * Split from contact-book.ts because it is the one path where a stranger's bytes create
 * contacts and sessions, so its checks read together.
 */
import { envelopeTag, equalBytes, isCryptoError, openPrekeyEnvelope, Session, type OpenedPrekeyEnvelope } from '../../../crypto';
import { ApiFailure, type Contact as ApiContact } from '../../../shared';
import type { IntroduceStatus } from '../../net';
import { isStoreError, type Contact, type Store } from '../../store';
import type { EventBus } from '../events';
import type { LocalIdentity } from '../identity/local-identity';
import { decodeContent } from '../messaging/content';
import type { Logger } from '../types';
import { verifyCard, type VerifiedCard } from './card';
import { contactOfPeer, contactRequests } from './contact-views';
import type { ContactTrust } from './contact-trust';
import type { IntroductionRefusal, IntroductionResult, Introductions, MailboxIntroduction } from './introductions';

/** Unanswered incoming requests kept: a stranger flood cannot grow the database without bound. */
const MAX_INCOMING_REQUESTS = 100;

const refused = (reason: IntroductionRefusal): IntroductionResult => ({ status: 'rejected', reason });

export class IntroductionInbox {
  readonly #store: Store;
  readonly #local: LocalIdentity;
  readonly #intros: Pick<Introductions, 'forget'>;
  readonly #trust: Pick<ContactTrust, 'identityKeyChanged'>;
  readonly #events: EventBus;
  readonly #log: Logger;
  readonly #kick: (deviceId: number) => void;
  readonly #toDto: (contact: Contact) => ApiContact;

  constructor(deps: {
    store: Store;
    local: LocalIdentity;
    intros: Pick<Introductions, 'forget'>;
    trust: Pick<ContactTrust, 'identityKeyChanged'>;
    events: EventBus;
    log: Logger;
    kick: (deviceId: number) => void;
    toDto: (contact: Contact) => ApiContact;
  }) {
    this.#store = deps.store;
    this.#local = deps.local;
    this.#intros = deps.intros;
    this.#trust = deps.trust;
    this.#events = deps.events;
    this.#log = deps.log;
    this.#kick = deps.kick;
    this.#toDto = deps.toDto;
  }

  /** hello INTRODUCE from `peerId`: a contact request, an invite being used, or a re-introduction. */
  async incoming(peerId: string, envelope: Uint8Array): Promise<IntroduceStatus> {
    try {
      return this.#introduce(envelope, peerId).status;
    } catch (error) {
      if (!isCryptoError(error) && !(error instanceof ApiFailure)) {
        this.#log.warn('introduction failed', { error: error instanceof Error ? error.name : 'unknown' });
      }
      return 'rejected';
    }
  }

  /**
   * An envelope from one of our mailboxes that no session or contact device of ours claims:
   * perhaps the introduction of someone who used our invite link, or asks to become a contact,
   * while we were away. It is taken exactly as over hello, except that no Noise handshake
   * vouches for the sender's PeerId: the card's own (signed by the identity that the X3DH
   * message proves) is used, and it may not claim a device of another contact. Store errors
   * are thrown, so the envelope stays on the relay.
   */
  fromMailbox(envelope: Uint8Array): MailboxIntroduction {
    let result: IntroductionResult;
    try {
      result = this.#introduce(envelope, undefined);
    } catch (error) {
      if (isCryptoError(error) || error instanceof ApiFailure || (isStoreError(error) && error.code === 'INVALID_INPUT')) {
        result = refused('undecryptable');
      } else {
        throw error;
      }
    }
    if (result.status !== 'rejected') return { status: 'stored' };
    this.#log.info('mailbox introduction refused', { reason: result.reason });
    return result;
  }

  /** `peerId`: the Noise-authenticated sender over hello; undefined for a mailbox envelope. */
  #introduce(envelope: Uint8Array, peerId: string | undefined): IntroductionResult {
    const spk = this.#local.signedPrekeyForIntroTag(envelopeTag(envelope));
    if (!spk) return refused('unknown-recipient');
    const opened = openPrekeyEnvelope(spk, envelope);
    const repeated = this.#repeatedIntroduction(opened, peerId);
    if (repeated) return repeated;
    // Its session is gone (archived away, or the contact removed): an old copy served again.
    if (this.#store.sessions.baseKeySeen(opened.baseKey)) return refused('replayed');
    const opk = opened.oneTimePrekeyId === undefined ? undefined : this.#local.oneTimePrekey(opened.oneTimePrekeyId);
    const { session, plaintext, usedOneTimePrekeyId } = Session.respond(this.#local.identity, spk, opk, opened);
    const content = decodeContent(plaintext);
    if (content.kind !== 'introduce') return refused('not-introduction');
    let card: VerifiedCard;
    try {
      card = verifyCard(content.card, peerId === undefined ? {} : { peerId });
    } catch (error) {
      if (isCryptoError(error, 'WRONG_IDENTITY')) return refused('wrong-card');
      throw error;
    }
    if (!equalBytes(card.identityKey, opened.initiatorIdentity)) return refused('wrong-card');

    const byDevice = contactOfPeer(this.#store, card.peerId);
    if (byDevice && !equalBytes(byDevice.contact.identityKey, card.identityKey)) {
      // Anyone can sign a card naming any PeerId; only a peer that proved the PeerId over Noise
      // may present a changed identity key (and even then only as a blocking warning).
      if (peerId === undefined) return refused('device-of-another-contact');
      this.#trust.identityKeyChanged(byDevice.contact, card);
      return { status: 'pending' };
    }
    const existing = this.#store.contacts.getByIdentityKey(card.identityKey);
    if (existing?.blocked) return refused('blocked');

    const result = this.#store.transaction(() => {
      let contact = existing;
      if (!contact) {
        // The secret is used up only with the contact it admits: a rolled-back batch keeps it.
        const invited = content.inviteSecret !== undefined && this.#local.consumeInviteSecret(content.inviteSecret);
        if (!invited && this.#countIncoming() >= MAX_INCOMING_REQUESTS) return undefined;
        contact = this.#store.contacts.add({ identityKey: card.identityKey, displayName: card.displayName, requestState: invited ? 'accepted' : 'incoming' });
      } else if (contact.requestState === 'outgoing') {
        contact = this.#store.contacts.update(contact.id, { requestState: 'accepted' }); // both asked
        this.#intros.forget(contact.id);
      } else if (contact.requestState === 'declined') {
        contact = this.#store.contacts.update(contact.id, { requestState: 'incoming' });
      }
      const { device } = this.#store.devices.saveCard({ contactId: contact.id, peerId: card.peerId, card: card.encoded, cardCreatedAt: card.createdAt });
      this.#store.conversations.getOrCreate(contact.id);
      if (usedOneTimePrekeyId !== undefined) this.#store.prekeys.consumeOneTime(usedOneTimePrekeyId);
      this.#store.sessions.create({
        deviceId: device.id,
        state: session.serialize(),
        baseKey: session.baseKey,
        inboundTag: session.inboundTag,
        outboundTag: session.outboundTag,
      });
      return { contact, device };
    });
    if (!result) return refused('too-many-requests');
    const dto = this.#toDto(result.contact);
    if (result.contact.requestState === 'incoming') {
      const request = contactRequests(this.#store).find((r) => r.id === dto.id);
      if (request) this.#events.emit('contact.request', { request });
      return { status: 'pending' };
    }
    this.#events.emit('contact.updated', { contact: dto });
    this.#kick(result.device.id);
    return { status: 'accepted' };
  }

  /**
   * The same session introduced again (a retry whose answer was lost, or the copy on a second
   * relay): nothing new to do. Over hello the device is the sender's; from a mailbox, any
   * device of the contact whose identity sealed it.
   */
  #repeatedIntroduction(opened: OpenedPrekeyEnvelope, peerId: string | undefined): IntroductionResult | undefined {
    const byIdentity = this.#store.contacts.getByIdentityKey(opened.initiatorIdentity);
    const devices = peerId !== undefined
      ? [this.#store.devices.getByPeerId(peerId)]
      : byIdentity ? this.#store.devices.listByContact(byIdentity.id) : [];
    const device = devices.find((d) => d && this.#store.sessions.getByBaseKey(d.id, opened.baseKey));
    if (!device) return undefined;
    const contact = this.#store.contacts.get(device.contactId);
    return { status: contact?.requestState === 'accepted' ? 'accepted' : 'pending' };
  }

  #countIncoming(): number {
    return this.#store.contacts.list().filter((c) => c.requestState === 'incoming').length;
  }
}
