/**
 * Notifications for the browser UI (the headless peer). In the desktop app the main process
 * shows them (src/main/electron/notifications.ts), so the renderer stays silent there and
 * nothing is shown twice.
 */
import type { Message } from '../../../shared';
import type { AppContext } from '../context';
import { plainLabel } from '../utils/display-text';
import { openConversation, userIsLooking } from './messages';

/** Characters of a message shown in a notification: a glance, not the message. */
export const NOTIFICATION_PREVIEW_CHARS = 140;

function canNotify(ctx: AppContext): boolean {
  return (
    ctx.client.kind === 'websocket' &&
    ctx.settings.value?.notifications === true &&
    typeof Notification !== 'undefined' &&
    Notification.permission === 'granted' &&
    !userIsLooking()
  );
}

export function notifyMessage(ctx: AppContext, message: Message): void {
  if (message.direction !== 'in' || !canNotify(ctx)) return;
  const preview = ctx.settings.value?.notificationPreview === true;
  const title = preview ? plainLabel(ctx.conversations.byId(message.conversationId)?.title ?? 'New message', 64) : 'Parley';
  const body = preview ? plainLabel(message.body, NOTIFICATION_PREVIEW_CHARS) : 'New message';
  const notification = new Notification(title || 'New message', { body, tag: message.conversationId });
  notification.onclick = () => {
    window.focus();
    void openConversation(ctx, message.conversationId);
    notification.close();
  };
}

export function notifyContactRequest(ctx: AppContext, displayName: string): void {
  ctx.ui.notify('info', `${plainLabel(displayName, 64)} wants to add you as a contact.`);
  if (!canNotify(ctx)) return;
  const preview = ctx.settings.value?.notificationPreview === true;
  new Notification('Parley', { body: preview ? `${plainLabel(displayName, 64)} wants to add you` : 'New contact request', tag: 'contact-request' });
}

/** Asks the browser for permission (must run from a click). Returns whether it is granted. */
export async function requestNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  return Notification.requestPermission();
}

export function notificationPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}
