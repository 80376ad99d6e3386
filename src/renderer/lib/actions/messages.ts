/**
 * Opening conversations, paging history, sending, retrying, read state.
 */
import { MAX_MESSAGE_BODY_CHARS, MAX_PAGE_SIZE, type Conversation, type Message } from '../../../shared';
import type { AppContext } from '../context';
import type { ConversationMessages } from '../state/messages.svelte';
import { errorText } from '../utils/error-text';
import { reportError } from './report';

/** One page per request: a few screenfuls, the contract's maximum. */
export const PAGE_SIZE = MAX_PAGE_SIZE;

/** The window is in front of the user (read receipts and notifications depend on it). */
export function userIsLooking(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

export async function openConversation(ctx: AppContext, conversationId: string): Promise<void> {
  ctx.ui.go({ name: 'chat', conversationId });
  const list = ctx.messages.openConversation(conversationId);
  const unread = ctx.conversations.byId(conversationId)?.unreadCount ?? 0;
  if (!list.loaded) {
    list.markUnreadFrom(unread);
    await loadOlder(ctx, list);
  } else {
    await loadNewest(ctx, conversationId);
    list.markUnreadFrom(unread);
  }
  if (unread > 0 && userIsLooking()) await markRead(ctx, conversationId);
}

/** The next older page of an open list; does nothing while one is loading or at the start. */
export async function loadOlder(ctx: AppContext, list: ConversationMessages): Promise<void> {
  if (list.loading || (list.loaded && !list.hasMore)) return;
  list.startLoading();
  const cursor = list.cursor;
  const result = await ctx.client.api['messages.page']({
    conversationId: list.conversationId,
    limit: PAGE_SIZE,
    ...(cursor !== undefined ? { before: cursor } : {}),
  });
  if (!result.ok) {
    list.failLoading(errorText(result.error));
    if (result.error.code === 'LOCKED') ctx.session.lockedOut();
    return;
  }
  list.addOlderPage(result.value.messages, result.value.nextCursor);
}

/** After a reconnect or on reopening: merge the newest page into what is loaded. */
export async function loadNewest(ctx: AppContext, conversationId: string): Promise<void> {
  const list = ctx.messages.get(conversationId);
  if (!list) return;
  const result = await ctx.client.api['messages.page']({ conversationId, limit: PAGE_SIZE });
  if (!result.ok) return;
  const page = [...result.value.messages].sort((a, b) => a.sentAt - b.sentAt);
  for (const message of page) if (list.has(message.id)) list.replace(message);
  const newest = list.messages[list.messages.length - 1]?.sentAt ?? 0;
  for (const message of page) if (!list.has(message.id) && message.sentAt >= newest) list.append(message);
}

/** Sends; on failure the caller gets false and keeps the text (nothing typed is lost). */
export async function sendMessage(ctx: AppContext, conversationId: string, body: string): Promise<boolean> {
  const result = await ctx.client.api['messages.send']({ conversationId, body });
  if (!result.ok) {
    reportError(ctx, result.error, 'Not sent');
    return false;
  }
  addMessage(ctx, result.value);
  // The core cleared the saved draft with the send. Unless the user has started the next
  // message meanwhile, the pending save of the emptied composer is not needed.
  if ((ctx.drafts.get(conversationId) ?? '') === '') {
    ctx.drafts.takeUnsaved(conversationId);
    showDraftInList(ctx, conversationId, '');
  }
  return true;
}

export async function retryMessage(ctx: AppContext, messageId: string): Promise<void> {
  const result = await ctx.client.api['messages.retry']({ messageId });
  if (!result.ok) {
    reportError(ctx, result.error, 'Retry failed');
    return;
  }
  ctx.messages.get(result.value.conversationId)?.replace(result.value);
}

export async function markRead(ctx: AppContext, conversationId: string): Promise<void> {
  ctx.conversations.markRead(conversationId);
  const result = await ctx.client.api['messages.markRead']({ conversationId });
  if (!result.ok && result.error.code === 'LOCKED') ctx.session.lockedOut();
}

/**
 * A message for some conversation (received, or sent from this window): into its loaded list,
 * and into the conversation list. Returns whether it was new.
 */
export function addMessage(ctx: AppContext, message: Message): boolean {
  const list = ctx.messages.get(message.conversationId);
  const isNew = list ? list.append(message) : true;
  if (!isNew) return false;
  const open = ctx.ui.conversationId === message.conversationId;
  const seen = open && (list?.atBottom ?? true) && userIsLooking();
  const known = ctx.conversations.applyMessage(message, message.direction === 'in' && !seen);
  if (!known) void refreshConversations(ctx);
  if (seen && message.direction === 'in') void markRead(ctx, message.conversationId);
  return true;
}

/** The view reports whether the newest message is in sight. */
export function setAtBottom(ctx: AppContext, list: ConversationMessages, atBottom: boolean): void {
  list.setAtBottom(atBottom);
  if (atBottom && userIsLooking() && (ctx.conversations.byId(list.conversationId)?.unreadCount ?? 0) > 0) {
    void markRead(ctx, list.conversationId);
  }
}

export async function refreshConversations(ctx: AppContext): Promise<void> {
  const result = await ctx.client.api['conversations.list']({});
  if (result.ok) ctx.conversations.replaceAll(result.value);
}

/**
 * Typing pauses this long before the draft is saved: saving per keystroke would commit (and
 * fsync) per keystroke, and a crash loses at most this much typing. Leaving the conversation,
 * the field or the page saves at once (saveDraft).
 */
export const DRAFT_SAVE_DELAY_MS = 700;

/** The composer's text changed: kept at once, saved in the core once typing pauses. */
export function editDraft(ctx: AppContext, conversationId: string, text: string): void {
  ctx.drafts.edit(conversationId, text);
  ctx.drafts.schedule(conversationId, DRAFT_SAVE_DELAY_MS, () => void saveDraft(ctx, conversationId));
}

/**
 * Saves the conversation's draft now if it changed since the last save (on leaving the
 * conversation, the field or the page, and when typing pauses). The list shows it at once.
 */
export async function saveDraft(ctx: AppContext, conversationId: string): Promise<void> {
  const text = ctx.drafts.takeUnsaved(conversationId);
  if (text === undefined) return;
  // Too long to send is too long to keep: the composer shows the count in red, and the last
  // draft that fitted stays saved until the text fits again.
  if (text.length > MAX_MESSAGE_BODY_CHARS) {
    ctx.drafts.saveFailed(conversationId);
    return;
  }
  showDraftInList(ctx, conversationId, text);
  const result = await ctx.client.api['drafts.set']({ conversationId, text });
  if (result.ok) return;
  // A conversation that went away has no draft to keep; anything else is retried on the next
  // save. A lost connection is already on screen (the banner): no notice per pause in typing.
  if (result.error.code === 'NOT_FOUND') return;
  ctx.drafts.saveFailed(conversationId);
  if (result.error.code !== 'UNREACHABLE') reportError(ctx, result.error, 'Draft not saved');
}

/** Puts the draft into the conversation list's copy (what the list shows as "Draft: …"). */
function showDraftInList(ctx: AppContext, conversationId: string, text: string): void {
  const current = ctx.conversations.byId(conversationId);
  if (!current || (current.draft ?? '') === (text.trim() === '' ? '' : text)) return;
  const withDraft = (c: Conversation): Conversation => {
    const { draft: _previous, ...rest } = c;
    return text.trim() === '' ? rest : { ...rest, draft: text };
  };
  ctx.conversations.replaceAll(ctx.conversations.all.map((c) => (c.id === conversationId ? withDraft(c) : c)));
}
