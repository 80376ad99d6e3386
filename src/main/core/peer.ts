/**
 * An unlocked peer: the store, our identity, the network node and the services on top, wired
 * together. Created by core.ts on create/unlock; everything here assumes an open store.
 */
import { ApiFailure, type Conversation as ApiConversation, type Message as ApiMessage, type MessagePage, type NetworkStatus } from '../../shared';
import { ParleyNetwork } from '../net';
import type { Store } from '../store';
import { ContactBook } from './contacts/contact-book';
import { clearDraft, draftField } from './drafts';
import type { EventBus } from './events';
import type { LocalIdentity } from './identity/local-identity';
import { fromApiId, messageIdFromApi, toApiId } from './ids';
import { createInbound } from './messaging/inbound';
import { MailboxFetcher } from './messaging/mailbox-fetcher';
import { receiveFromMailbox } from './messaging/mailbox-inbox';
import { decodeCursor, encodeCursor, messageDto, stateEvent } from './messaging/message-dto';
import { Messenger } from './messaging/messenger';
import { OutboxWorker, type OutboxMailbox } from './messaging/outbox-worker';
import { checkRelays, ContactRelays, loadRelays, mailboxRelays, saveRelays } from './network/relay-config';
import type { CoreOptions, Logger } from './types';

export { messageDto } from './messaging/message-dto';

/** Preview length in the conversation list: one line of a list row. */
const PREVIEW_CHARS = 120;
/** Addresses kept per device (a laptop has a few interfaces, each with TCP and WebSockets). */
const MAX_REMEMBERED_ADDRESSES = 16;
/** Prekey maintenance (rotation, refill) runs this often while the app is open. */
const MAINTENANCE_INTERVAL_MS = 60 * 60_000;

export class Peer {
  readonly store: Store;
  readonly local: LocalIdentity;
  readonly network: ParleyNetwork;
  readonly contacts: ContactBook;
  readonly messenger: Messenger;
  readonly #outbox: OutboxWorker;
  readonly #mailboxes: MailboxFetcher;
  readonly #log: Logger;
  readonly #lan: boolean;
  readonly #now: () => number;
  #maintenance: NodeJS.Timeout | undefined;

  private constructor(parts: {
    store: Store;
    local: LocalIdentity;
    network: ParleyNetwork;
    contacts: ContactBook;
    messenger: Messenger;
    outbox: OutboxWorker;
    mailboxes: MailboxFetcher;
    log: Logger;
    lan: boolean;
    now: () => number;
  }) {
    this.store = parts.store;
    this.local = parts.local;
    this.network = parts.network;
    this.contacts = parts.contacts;
    this.messenger = parts.messenger;
    this.#outbox = parts.outbox;
    this.#mailboxes = parts.mailboxes;
    this.#log = parts.log;
    this.#lan = parts.lan;
    this.#now = parts.now;
  }

  static async start(store: Store, local: LocalIdentity, options: CoreOptions, events: EventBus): Promise<Peer> {
    const now = options.now ?? Date.now;
    const log = options.log;
    // The network needs its handlers before it starts, the handlers need the contact book and
    // the outbox, and those need the network: the handlers reach them through this late slot.
    const late: { contacts?: ContactBook; outbox?: OutboxWorker; mailboxes?: MailboxFetcher; peer?: Peer } = {};
    // Our relays go into our card (with our mailbox on each) before anyone can ask for it.
    const relays = loadRelays(store);
    local.setRelays(relays);
    const contactRelays = new ContactRelays();
    const messenger = new Messenger(store, local, now, {
      accepted: (contact, card) => late.contacts?.accepted(contact, card),
      profile: (contact, card) => late.contacts?.profile(contact, card),
    });
    const network = await ParleyNetwork.start({
      deviceKey: local.deviceKey,
      listen: options.listen,
      lan: options.lan,
      relays,
      handlers: {
        isContact: (peerId) => late.contacts?.admits(peerId) ?? false,
        isBlocked: (peerId) => late.contacts?.isBlocked(peerId) ?? false,
        card: () => local.card(),
        introduce: async (peerId, envelope) => (late.contacts ? late.contacts.introduceIncoming(peerId, envelope) : 'rejected'),
        deliver: async (peerId, envelopes, path) => inbound.receive(peerId, envelopes, path),
        relaysOf: (peerId) => {
          const found = late.contacts?.deviceOf(peerId);
          return found ? contactRelays.of(found.device).map((r) => r.address) : [];
        },
        // Back on a relay after being away from it: mail may have been left there meanwhile.
        // The UI learns of the reservation at once (network panel, settings), without polling.
        relayReserved: (relayPeerId) => {
          late.mailboxes?.reservationBack(relayPeerId);
          if (late.peer) events.emit('network.status', late.peer.networkStatus());
        },
        peerDiscovered: (peerId) => void late.contacts?.discovered(peerId),
        peerAddresses: (peerId, addresses) => {
          // Remembered for contacts only, so a restart can dial them before mDNS or a relay helps.
          if (late.contacts?.deviceOf(peerId)) store.devices.markSeen(peerId, now(), addresses.slice(0, MAX_REMEMBERED_ADDRESSES));
        },
        connectionChanged: (peerId, connected) => {
          const found = late.contacts?.deviceOf(peerId);
          if (!found) return;
          events.emit('presence.changed', { contactId: toApiId(found.contact.id), online: connected, ...(connected ? { path: network.pathTo(peerId) ?? 'direct' } : {}) });
          if (connected) {
            late.outbox?.kick(found.device.id);
            void late.contacts?.discovered(peerId);
          }
        },
      },
    });
    const m = messenger;
    // Contacts' mailboxes: for the outbox's deposits and for introductions (contacts/introductions.ts).
    const mailbox: OutboxMailbox = {
      targets: (deviceId) => {
        const device = store.devices.get(deviceId);
        return device ? contactRelays.mailboxesOf(device).map((r) => ({ relayAddress: r.address, mailboxId: r.mailboxId })) : [];
      },
      deposit: (target, envelope) => network.deposit(target.relayAddress, target.mailboxId, envelope),
    };
    const o = new OutboxWorker(
      store,
      {
        send: (peerId, envelopes) => network.send(peerId, envelopes),
        pathTo: (peerId) => network.pathTo(peerId),
        ready: (deviceId) => late.contacts?.ready(deviceId) ?? true,
      },
      { stateChanged: (message) => events.emit('message.stateChanged', stateEvent(message)) },
      log,
      now,
      mailbox,
      options.outboxRedepositAfterMs !== undefined ? { redepositAfterMs: options.outboxRedepositAfterMs } : {},
    );
    const c = new ContactBook({
      store,
      local,
      messenger: m,
      net: {
        fetchCard: (peerId) => network.fetchCard(peerId, AbortSignal.timeout(10_000)),
        introduce: (peerId, envelope) => network.introduce(peerId, envelope, AbortSignal.timeout(10_000)),
        isConnected: (peerId) => network.isConnected(peerId),
      },
      mailbox,
      events,
      log,
      now,
      kick: (deviceId) => o.kick(deviceId),
    });
    late.contacts = c;
    late.outbox = o;
    const inbound = createInbound({ store, messenger: m, deviceOf: (peerId) => c.deviceOf(peerId), events, log, kick: (deviceId) => o.kick(deviceId) });

    // Dial targets from the last run, so the outbox can reach contacts right away.
    for (const contact of store.contacts.list({ includeBlocked: false })) {
      for (const device of store.devices.listByContact(contact.id)) {
        await network.rememberAddresses(device.peerId, device.addresses).catch(() => {});
      }
    }
    const mailboxes = new MailboxFetcher({
      net: network,
      relays: () => mailboxRelays(store, now()),
      keyFor: (relayPeerId) => local.mailboxKey(relayPeerId),
      receive: (envelopes) =>
        receiveFromMailbox({ senderOf: (e) => m.senderOf(e), admits: (p) => c.admits(p), introduce: (e) => c.introduceFromMailbox(e), commit: (f, e) => inbound.commit(f, e, 'mailbox'), log }, envelopes),
      log,
      ...(options.mailboxPollIntervalMs !== undefined ? { intervalMs: options.mailboxPollIntervalMs } : {}),
    });
    late.mailboxes = mailboxes;
    const peer = new Peer({ store, local, network, contacts: c, messenger: m, outbox: o, mailboxes, log, lan: options.lan, now });
    late.peer = peer;
    o.start();
    mailboxes.start();
    c.resumeIntroductions();
    peer.#maintenance = setInterval(() => {
      try {
        local.maintainPrekeys();
      } catch (error) {
        log.warn('prekey maintenance failed', { error: error instanceof Error ? error.name : 'unknown' });
      }
    }, MAINTENANCE_INTERVAL_MS);
    peer.#maintenance.unref?.();
    return peer;
  }

  // ── conversations and messages ──────────────────────────────────────────────────────────

  #conversationContact(conversationId: string) {
    const conversation = this.store.conversations.get(fromApiId(conversationId, 'conversation'));
    const contact = conversation && this.store.contacts.get(conversation.contactId);
    if (!conversation || !contact) throw new ApiFailure('NOT_FOUND', 'no such conversation');
    return { conversation, contact };
  }

  conversations(): ApiConversation[] {
    return this.store.conversations.list().flatMap((c) => {
      const contact = this.store.contacts.get(c.contactId);
      if (!contact || (contact.requestState !== 'accepted' && contact.requestState !== 'outgoing')) return [];
      const last = c.lastMessage;
      return [{
        id: toApiId(c.id),
        contactId: toApiId(contact.id),
        title: contact.displayName,
        lastActivity: c.lastActivityAt,
        unreadCount: c.unreadCount,
        ...(last ? { preview: last.body.slice(0, PREVIEW_CHARS) } : {}),
        ...draftField(c.draft),
        verified: contact.verified,
        keyChanged: contact.keyChanged,
      }];
    });
  }

  page(conversationId: string, before: string | undefined, limit: number | undefined): MessagePage {
    const { conversation } = this.#conversationContact(conversationId);
    const page = this.store.messages.page(conversation.id, { ...(before ? { before: decodeCursor(before) } : {}), ...(limit ? { limit } : {}) });
    return {
      messages: page.messages.filter((m) => m.kind === 'text').map(messageDto),
      ...(page.next ? { nextCursor: encodeCursor(page.next) } : {}),
    };
  }

  /** Resolves once the message is durable in the outbox: from then on it is never lost. */
  async send(conversationId: string, body: string): Promise<ApiMessage> {
    const { conversation, contact } = this.#conversationContact(conversationId);
    // The draft goes in the same transaction: a sent message never comes back as a draft.
    const message = this.store.transaction(() => {
      const sent = this.messenger.sendText(contact, conversation.id, body);
      clearDraft(this.store, conversation.id);
      return sent;
    }, { deferSync: true });
    // Kicked first, so the outbox's sync before sending and ours share one fsync.
    for (const device of this.store.devices.listByContact(contact.id)) this.#outbox.kick(device.id);
    await this.store.sync();
    return messageDto(message);
  }

  markRead(conversationId: string): void {
    const { conversation, contact } = this.#conversationContact(conversationId);
    for (const deviceId of this.messenger.markRead(contact, conversation.id)) this.#outbox.kick(deviceId);
  }

  retry(messageId: string): ApiMessage {
    const message = this.store.messages.get(messageIdFromApi(messageId));
    if (!message || message.direction !== 'out' || message.kind !== 'text') throw new ApiFailure('NOT_FOUND', 'no such message');
    // Given up on (no receipt within the mailbox TTL): its kept envelopes start over, queued again.
    const requeued = this.store.transaction(() => this.store.outbox.rearm(message.messageId) > 0 && this.store.messages.requeue(message.messageId));
    const contactId = this.store.conversations.get(message.conversationId)?.contactId;
    if (contactId !== undefined) for (const device of this.store.devices.listByContact(contactId)) this.#outbox.kick(device.id);
    return messageDto(requeued ? (this.store.messages.get(message.messageId) ?? message) : message);
  }

  networkStatus(): NetworkStatus {
    return {
      peerId: this.network.peerId,
      addresses: this.network.addresses().slice(0, 64),
      connections: this.network.connections().slice(0, 1024).map((c) => ({ peerId: c.peerId, address: c.address, path: c.path })),
      lanDiscovery: this.#lan,
      relays: this.network.relays().slice(0, 32),
    };
  }

  // ── relays ──────────────────────────────────────────────────────────────────────────────

  relays(): string[] {
    return loadRelays(this.store);
  }

  /**
   * Replaces our relays: stored, reserved on (dropped ones released), put in our card with our
   * mailbox on each, and announced to every contact in a profile message, so they reach us and
   * leave mail where we now are. Throws ApiFailure INVALID_ARGUMENT for a bad list.
   */
  setRelays(addresses: readonly string[]): string[] {
    const next = checkRelays(addresses, this.local.peerId);
    const current = loadRelays(this.store);
    if (next.length === current.length && next.every((a, i) => a === current[i])) return current;
    saveRelays(this.store, next, this.#now());
    this.local.setRelays(next);
    this.network.setRelays(next);
    const devices = new Set<number>();
    for (const contact of this.store.contacts.list({ includeBlocked: false })) {
      if (contact.requestState !== 'accepted' && contact.requestState !== 'outgoing') continue;
      for (const id of this.messenger.queueProfile(contact)) devices.add(id);
    }
    for (const id of devices) this.#outbox.kick(id);
    this.#log.info('relays changed', { relays: next.length, contacts: devices.size });
    return next;
  }

  async stop(): Promise<void> {
    clearInterval(this.#maintenance);
    await this.contacts.stop();
    this.#outbox.stop();
    await this.#mailboxes.stop();
    try {
      await this.network.stop();
    } catch (error) {
      this.#log.warn('network stop failed', { error: error instanceof Error ? error.name : 'unknown' });
    }
    this.store.close();
  }
}
