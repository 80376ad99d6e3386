/**
 * Global keyboard shortcuts: one table that both the key handler and the help dialog read, so
 * the dialog never lists a key that does nothing.
 */

export type ShortcutAction =
  | 'search'
  | 'previous-conversation'
  | 'next-conversation'
  | 'next-unread'
  | 'focus-composer'
  | 'help'
  | 'go-chats'
  | 'go-people'
  | 'go-network'
  | 'go-settings';

export interface KeyLike {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
  readonly shiftKey: boolean;
}

/** What the help dialog shows (Ctrl reads ⌘ on macOS). */
export const SHORTCUTS: readonly { readonly keys: string; readonly action: string }[] = [
  { keys: 'Ctrl+K', action: 'Search conversations' },
  { keys: 'Alt+↑ / Alt+↓', action: 'Previous / next conversation' },
  { keys: 'Alt+Shift+↓', action: 'Next conversation with unread messages' },
  { keys: 'Ctrl+E', action: 'Focus the message composer' },
  { keys: 'Enter', action: 'Send the message' },
  { keys: 'Shift+Enter', action: 'New line in a message' },
  { keys: 'Alt+1 … Alt+4', action: 'Chats, People, Network, Settings' },
  { keys: 'PageUp / PageDown', action: 'Scroll the messages (when the message list has focus)' },
  { keys: 'Esc', action: 'Close a dialog; in search, back to the composer' },
  { keys: 'Ctrl+/ or F1', action: 'This list' },
];

/** The action for a key press, if it is one of ours. `mac` swaps Ctrl for ⌘. */
export function matchShortcut(event: KeyLike, mac: boolean): ShortcutAction | undefined {
  const primary = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (primary && !event.altKey && !event.shiftKey) {
    if (key === 'k') return 'search';
    if (key === 'e') return 'focus-composer';
    if (key === '/') return 'help';
  }
  if (key === 'F1' && !event.altKey && !event.ctrlKey && !event.metaKey) return 'help';
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    if (key === 'ArrowUp' && !event.shiftKey) return 'previous-conversation';
    if (key === 'ArrowDown') return event.shiftKey ? 'next-unread' : 'next-conversation';
    if (!event.shiftKey) {
      // Alt+digit: some layouts report the digit only in `code`; `key` covers the rest.
      const screens: Record<string, ShortcutAction> = { '1': 'go-chats', '2': 'go-people', '3': 'go-network', '4': 'go-settings' };
      if (screens[key]) return screens[key];
    }
  }
  return undefined;
}
