/**
 * The Content-Security-Policy of the desktop UI (ARCHITECTURE.md §8), sent as a header with
 * every `app://` response. The renderer is untrusted: it may run only the scripts and styles
 * shipped in `out/renderer`, and it may open no network connection at all — everything goes
 * through `window.parley` (IPC), never through fetch, XHR, WebSocket or EventSource.
 *
 * What Svelte 5 needs, and why this is enough:
 * - no `eval`/`new Function`: compiled components are plain modules, so `script-src 'self'`;
 * - component CSS is emitted to `.css` files in a build (vite-plugin-svelte `emitCss`), so
 *   `style-src 'self'` without 'unsafe-inline'. Dynamic `style={…}` / `style:prop` go through
 *   the CSSOM (`el.style.cssText`), which CSP does not block; a *static* `style="…"` attribute in
 *   a template is parsed as markup and IS blocked — use classes instead;
 * - images: own files, plus `data:`/`blob:` for QR codes drawn in the page.
 */

const DIRECTIVES: ReadonlyArray<readonly [string, string]> = [
  // Deny by default: anything not listed below (media, manifest, prefetch…) loads nothing.
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  ['img-src', "'self' data: blob:"],
  ['font-src', "'self'"],
  // No network from the UI: the only transport is the preload's IPC bridge.
  ['connect-src', "'none'"],
  ['worker-src', "'none'"],
  ['frame-src', "'none'"],
  ['child-src', "'none'"],
  ['object-src', "'none'"],
  ['media-src', "'none'"],
  ['manifest-src', "'none'"],
  // A <base> tag could re-point every relative script URL; forms could post elsewhere.
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
];

export const CONTENT_SECURITY_POLICY = DIRECTIVES.map(([name, value]) => `${name} ${value}`).join('; ');

/** Headers on every `app://` response, found or not. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};
