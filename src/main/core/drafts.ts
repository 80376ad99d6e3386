/**
 * Drafts (issue 4): the unsent text of each conversation, kept in the encrypted store so a
 * half-typed message survives closing the app, and nowhere else (ARCHITECTURE.md §7: nothing
 * readable outside the database). The store has held it since schema v1 (`conversations.draft`,
 * bounded by MAX_DRAFT_BYTES, validated by ConversationRepo.setDraft), so a draft needs no table
 * of its own and goes away with its conversation (a removed contact cascades to it).
 *
 * The UI saves the draft debounced while the user types and at once when they leave the
 * conversation; sending clears it in the send transaction (Peer.send), so a sent message can
 * never come back as a draft after a crash.
 *
 * @example
 * ```ts
 * saveDraft(store, conversationId, 'half a thou');   // '' or blank clears it
 * const dto = { ...conversationFields, ...draftField(summary.draft) };
 * ```
 */
import { ApiFailure, MAX_MESSAGE_BODY_CHARS } from '../../shared';
import type { Contact, Store } from '../store';
import { fromApiId } from './ids';

/** The conversations the list shows (Peer.conversations): a draft elsewhere has no composer. */
function isListed(contact: Contact): boolean {
  return contact.requestState === 'accepted' || contact.requestState === 'outgoing';
}

/**
 * Saves `text` as the conversation's draft, replacing the previous one; blank text clears it
 * (whitespace alone is nothing worth restoring, and no "Draft:" for it). The text is already
 * bounded by the contract (DraftText); the store checks its UTF-8 size again. NOT_FOUND for a
 * conversation that does not exist or is not listed. A blocked contact keeps its draft, as it
 * keeps its history: unblocking brings both back.
 */
export function saveDraft(store: Store, conversationId: string, text: string): void {
  const id = fromApiId(conversationId, 'conversation');
  const conversation = store.conversations.get(id);
  const contact = conversation && store.contacts.get(conversation.contactId);
  if (!conversation || !contact || !isListed(contact)) throw new ApiFailure('NOT_FOUND', 'no such conversation');
  store.conversations.setDraft(id, text.trim() === '' ? undefined : text);
}

/** Clears the conversation's draft; call it inside the transaction that sends its message. */
export function clearDraft(store: Store, conversationRowId: number): void {
  store.conversations.setDraft(conversationRowId, undefined);
}

/**
 * The `draft` field of a conversation DTO. A draft saved through the API is within the contract's
 * bound; one that is not (written by another tool into the store) is left out rather than cut,
 * since a cut draft restored into the composer would look like the whole text.
 */
export function draftField(draft: string | undefined): { draft?: string } {
  return draft !== undefined && draft.length <= MAX_MESSAGE_BODY_CHARS ? { draft } : {};
}
