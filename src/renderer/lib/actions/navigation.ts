/** Moving between conversations and screens from the keyboard. */
import type { AppContext } from '../context';
import { openConversation } from './messages';

/** Opens the conversation `delta` places away in the visible list (wrapping around). */
export function stepConversation(ctx: AppContext, delta: 1 | -1): void {
  const list = ctx.conversations.visible;
  if (list.length === 0) return;
  const current = list.findIndex((c) => c.id === ctx.ui.conversationId);
  const next = current === -1 ? (delta === 1 ? 0 : list.length - 1) : (current + delta + list.length) % list.length;
  void openConversation(ctx, list[next]!.id);
}

/** Opens the next conversation (below the current one, wrapping) that has unread messages. */
export function nextUnread(ctx: AppContext): void {
  const list = ctx.conversations.visible;
  const current = list.findIndex((c) => c.id === ctx.ui.conversationId);
  for (let i = 1; i <= list.length; i++) {
    const candidate = list[(current + i + list.length) % list.length]!;
    if (candidate.unreadCount > 0 && candidate.id !== ctx.ui.conversationId) {
      void openConversation(ctx, candidate.id);
      return;
    }
  }
}

export function openContact(ctx: AppContext, contactId: string): void {
  ctx.messages.close();
  ctx.ui.go({ name: 'contact', contactId });
}

export function openPanel(ctx: AppContext, name: 'people' | 'network' | 'settings' | 'home'): void {
  ctx.messages.close();
  ctx.ui.go({ name });
}
