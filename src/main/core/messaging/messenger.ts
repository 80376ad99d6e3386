/**
 * Sending and receiving messages (ARCHITECTURE.md §6).
 *
 * Send: the message row, the advanced ratchet state and the sealed envelope are written in one
 * transaction before anything goes on the wire, so after a crash the outbox resends the exact
 * same ciphertext and no message key is ever used twice.
 *
 * Receive: a batch from one peer is processed in order inside one transaction: decrypt (state
 * committed only with the batch), dedup by message id, store, apply receipts, queue our
 * delivery receipts. The network layer acknowledges only after that commit.
 *
 * Envelopes from a mailbox name no sender (a relay sees only a recipient tag), so
 * `senderOf` finds it from the tag the same way decryption routes: a session's inbound tag,
 * or a signed prekey's intro tag whose opened envelope names the sender's identity key.
 */
import {
  envelopeTag,
  equalBytes,
  isCryptoError,
  openPrekeyEnvelope,
  randomBytes,
  Session,
  CryptoError,
} from '../../../crypto';
import type { DeliveryStatus, ConnectionPath } from '../../net';
import { isStoreError, type Contact, type Device, type Message as StoredMessage, type Store } from '../../store';
import { ApiFailure } from '../../../shared';
import type { LocalIdentity } from '../identity/local-identity';
import { decodeContent, encodeContent, MAX_RECEIPT_IDS, MESSAGE_ID_BYTES, type Content } from './content';
import { envelopeDigest } from './envelope-digest';
import { SessionCache } from './sessions';

/**
 * A resent copy of a message we already have is receipted again at most this often: enough
 * for a sender whose first receipt was lost (it re-deposits after hours), while a relay that
 * keeps serving the same stored envelopes cannot make us write a receipt on every fetch.
 */
const RE_RECEIPT_INTERVAL_MS = 10 * 60_000;
/** Messages whose last re-receipt time is remembered (oldest forgotten first): bounds memory. */
const MAX_RE_RECEIPTS_REMEMBERED = 4_096;

/** What a processed batch changed, announced after its commit. */
export interface ReceiveEffects {
  received: StoredMessage[];
  stateChanged: StoredMessage[];
  /** Peers that introduced themselves again or accepted our request (contact ids). */
  contactsAccepted: number[];
  /** Outgoing receipts were queued for these devices. */
  devicesWithOutbox: Set<number>;
}

export interface ContactEvents {
  /** The peer accepted our request (an introduction arrived on our session). */
  accepted(contact: Contact, card: Uint8Array): void;
  /** A fresh card (display name, relays) from a contact. */
  profile(contact: Contact, card: Uint8Array): void;
}

export class Messenger {
  readonly #store: Store;
  readonly #local: LocalIdentity;
  readonly #now: () => number;
  readonly #contacts: ContactEvents;
  /** Last send time per conversation, read from the store once and kept up to date here. */
  readonly #lastSentAt = new Map<number, number>();
  /** When each re-receipted message (hex id) was last receipted again; insertion-ordered. */
  readonly #reReceiptedAt = new Map<string, number>();

  constructor(store: Store, local: LocalIdentity, now: () => number, contacts: ContactEvents) {
    this.#store = store;
    this.#local = local;
    this.#now = now;
    this.#contacts = contacts;
  }

  /** Stores, encrypts and queues a text message to every device of the contact. */
  sendText(contact: Contact, conversationId: number, body: string): StoredMessage {
    if (contact.blocked) throw new ApiFailure('BLOCKED', 'this contact is blocked');
    if (contact.keyChanged) throw new ApiFailure('KEY_CHANGED', "accept the contact's new safety number first");
    if (contact.requestState !== 'accepted' && contact.requestState !== 'outgoing') {
      throw new ApiFailure('NOT_FOUND', 'accept the contact request first');
    }
    const devices = this.#store.devices.listByContact(contact.id);
    if (devices.length === 0) throw new ApiFailure('NOT_FOUND', 'this contact has no device yet');
    const messageId = randomBytes(MESSAGE_ID_BYTES);
    const sentAt = this.#nextSentAt(conversationId);
    return this.#store.transaction(() => {
      const message = this.#store.messages.insertOutgoing({ messageId, conversationId, sentAt, kind: 'text', body });
      const content: Content = { kind: 'text', id: messageId, sentAt, seq: message.senderSeq ?? 1, body };
      this.#encryptAndQueue(devices, messageId, content);
      return message;
      // Durable before anyone relies on it: the caller syncs before answering, and the outbox
      // before sending (Store.sync), so concurrent sends share one fsync.
    }, { deferSync: true });
  }

  /**
   * The send time of our next message in a conversation: our clock, but strictly after our
   * previous message there. Timelines order by (sent time, random id), so a burst sent within
   * one millisecond would otherwise show in random order on both sides (Signal does the same).
   */
  #nextSentAt(conversationId: number): number {
    const last = this.#lastSentAt.get(conversationId) ?? this.#store.messages.lastOutgoingSentAt(conversationId);
    const sentAt = Math.max(this.#now(), last + 1);
    this.#lastSentAt.set(conversationId, sentAt);
    return sentAt;
  }

  /** Marks a conversation read and queues read receipts; returns the devices to flush. */
  markRead(contact: Contact, conversationId: number): Set<number> {
    return this.#store.transaction(() => {
      const ids = this.#store.messages.markRead(conversationId).map((m) => m.messageId);
      if (ids.length === 0 || contact.blocked || contact.keyChanged) return new Set<number>();
      return this.#queueReceipts(contact.id, conversationId, 'read', ids);
    });
  }

  #queueReceipts(contactId: number, conversationId: number, kind: 'delivered' | 'read', ids: Uint8Array[]): Set<number> {
    const devices = this.#store.devices.listByContact(contactId);
    const touched = new Set<number>();
    for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
      const refs = ids.slice(i, i + MAX_RECEIPT_IDS);
      const messageId = randomBytes(MESSAGE_ID_BYTES);
      const sentAt = this.#now();
      this.#store.messages.insertOutgoing({
        messageId,
        conversationId,
        sentAt,
        kind: kind === 'delivered' ? 'delivery_receipt' : 'read_receipt',
        refs,
      });
      this.#encryptAndQueue(devices, messageId, { kind, id: messageId, sentAt, ids: refs });
    }
    for (const d of devices) touched.add(d.id);
    return touched;
  }

  /** Encrypts `content` for each device and queues the envelopes; call inside a transaction. */
  #encryptAndQueue(devices: readonly Device[], messageId: Uint8Array, content: Content, cache = new SessionCache(this.#store, this.#local)): void {
    const plaintext = encodeContent(content);
    for (const device of devices) {
      const session = cache.forSending(device);
      const envelope = session.encrypt(plaintext);
      cache.markDirty(session);
      this.#store.outbox.enqueue({ messageId, deviceId: device.id, envelope });
    }
    cache.save();
  }

  /** Encrypts an introduction (our card, maybe an invite secret) for a device; not queued. */
  encryptIntroduction(device: Device, inviteSecret?: Uint8Array): Uint8Array {
    return this.#store.transaction(() => {
      const cache = new SessionCache(this.#store, this.#local);
      const session = cache.forSending(device);
      const id = randomBytes(MESSAGE_ID_BYTES);
      const content: Content = inviteSecret
        ? { kind: 'introduce', id, sentAt: this.#now(), card: this.#local.card(), inviteSecret }
        : { kind: 'introduce', id, sentAt: this.#now(), card: this.#local.card() };
      const envelope = session.encrypt(encodeContent(content));
      cache.markDirty(session);
      cache.save();
      return envelope;
    });
  }

  /**
   * Queues an introduction for a device over msg (used when accepting a request). The outbox
   * references a message row; the introduction is recorded as a receipt naming itself, which
   * the UI never shows and the peer never sees (it receives an 'introduce' content).
   */
  queueIntroduction(device: Device): void {
    this.#store.transaction(() => {
      const conversation = this.#store.conversations.getOrCreate(device.contactId);
      const messageId = randomBytes(MESSAGE_ID_BYTES);
      const sentAt = this.#now();
      // Stored as a delivery receipt with no body so the outbox can reference it; it names itself.
      this.#store.messages.insertOutgoing({ messageId, conversationId: conversation.id, sentAt, kind: 'delivery_receipt', refs: [messageId] });
      this.#encryptAndQueue([device], messageId, { kind: 'introduce', id: messageId, sentAt, card: this.#local.card() });
    });
  }

  /**
   * Queues our current card for a contact's devices as a 'profile' message (our relays or
   * mailboxes changed). Stored like an introduction, as a receipt row naming itself, which the
   * UI never shows; the receiver updates the contact's card if it is newer.
   */
  queueProfile(contact: Contact): Set<number> {
    const devices = this.#store.devices.listByContact(contact.id);
    if (devices.length === 0 || contact.blocked || contact.keyChanged) return new Set();
    this.#store.transaction(() => {
      const conversation = this.#store.conversations.getOrCreate(contact.id);
      const messageId = randomBytes(MESSAGE_ID_BYTES);
      const sentAt = this.#now();
      this.#store.messages.insertOutgoing({ messageId, conversationId: conversation.id, sentAt, kind: 'delivery_receipt', refs: [messageId] });
      this.#encryptAndQueue(devices, messageId, { kind: 'profile', id: messageId, sentAt, card: this.#local.card() });
    });
    return new Set(devices.map((d) => d.id));
  }

  /**
   * The contact device an envelope from a mailbox comes from, or undefined if it is for no
   * session or prekey of ours (then it can never be opened here). Reads only; nothing is
   * consumed or committed: receiveBatch does that.
   */
  senderOf(envelope: Uint8Array): { device: Device; contact: Contact } | undefined {
    let tag: Uint8Array;
    try {
      tag = envelopeTag(envelope);
    } catch {
      return undefined;
    }
    const session = this.#store.sessions.getByInboundTag(tag);
    if (session) return this.#deviceAndContact(session.deviceId);
    const spk = this.#local.signedPrekeyForIntroTag(tag);
    if (!spk) return undefined;
    let opened;
    try {
      opened = openPrekeyEnvelope(spk, envelope);
    } catch {
      return undefined;
    }
    const contact = this.#store.contacts.getByIdentityKey(opened.initiatorIdentity);
    if (!contact) return undefined;
    const devices = this.#store.devices.listByContact(contact.id);
    // A contact with several devices: the one that already has this session (a resent first
    // message); a new session can only be told apart by the device, which the mailbox hides.
    const device = devices.length === 1 ? devices[0] : devices.find((d) => this.#store.sessions.getByBaseKey(d.id, opened.baseKey));
    return device ? { device, contact } : undefined;
  }

  #deviceAndContact(deviceId: number): { device: Device; contact: Contact } | undefined {
    const device = this.#store.devices.get(deviceId);
    const contact = device && this.#store.contacts.get(device.contactId);
    return device && contact ? { device, contact } : undefined;
  }

  /**
   * Processes a batch of envelopes from one contact device, in order, in one transaction.
   * Returns one status per envelope and what changed; nothing is committed on a store error.
   */
  receiveBatch(device: Device, contact: Contact, envelopes: readonly Uint8Array[], path: ConnectionPath | 'mailbox'): {
    statuses: DeliveryStatus[];
    effects: ReceiveEffects;
  } {
    const effects: ReceiveEffects = { received: [], stateChanged: [], contactsAccepted: [], devicesWithOutbox: new Set() };
    try {
      const statuses = this.#store.transaction(() => {
        const cache = new SessionCache(this.#store, this.#local);
        const conversation = this.#store.conversations.getOrCreate(contact.id);
        const delivered: Uint8Array[] = [];
        const statuses = envelopes.map((envelope) => {
          try {
            const { content, session } = this.#decrypt(cache, device, contact, envelope);
            cache.markDirty(session);
            this.#apply(content, envelope, device, contact, conversation.id, path, effects, delivered);
            return 'stored' as const;
          } catch (error) {
            // The message was committed in an earlier batch; the sender may stop resending it.
            if (isCryptoError(error, 'DUPLICATE_MESSAGE')) {
              // The sender resends (or re-deposits) until it has our receipt: our first may have
              // been lost on a relay, so a resent text is receipted again.
              const id = this.#store.messages.incomingByEnvelopeDigest(conversation.id, envelopeDigest(envelope));
              const again =
                id && !delivered.some((d) => equalBytes(d, id)) && !this.#store.messages.receiptPending(conversation.id, id) && this.#mayReReceipt(id);
              if (again) delivered.push(id);
              return 'stored' as const;
            }
            // Undecryptable, foreign or malformed: resending the same bytes can never succeed.
            if (isCryptoError(error) || error instanceof ApiFailure || (isStoreError(error) && error.code === 'INVALID_INPUT')) {
              return 'rejected' as const;
            }
            throw error;
          }
        });
        cache.save();
        if (delivered.length > 0 && !contact.blocked && !contact.keyChanged) {
          for (const id of this.#queueReceipts(contact.id, conversation.id, 'delivered', delivered)) effects.devicesWithOutbox.add(id);
        }
        return statuses;
        // Durable before it is acknowledged or announced: the caller syncs first (Store.sync).
      }, { deferSync: true });
      return { statuses, effects };
    } catch (error) {
      if (isStoreError(error)) {
        return { statuses: envelopes.map(() => 'retry' as const), effects: { received: [], stateChanged: [], contactsAccepted: [], devicesWithOutbox: new Set() } };
      }
      throw error;
    }
  }

  /** Rate-limits receipts for resent copies (RE_RECEIPT_INTERVAL_MS) and records this one. */
  #mayReReceipt(id: Uint8Array): boolean {
    const key = Buffer.from(id).toString('hex');
    const now = this.#now();
    const last = this.#reReceiptedAt.get(key);
    if (last !== undefined && now - last < RE_RECEIPT_INTERVAL_MS) return false;
    this.#reReceiptedAt.delete(key);
    this.#reReceiptedAt.set(key, now);
    if (this.#reReceiptedAt.size > MAX_RE_RECEIPTS_REMEMBERED) {
      const oldest = this.#reReceiptedAt.keys().next().value;
      if (oldest !== undefined) this.#reReceiptedAt.delete(oldest);
    }
    return true;
  }

  #decrypt(cache: SessionCache, device: Device, contact: Contact, envelope: Uint8Array): { content: Content; session: Session } {
    const tag = envelopeTag(envelope);
    const known = cache.byInboundTag(tag);
    if (known) {
      if (known.deviceId !== device.id) throw new ApiFailure('NOT_FOUND', 'envelope for another device');
      return { content: decodeContent(known.session.decrypt(envelope)), session: known.session };
    }
    const spk = this.#local.signedPrekeyForIntroTag(tag);
    if (!spk) throw new ApiFailure('NOT_FOUND', 'unknown recipient tag');
    const opened = openPrekeyEnvelope(spk, envelope);
    if (!equalBytes(opened.initiatorIdentity, contact.identityKey)) throw new ApiFailure('NOT_FOUND', 'prekey message from another identity');
    const existing = cache.byBaseKey(device.id, opened.baseKey);
    if (existing) return { content: decodeContent(existing.decryptPrekey(opened)), session: existing };
    // Its session is gone (archived away): an old first message served again, e.g. by a relay.
    if (this.#store.sessions.baseKeySeen(opened.baseKey)) throw new CryptoError('DUPLICATE_MESSAGE', 'replayed first message');
    const opk = opened.oneTimePrekeyId === undefined ? undefined : this.#local.oneTimePrekey(opened.oneTimePrekeyId);
    const result = Session.respond(this.#local.identity, spk, opk, opened);
    if (result.usedOneTimePrekeyId !== undefined) this.#store.prekeys.consumeOneTime(result.usedOneTimePrekeyId);
    cache.adopt(device.id, result.session);
    return { content: decodeContent(result.plaintext), session: result.session };
  }

  #apply(
    content: Content,
    envelope: Uint8Array,
    device: Device,
    contact: Contact,
    conversationId: number,
    path: ConnectionPath | 'mailbox',
    effects: ReceiveEffects,
    delivered: Uint8Array[],
  ): void {
    const receivedAt = this.#now();
    switch (content.kind) {
      case 'text': {
        const isNew = this.#store.messages.insertIncoming({
          messageId: content.id,
          conversationId,
          senderDeviceId: device.id,
          senderSeq: content.seq,
          sentAt: content.sentAt,
          receivedAt,
          path,
          kind: 'text',
          body: content.body,
          // Stored with it, so a resent copy (which the ratchet refuses) can be receipted again.
          envelopeDigest: envelopeDigest(envelope),
        });
        if (isNew) {
          const stored = this.#store.messages.get(content.id);
          if (stored) effects.received.push(stored);
          delivered.push(content.id);
        }
        return;
      }
      case 'delivered':
      case 'read': {
        this.#store.messages.applyReceipt(conversationId, content.ids, content.kind, receivedAt);
        for (const id of content.ids) {
          // The device has it: an envelope still kept for it (deposited, awaiting this receipt) is done.
          this.#store.outbox.acknowledge(id, device.id);
          const m = this.#store.messages.get(id);
          if (m && m.direction === 'out') effects.stateChanged.push(m);
        }
        return;
      }
      case 'introduce':
        this.#contacts.accepted(contact, content.card);
        effects.contactsAccepted.push(contact.id);
        return;
      case 'profile':
        this.#contacts.profile(contact, content.card);
        return;
      default: {
        const unreachable: never = content;
        return unreachable;
      }
    }
  }
}
