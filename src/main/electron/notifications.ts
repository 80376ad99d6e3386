/**
 * Desktop notifications for incoming messages while the window is not focused, as the user's
 * settings say: none, "New message" only, or the sender and a preview of the text.
 *
 * Text from peers is untrusted: control and bidi-override characters are removed (they could
 * make a notification read as something else), the length is capped, and on Linux `<`, `>` and
 * `&` are escaped because notification servers there interpret the body as markup (links,
 * images) and Electron passes it through unescaped.
 */
import { Notification } from 'electron';
import type { ContactRequest, CoreApi, Message, Settings } from '../../shared';
import type { EventBus } from '../core/events';

/** Characters kept from a message in a notification: a glance, not the message. */
export const MAX_PREVIEW_CHARS = 140;
export const MAX_TITLE_CHARS = 64;

export interface NotificationContent {
  readonly title: string;
  readonly body: string;
}

// C0/C1 controls, and the bidi embeddings, overrides, isolates and marks (U+200E/F, U+202A–E,
// U+2066–9) that can reorder what the user reads.
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** One line of plain text: unsafe characters removed, whitespace collapsed, at most `maxChars`. */
export function cleanText(text: string, maxChars: number): string {
  const flat = text.replace(UNSAFE_CHARS, ' ').replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length > maxChars ? `${chars.slice(0, maxChars - 1).join('')}…` : flat;
}

/** Freedesktop notification bodies are markup (`body-markup`): make text show as text. */
export function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * What to show for a received message, or undefined for nothing. With previews off, neither the
 * sender nor the text appears.
 */
export function describeNotification(
  message: Message,
  settings: Settings,
  senderName: string | undefined,
  platform: NodeJS.Platform = process.platform,
): NotificationContent | undefined {
  if (message.direction !== 'in' || !settings.notifications) return undefined;
  if (!settings.notificationPreview) return { title: 'Parley', body: 'New message' };
  const body = cleanText(message.body, MAX_PREVIEW_CHARS);
  return {
    // The title (summary) is not markup on any platform: cleaned, never escaped.
    title: cleanText(senderName ?? '', MAX_TITLE_CHARS) || 'New message',
    body: platform === 'linux' ? escapeMarkup(body) : body,
  };
}

/** What to show for an incoming contact request, or undefined for nothing. */
export function describeContactRequest(request: ContactRequest, settings: Settings): NotificationContent | undefined {
  if (request.direction !== 'incoming' || !settings.notifications) return undefined;
  if (!settings.notificationPreview) return { title: 'Parley', body: 'New contact request' };
  const name = cleanText(request.displayName, MAX_TITLE_CHARS) || 'Someone';
  // Linux bodies are markup; the name is peer-controlled.
  const body = `${name} wants to add you as a contact`;
  return { title: 'Parley', body: process.platform === 'linux' ? escapeMarkup(body) : body };
}

export interface NotificationDependencies {
  readonly api: Pick<CoreApi, 'settings.get' | 'conversations.list'>;
  readonly events: Pick<EventBus, 'on'>;
  /** True when the user is looking at the window (then no notification). */
  readonly isWindowFocused: () => boolean;
  /** Brings the window to the front (a click on the notification). */
  readonly focusWindow: () => void;
  readonly show?: (content: NotificationContent, onClick: () => void) => void;
}

/** Notifications on screen: referenced until closed, so a click still reaches its handler. */
const live = new Set<Notification>();

/** Shows an Electron notification. */
function showElectronNotification(content: NotificationContent, onClick: () => void): void {
  if (!Notification.isSupported()) return;
  const notification = new Notification({ title: content.title, body: content.body, silent: false });
  live.add(notification);
  const release = () => live.delete(notification);
  notification.on('click', () => {
    release();
    onClick();
  });
  notification.on('close', release);
  notification.show();
}

/** Subscribes to `message.received` and `contact.request`; returns the unsubscribe function. */
export function startMessageNotifications(deps: NotificationDependencies): () => void {
  const show = deps.show ?? showElectronNotification;
  const offRequests = deps.events.on('contact.request', ({ request }) => {
    if (request.direction !== 'incoming' || deps.isWindowFocused()) return;
    void deps.api['settings.get']({}).then(
      (settings) => {
        const content = describeContactRequest(request, settings);
        if (content) show(content, deps.focusWindow);
      },
      () => {},
    );
  });
  const offMessages = deps.events.on('message.received', ({ message }) => {
    if (message.direction !== 'in' || deps.isWindowFocused()) return;
    void (async () => {
      try {
        const settings = await deps.api['settings.get']({});
        if (!settings.notifications) return;
        let sender: string | undefined;
        if (settings.notificationPreview) {
          const conversations = await deps.api['conversations.list']({});
          sender = conversations.find((c) => c.id === message.conversationId)?.title;
        }
        const content = describeNotification(message, settings, sender);
        if (content) show(content, deps.focusWindow);
      } catch {
        // A notification is a courtesy: a locked store or a closed window must not surface here.
      }
    })();
  });
  return () => {
    offRequests();
    offMessages();
  };
}
