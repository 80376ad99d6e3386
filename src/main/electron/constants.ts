/**
 * Names the desktop shell and its preload agree on. The preload keeps its own copy of the two
 * channel names (it may not import from main, ARCHITECTURE.md §2); `ipc.test.ts` checks they match.
 */

/** The UI is served from `app://parley/…`, never from `file://` (ARCHITECTURE.md §8). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'parley';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The one request channel: renderer → main, answered with a Result. */
export const INVOKE_CHANNEL = 'parley:invoke';
/** The one event channel: main → renderer, `(eventName, payload)`. */
export const EVENT_CHANNEL = 'parley:event';

/**
 * The window's session: an in-memory partition (no `persist:` prefix), so the renderer cannot
 * leave anything on disk — no localStorage, IndexedDB, cache or cookies (ARCHITECTURE.md §7:
 * nothing readable outside the database).
 */
export const UI_PARTITION = 'parley-ui';

/**
 * True only for a URL of our own UI: scheme `app:`, host `parley`, no port, no credentials.
 * Used for every trust decision (IPC sender, permissions, event forwarding).
 */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.hostname === APP_HOST &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === ''
  );
}
