/**
 * Navigation, new windows, permissions and external links (ARCHITECTURE.md §8). The window
 * shows `app://parley/index.html` and nothing else, ever: every navigation and every new window
 * is refused; the only way out is an `https:` link the user confirms, opened in their browser.
 */
import { dialog, shell, type BrowserWindow, type Session, type WebContents } from 'electron';
import { isAppUrl } from './constants';

/**
 * Permissions a page of ours may get; every other one (camera, geolocation, clipboard read,
 * `openExternal` for other schemes, …) is refused, and no page but ours gets any.
 */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['notifications']);

/** Longest link we offer to open: a real link is far shorter; a longer one is hiding something. */
export const MAX_EXTERNAL_URL_CHARS = 2048;

export function isPermissionAllowed(permission: string, requestingUrl: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && isAppUrl(requestingUrl);
}

/** Installs the permission policy on the UI's session (both the prompt and the silent check). */
export function applyPermissionPolicy(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(isPermissionAllowed(permission, details.requestingUrl));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    isPermissionAllowed(permission, requestingOrigin),
  );
}

/**
 * The URL to hand to the OS browser, or undefined: `https:` only (no `http:`, `file:`,
 * `javascript:`, custom schemes), no embedded credentials (`https://bank.example@evil.example`),
 * bounded length. The returned `href` is the parser's normalised form: punycode host, non-ASCII
 * and bidi controls percent-encoded, so the dialog shows what will really be opened.
 */
export function safeExternalUrl(raw: string): string | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_EXTERNAL_URL_CHARS) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.hostname === '') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return url.href;
}

export interface ExternalLinkOpener {
  /** Asks, then opens; resolves to whether the link was opened. */
  open(raw: string): Promise<boolean>;
}

/**
 * Asks before opening a link in the user's browser. One question at a time: while a dialog is
 * up, further requests are dropped, so a page cannot stack up prompts.
 */
export function createExternalLinkOpener(getWindow: () => BrowserWindow | undefined): ExternalLinkOpener {
  let asking = false;
  return {
    async open(raw) {
      const href = safeExternalUrl(raw);
      if (href === undefined || asking) return false;
      asking = true;
      try {
        const options = {
          type: 'question' as const,
          buttons: ['Cancel', 'Open in browser'],
          defaultId: 0,
          cancelId: 0,
          noLink: true,
          title: 'Open link',
          message: 'Open this link in your web browser?',
          detail: href,
        };
        const window = getWindow();
        const { response } =
          window && !window.isDestroyed() ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options);
        if (response !== 1) return false;
        await shell.openExternal(href);
        return true;
      } catch {
        return false;
      } finally {
        asking = false;
      }
    },
  };
}

/**
 * Applies to every WebContents the app creates: no navigation of the page or any frame (an
 * `https:` link the user clicked is offered to the OS browser instead), no redirects, no new
 * windows, no <webview>.
 */
export function guardWebContents(contents: WebContents, links: ExternalLinkOpener): void {
  // `will-frame-navigate` covers the top frame and subframes; `will-navigate` is kept as a second
  // lock on the top frame. Only a top-frame link is offered to the browser (once).
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => {
    event.preventDefault();
    if (event.isMainFrame) void links.open(event.url);
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    void links.open(url);
    return { action: 'deny' };
  });
}
