/**
 * Contacts: who is nearby, contact requests both ways, invites, trust (safety numbers,
 * verification, blocking) and identity-key changes (ARCHITECTURE.md §3).
 *
 * States (store contact-repo): outgoing (we introduced ourselves and wait), incoming (they
 * did, the user decides), accepted, declined. A peer may use /parley/msg only when it is a
 * device of an outgoing or accepted contact that is not blocked; anyone may use hello.
 */
import {
  envelopeTag,
  equalBytes,
  fingerprint,
  isCryptoError,
  openPrekeyEnvelope,
  publicKey,
  safetyNumber,
  Session,
  type OpenedPrekeyEnvelope,
} from '../../../crypto';
import { ApiFailure, type Contact as ApiContact, type ContactRequest, type NearbyPeer, type SafetyNumber } from '../../../shared';
import type { IntroduceStatus } from '../../net';
import { isStoreError, type Contact, type Device, type Store } from '../../store';
import type { EventBus } from '../events';
import type { LocalIdentity } from '../identity/local-identity';
import { toApiId } from '../ids';
import { decodeContent } from '../messaging/content';
import type { Messenger } from '../messaging/messenger';
import type { Logger } from '../types';
import { parseInvite, verifyCard, type VerifiedCard } from './card';
import {
  Introductions,
  type IntroductionMailbox,
  type IntroductionOutcome,
  type IntroductionRefusal,
  type IntroductionResult,
  type MailboxIntroduction,
} from './introductions';

/** Unanswered incoming requests kept: a stranger flood cannot grow the database without bound. */
const MAX_INCOMING_REQUESTS = 100;
/** Nearby peers shown (a conference Wi-Fi is big; the list is for the people around you). */
const MAX_NEARBY = 200;
/** A peer's card is fetched at most this often: discovery repeats every mDNS interval. */
const CARD_REFRESH_MS = 60_000;
/** Settings key of the card that came with a changed identity key, until the user decides. */
const PENDING_CARD = (contactId: number) => `keychange.card.${contactId}`;

export interface ContactNetwork {
  fetchCard(peerId: string): Promise<Uint8Array>;
  introduce(peerId: string, envelope: Uint8Array): Promise<IntroduceStatus>;
  isConnected(peerId: string): boolean;
}

const identityKeyOf = (bytes: Uint8Array) => publicKey('identity', bytes);
const refused = (reason: IntroductionRefusal): IntroductionResult => ({ status: 'rejected', reason });

interface NearbyEntry {
  card: VerifiedCard;
  lastSeen: number;
}

export class ContactBook {
  readonly #store: Store;
  readonly #local: LocalIdentity;
  readonly #messenger: Messenger;
  readonly #net: ContactNetwork;
  readonly #events: EventBus;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #kick: (deviceId: number) => void;
  readonly #nearby = new Map<string, NearbyEntry>();
  readonly #lastFetch = new Map<string, number>();
  readonly #intros: Introductions;

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
    this.#log = deps.log;
    this.#now = deps.now;
    this.#kick = deps.kick;
    this.#intros = new Introductions({
      store: deps.store,
      encrypt: (device, secret) => deps.messenger.encryptIntroduction(device, secret),
      introduce: (peerId, envelope) => deps.net.introduce(peerId, envelope),
      ...(deps.mailbox ? { mailbox: deps.mailbox } : {}),
      delivered: (contactId, device, outcome) => this.#introduced(contactId, device, outcome),
      log: deps.log,
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

  #contactOfPeer(peerId: string): { device: Device; contact: Contact } | undefined {
    const device = this.#store.devices.getByPeerId(peerId);
    const contact = device && this.#store.contacts.get(device.contactId);
    return device && contact ? { device, contact } : undefined;
  }

  /** May this peer use /parley/msg? */
  admits(peerId: string): boolean {
    const found = this.#contactOfPeer(peerId);
    return !!found && !found.contact.blocked && (found.contact.requestState === 'accepted' || found.contact.requestState === 'outgoing');
  }

  isBlocked(peerId: string): boolean {
    return this.#contactOfPeer(peerId)?.contact.blocked ?? false;
  }

  deviceOf(peerId: string): { device: Device; contact: Contact } | undefined {
    return this.#contactOfPeer(peerId);
  }

  // ── discovery ───────────────────────────────────────────────────────────────────────────

  nearbyList(): NearbyPeer[] {
    return [...this.#nearby.values()]
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .map(({ card, lastSeen }) => {
        const contact = this.#store.contacts.getByIdentityKey(card.identityKey);
        return {
          peerId: card.peerId,
          displayName: card.displayName,
          fingerprint: fingerprint(card.identityKey),
          ...(contact ? { contactId: toApiId(contact.id) } : {}),
          lastSeen,
        };
      });
  }

  /** A peer showed up (mDNS or a connection): learn its card, deliver what we owe it. */
  async discovered(peerId: string): Promise<void> {
    if (peerId === this.#local.peerId) return;
    const now = this.#now();
    const known = this.#contactOfPeer(peerId);
    if (known) await this.#deliverPendingIntroduction(known.contact, known.device);
    if (now - (this.#lastFetch.get(peerId) ?? 0) < CARD_REFRESH_MS) return;
    this.#lastFetch.set(peerId, now);
    let card: VerifiedCard;
    try {
      card = verifyCard(await this.#net.fetchCard(peerId), { peerId });
    } catch {
      return; // unreachable, not a Parley peer, or a bad card: it simply does not show up
    }
    if (known && !equalBytes(known.contact.identityKey, card.identityKey)) {
      this.#identityKeyChanged(known.contact, card);
    } else if (known) {
      this.#saveCard(known.contact, card);
    }
    if (this.#nearby.size >= MAX_NEARBY && !this.#nearby.has(peerId)) return;
    this.#nearby.set(peerId, { card, lastSeen: now });
    this.#events.emit('nearby.changed', { peers: this.nearbyList() });
  }

  #saveCard(contact: Contact, card: VerifiedCard): void {
    const { updated } = this.#store.devices.saveCard({ contactId: contact.id, peerId: card.peerId, card: card.encoded, cardCreatedAt: card.createdAt });
    if (updated && card.displayName !== contact.displayName) {
      const next = this.#store.contacts.update(contact.id, { displayName: card.displayName });
      this.#events.emit('contact.updated', { contact: this.toDto(next) });
    }
  }

  #identityKeyChanged(contact: Contact, card: VerifiedCard): void {
    if (contact.pendingIdentityKey && equalBytes(contact.pendingIdentityKey, card.identityKey)) return;
    const next = this.#store.transaction(() => {
      this.#store.settings.set(PENDING_CARD(contact.id), Buffer.from(card.encoded).toString('base64'));
      return this.#store.contacts.markIdentityKeyChanged(contact.id, card.identityKey);
    });
    this.#log.warn('contact identity key changed; sending is held until the user accepts');
    this.#events.emit('contact.keyChanged', { contactId: toApiId(contact.id), at: next.keyChangedAt ?? this.#now() });
    this.#events.emit('contact.updated', { contact: this.toDto(next) });
  }

  // ── requests ────────────────────────────────────────────────────────────────────────────

  requests(): ContactRequest[] {
    return this.#store.contacts
      .list()
      .filter((c) => c.requestState === 'incoming' || c.requestState === 'outgoing')
      .flatMap((c) => {
        const device = this.#store.devices.listByContact(c.id)[0];
        if (!device) return [];
        return [{
          id: toApiId(c.id),
          direction: c.requestState === 'incoming' ? ('incoming' as const) : ('outgoing' as const),
          peerId: device.peerId,
          displayName: c.displayName,
          fingerprint: fingerprint(identityKeyOf(c.identityKey)),
          createdAt: c.createdAt,
        }];
      });
  }

  /** Asks a nearby peer to become a contact: an introduction over hello. */
  async request(peerId: string): Promise<ContactRequest> {
    const entry = this.#nearby.get(peerId);
    if (!entry) throw new ApiFailure('NOT_FOUND', 'that peer is not nearby any more');
    const { contact, device } = this.#adopt(entry.card, 'outgoing');
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
  introduceFromMailbox(envelope: Uint8Array): MailboxIntroduction {
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

    const byDevice = this.#contactOfPeer(card.peerId);
    if (byDevice && !equalBytes(byDevice.contact.identityKey, card.identityKey)) {
      // Anyone can sign a card naming any PeerId; only a peer that proved the PeerId over Noise
      // may present a changed identity key (and even then only as a blocking warning).
      if (peerId === undefined) return refused('device-of-another-contact');
      this.#identityKeyChanged(byDevice.contact, card);
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
    const dto = this.toDto(result.contact);
    if (result.contact.requestState === 'incoming') {
      const request = this.requests().find((r) => r.id === dto.id);
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

  accept(contactId: number): ApiContact {
    const contact = this.#require(contactId);
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
    const contact = this.#require(contactId);
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

  #require(contactId: number): Contact {
    const contact = this.#store.contacts.get(contactId);
    if (!contact) throw new ApiFailure('NOT_FOUND', 'no such contact');
    return contact;
  }

  safetyNumber(contactId: number): SafetyNumber {
    const contact = this.#require(contactId);
    const remote = identityKeyOf(contact.pendingIdentityKey ?? contact.identityKey);
    const { digits, qrPayload } = safetyNumber(this.#local.identity.publicKey, remote);
    return { digits, qrPayload: Buffer.from(qrPayload).toString('base64url'), verified: contact.verified && !contact.keyChanged };
  }

  setVerified(contactId: number, verified: boolean): ApiContact {
    const contact = this.#require(contactId);
    if (verified && contact.keyChanged) throw new ApiFailure('KEY_CHANGED', 'accept the new safety number first');
    return this.#emitUpdated(this.#store.contacts.update(contactId, { verified }));
  }

  setBlocked(contactId: number, blocked: boolean): ApiContact {
    this.#require(contactId);
    return this.#emitUpdated(this.#store.contacts.update(contactId, { blocked }));
  }

  /**
   * The user accepted a changed identity key. The old sessions end; queued messages were
   * sealed for the old key and will fail visibly (retry re-encrypts them). The new identity
   * does not know us yet, so we introduce ourselves again.
   */
  acceptKeyChange(contactId: number): ApiContact {
    const contact = this.#require(contactId);
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
    for (const device of this.#store.devices.listByContact(contactId)) void this.#deliverPendingIntroduction(next, device);
    return this.#emitUpdated(next);
  }

  #emitUpdated(contact: Contact): ApiContact {
    const dto = this.toDto(contact);
    this.#events.emit('contact.updated', { contact: dto });
    return dto;
  }

  // ── views ───────────────────────────────────────────────────────────────────────────────

  isOnline(contactId: number): boolean {
    return this.#store.devices.listByContact(contactId).some((d) => this.#net.isConnected(d.peerId));
  }

  toDto(contact: Contact): ApiContact {
    const conversation = this.#store.conversations.getOrCreate(contact.id);
    return {
      id: toApiId(contact.id),
      displayName: contact.displayName,
      fingerprint: fingerprint(identityKeyOf(contact.identityKey)),
      verified: contact.verified,
      blocked: contact.blocked,
      keyChanged: contact.keyChanged,
      online: this.isOnline(contact.id),
      conversationId: toApiId(conversation.id),
      createdAt: contact.createdAt,
    };
  }

  list(): ApiContact[] {
    return this.#store.contacts
      .list({ includeBlocked: true })
      .filter((c) => c.requestState === 'accepted' || c.requestState === 'outgoing')
      .map((c) => this.toDto(c));
  }
}
