/**
 * Contacts: who is nearby, contact requests both ways, invites, trust (safety numbers,
 * verification, blocking) and identity-key changes (ARCHITECTURE.md §3). This class is the
 * one face the core and the API see; the parts live beside it: nearby.ts (the nearby list),
 * contact-trust.ts (safety numbers, verification, blocking, key changes),
 * introduction-inbox.ts (introductions that reach us), introductions.ts (the ones we owe),
 * contact-views.ts (the API's view of a contact).
 *
 * States (store contact-repo): outgoing (we introduced ourselves and wait), incoming (they
 * did, the user decides), accepted, declined. A peer may use /parley/msg only when it is a
 * device of an outgoing or accepted contact that is not blocked; anyone may use hello.
 */
import { equalBytes } from '../../../crypto';
import { ApiFailure, type Contact as ApiContact, type ContactRequest, type NearbyPeer, type SafetyNumber } from '../../../shared';
import type { IntroduceStatus } from '../../net';
import type { Contact, Device, Store } from '../../store';
import type { EventBus } from '../events';
import type { LocalIdentity } from '../identity/local-identity';
import { toApiId } from '../ids';
import type { Messenger } from '../messaging/messenger';
import type { Logger } from '../types';
import { parseInvite, verifyCard, type VerifiedCard } from './card';
import { ContactTrust } from './contact-trust';
import { contactDto, contactOfPeer, contactRequests, isContactOnline, listContacts, requireContact } from './contact-views';
import { IntroductionInbox } from './introduction-inbox';
import { Introductions, type IntroductionMailbox, type IntroductionOutcome, type MailboxIntroduction } from './introductions';
import { Nearby } from './nearby';

export interface ContactNetwork {
  fetchCard(peerId: string): Promise<Uint8Array>;
  introduce(peerId: string, envelope: Uint8Array): Promise<IntroduceStatus>;
  isConnected(peerId: string): boolean;
}

export class ContactBook {
  readonly #store: Store;
  readonly #local: LocalIdentity;
  readonly #messenger: Messenger;
  readonly #net: ContactNetwork;
  readonly #events: EventBus;
  readonly #now: () => number;
  readonly #kick: (deviceId: number) => void;
  readonly #nearby: Nearby;
  readonly #intros: Introductions;
  readonly #trust: ContactTrust;
  readonly #inbox: IntroductionInbox;

  constructor(deps: {
    store: Store;
    local: LocalIdentity;
    messenger: Messenger;
    net: ContactNetwork;
    /** Where an introduction goes when the contact cannot be reached (its mailboxes). */
    mailbox?: IntroductionMailbox;
    events: EventBus;
    log: Logger;
    now: () => number;
    kick: (deviceId: number) => void;
  }) {
    this.#store = deps.store;
    this.#local = deps.local;
    this.#messenger = deps.messenger;
    this.#net = deps.net;
    this.#events = deps.events;
    this.#now = deps.now;
    this.#kick = deps.kick;
    this.#nearby = new Nearby(deps.store, deps.events);
    this.#intros = new Introductions({
      store: deps.store,
      encrypt: (device, secret) => deps.messenger.encryptIntroduction(device, secret),
      introduce: (peerId, envelope) => deps.net.introduce(peerId, envelope),
      ...(deps.mailbox ? { mailbox: deps.mailbox } : {}),
      delivered: (contactId, device, outcome) => this.#introduced(contactId, device, outcome),
      log: deps.log,
    });
    const toDto = (contact: Contact) => this.toDto(contact);
    this.#trust = new ContactTrust({ store: deps.store, local: deps.local, intros: this.#intros, events: deps.events, log: deps.log, now: deps.now, toDto });
    this.#inbox = new IntroductionInbox({
      store: deps.store,
      local: deps.local,
      intros: this.#intros,
      trust: this.#trust,
      events: deps.events,
      log: deps.log,
      kick: deps.kick,
      toDto,
    });
  }

  /** May the outbox send to this device, or do its messages wait behind our introduction? */
  ready(deviceId: number): boolean {
    return this.#intros.ready(deviceId);
  }

  /** Starts delivering the introductions a previous run still owed. */
  resumeIntroductions(): void {
    this.#intros.resume();
  }

  /** Stops retrying introductions, letting one in flight finish briefly (Introductions.stop). */
  async stop(): Promise<void> {
    await this.#intros.stop();
  }

  // ── admission ───────────────────────────────────────────────────────────────────────────

  /** May this peer use /parley/msg? */
  admits(peerId: string): boolean {
    const found = contactOfPeer(this.#store, peerId);
    return !!found && !found.contact.blocked && (found.contact.requestState === 'accepted' || found.contact.requestState === 'outgoing');
  }

  isBlocked(peerId: string): boolean {
    return contactOfPeer(this.#store, peerId)?.contact.blocked ?? false;
  }

  deviceOf(peerId: string): { device: Device; contact: Contact } | undefined {
    return contactOfPeer(this.#store, peerId);
  }

  // ── discovery ───────────────────────────────────────────────────────────────────────────

  nearbyList(): NearbyPeer[] {
    return this.#nearby.list();
  }

  /** A peer showed up (mDNS or a connection): learn its card, deliver what we owe it. */
  async discovered(peerId: string): Promise<void> {
    if (peerId === this.#local.peerId) return;
    const now = this.#now();
    const known = contactOfPeer(this.#store, peerId);
    if (known) await this.#deliverPendingIntroduction(known.contact, known.device);
    if (!this.#nearby.fetchDue(peerId, now)) return;
    let card: VerifiedCard;
    try {
      card = verifyCard(await this.#net.fetchCard(peerId), { peerId });
    } catch {
      return; // unreachable, not a Parley peer, or a bad card: it simply does not show up
    }
    if (known && !equalBytes(known.contact.identityKey, card.identityKey)) {
      this.#trust.identityKeyChanged(known.contact, card);
    } else if (known) {
      this.#saveCard(known.contact, card);
    }
    this.#nearby.seen(peerId, card, now);
  }

  #saveCard(contact: Contact, card: VerifiedCard): void {
    const { updated } = this.#store.devices.saveCard({ contactId: contact.id, peerId: card.peerId, card: card.encoded, cardCreatedAt: card.createdAt });
    if (updated && card.displayName !== contact.displayName) {
      const next = this.#store.contacts.update(contact.id, { displayName: card.displayName });
      this.#events.emit('contact.updated', { contact: this.toDto(next) });
    }
  }

  // ── requests ────────────────────────────────────────────────────────────────────────────

  requests(): ContactRequest[] {
    return contactRequests(this.#store);
  }

  /** Asks a nearby peer to become a contact: an introduction over hello. */
  async request(peerId: string): Promise<ContactRequest> {
    const card = this.#nearby.card(peerId);
    if (!card) throw new ApiFailure('NOT_FOUND', 'that peer is not nearby any more');
    const { contact, device } = this.#adopt(card, 'outgoing');
    await this.#deliverPendingIntroduction(contact, device);
    const request = this.requests().find((r) => r.id === toApiId(contact.id));
    if (!request) throw new ApiFailure('ALREADY_EXISTS', 'already a contact');
    return request;
  }

  /** Creates (or finds) the contact for a verified card, with its device and conversation. */
  #adopt(card: VerifiedCard, state: 'outgoing' | 'accepted', inviteSecret?: Uint8Array): { contact: Contact; device: Device } {
    if (equalBytes(card.identityKey, this.#local.identity.publicKey)) throw new ApiFailure('INVALID_INVITE', 'that is your own card');
    return this.#store.transaction(() => {
      let contact = this.#store.contacts.getByIdentityKey(card.identityKey);
      if (contact?.blocked) throw new ApiFailure('BLOCKED', 'this contact is blocked');
      if (!contact) {
        contact = this.#store.contacts.add({ identityKey: card.identityKey, displayName: card.displayName, requestState: state });
        this.#intros.owe(contact.id, inviteSecret);
      } else if (contact.requestState === 'incoming' || contact.requestState === 'declined') {
        // They asked us before; asking them back is accepting.
        contact = this.#store.contacts.update(contact.id, { requestState: 'accepted' });
        this.#intros.owe(contact.id, undefined);
      }
      const { device } = this.#store.devices.saveCard({ contactId: contact.id, peerId: card.peerId, card: card.encoded, cardCreatedAt: card.createdAt });
      this.#store.conversations.getOrCreate(contact.id);
      return { contact, device };
    });
  }

  /** Sends the introduction we owe a contact, if any (hello, else its mailboxes). */
  async #deliverPendingIntroduction(contact: Contact, device: Device): Promise<void> {
    await this.#intros.deliver(contact, device);
  }

  #introduced(contactId: number, device: Device, outcome: IntroductionOutcome): void {
    const contact = this.#store.contacts.get(contactId);
    if (outcome === 'accepted' && contact?.requestState === 'outgoing') {
      const next = this.#store.contacts.update(contact.id, { requestState: 'accepted' });
      this.#events.emit('contact.updated', { contact: this.toDto(next) });
    }
    this.#kick(device.id);
  }

  /** hello INTRODUCE from `peerId`: a contact request, an invite being used, or a re-introduction. */
  async introduceIncoming(peerId: string, envelope: Uint8Array): Promise<IntroduceStatus> {
    return this.#inbox.incoming(peerId, envelope);
  }

  /** An envelope from one of our mailboxes that no session claims (IntroductionInbox.fromMailbox). */
  introduceFromMailbox(envelope: Uint8Array): MailboxIntroduction {
    return this.#inbox.fromMailbox(envelope);
  }

  accept(contactId: number): ApiContact {
    const contact = requireContact(this.#store, contactId);
    if (contact.requestState !== 'incoming') throw new ApiFailure('NOT_FOUND', 'no such request');
    const next = this.#store.contacts.update(contact.id, { requestState: 'accepted' });
    for (const device of this.#store.devices.listByContact(contact.id)) {
      this.#messenger.queueIntroduction(device);
      this.#kick(device.id);
    }
    const dto = this.toDto(next);
    this.#events.emit('contact.updated', { contact: dto });
    return dto;
  }

  decline(contactId: number): void {
    const contact = requireContact(this.#store, contactId);
    if (contact.requestState !== 'incoming') throw new ApiFailure('NOT_FOUND', 'no such request');
    this.#store.transaction(() => {
      this.#store.sessions.deactivateForContact(contact.id);
      this.#store.contacts.update(contact.id, { requestState: 'declined' });
    });
  }

  async addFromInvite(link: string): Promise<ApiContact> {
    let invite;
    try {
      invite = parseInvite(link);
    } catch {
      throw new ApiFailure('INVALID_INVITE', 'this invite link is not valid');
    }
    const { contact, device } = this.#adopt(invite.card, 'accepted', invite.secret);
    void this.#deliverPendingIntroduction(contact, device);
    const dto = this.toDto(contact);
    this.#events.emit('contact.updated', { contact: dto });
    return dto;
  }

  /** Called by the messenger when a contact's introduction arrives over msg. */
  accepted(contact: Contact, encodedCard: Uint8Array): void {
    const card = verifyCard(encodedCard);
    if (!equalBytes(card.identityKey, contact.identityKey)) return;
    this.#store.devices.saveCard({ contactId: contact.id, peerId: card.peerId, card: card.encoded, cardCreatedAt: card.createdAt });
    if (contact.requestState === 'outgoing') {
      const next = this.#store.contacts.update(contact.id, { requestState: 'accepted' });
      this.#intros.forget(contact.id);
      // After the receive transaction commits: announce it, and send what waited for the answer.
      queueMicrotask(() => {
        this.#events.emit('contact.updated', { contact: this.toDto(next) });
        for (const device of this.#store.devices.listByContact(contact.id)) this.#kick(device.id);
      });
    }
  }

  /** Called by the messenger when a contact sends a fresh card. */
  profile(contact: Contact, encodedCard: Uint8Array): void {
    const card = verifyCard(encodedCard);
    if (equalBytes(card.identityKey, contact.identityKey)) this.#saveCard(contact, card);
  }

  // ── trust ───────────────────────────────────────────────────────────────────────────────

  safetyNumber(contactId: number): SafetyNumber {
    return this.#trust.safetyNumber(contactId);
  }

  setVerified(contactId: number, verified: boolean): ApiContact {
    return this.#trust.setVerified(contactId, verified);
  }

  setBlocked(contactId: number, blocked: boolean): ApiContact {
    return this.#trust.setBlocked(contactId, blocked);
  }

  /** The user accepted a changed identity key (ContactTrust.acceptKeyChange). */
  acceptKeyChange(contactId: number): ApiContact {
    return this.#trust.acceptKeyChange(contactId);
  }

  // ── views ───────────────────────────────────────────────────────────────────────────────

  isOnline(contactId: number): boolean {
    return isContactOnline(this.#store, (peerId) => this.#net.isConnected(peerId), contactId);
  }

  toDto(contact: Contact): ApiContact {
    return contactDto(this.#store, (peerId) => this.#net.isConnected(peerId), contact);
  }

  list(): ApiContact[] {
    return listContacts(this.#store, (peerId) => this.#net.isConnected(peerId));
  }
}
