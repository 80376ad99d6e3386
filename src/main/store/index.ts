/**
 * The encrypted store of a peer (ARCHITECTURE.md §7): libsql encrypted at rest with a random
 * key, that key wrapped by a passphrase (Argon2id) or the OS keychain, schema migrations, and
 * one thin typed repository per table. The only part of the core that touches disk.
 *
 * @example
 * ```ts
 * const store = await createStore(dataDir, passphrase); // later: openStore(dataDir, passphrase)
 * const conversation = store.conversations.getOrCreate(contact.id);
 * store.transaction(() => {
 *   store.messages.insertOutgoing({ messageId, conversationId: conversation.id, kind: 'text', body, sentAt: now });
 *   store.sessions.update(session.id, { state: nextState });
 *   store.outbox.enqueue({ messageId, deviceId: device.id, envelope });
 * });
 * const { messages, next } = store.messages.page(conversation.id, { limit: 50 });
 * store.close();
 * ```
 */
export { createStore, openStore, changePassphrase, rewrapKeyFile, storeExists, Store, type StoreOptions, type Unlock } from './store';
export { StoreError, isStoreError, type StoreErrorCode } from './errors';
export { SecretBytes } from './secret-bytes';
export { passphraseKeyWrapper, type KeyWrapper, type KeyWrapperKind } from './key-wrapper';
export { MIGRATIONS, LATEST_VERSION, type Migration } from './migrations';
export * from './constants';
export type { StoredIdentity, NewIdentity } from './identity-repo';
export type { StoredSignedPrekey, NewSignedPrekey, StoredOneTimePrekey, NewOneTimePrekey } from './prekey-repo';
export { REQUEST_STATES, type Contact, type NewContact, type ContactPatch, type RequestState } from './contact-repo';
export type { Device, DeviceCard } from './device-repo';
export type { Session, NewSession, SessionUpdate } from './session-repo';
export type { Conversation, ConversationSummary, LastMessagePreview } from './conversation-repo';
export {
  MESSAGE_KINDS,
  DIRECTIONS,
  MESSAGE_STATES,
  PATHS,
  type Message,
  type MessageKind,
  type Direction,
  type MessageState,
  type MessagePath,
  type IncomingMessage,
  type OutgoingMessage,
  type MessageCursor,
  type MessagePage,
  type ReadMessage,
  type MessageContent,
} from './message-types';
export { OUTBOX_STATES, type OutboxItem, type NewOutboxItem, type OutboxState } from './outbox-repo';
