/**
 * Which files of the built renderer (`out/renderer`) may be served, and under which type: the
 * one rule both ways of showing the UI follow, the desktop window's `app://` scheme
 * (electron/protocol.ts) and the headless peer's HTTP server (headless/static-files.ts).
 * Plain Node, no `electron`: the headless peer runs without it.
 *
 * A request path maps to a file only if it stays inside the renderer folder after decoding and
 * normalising, and only if its type is one the UI is made of; anything doubtful is refused.
 * Callers still resolve symlinks (the real path must stay inside too).
 *
 * @example
 * ```ts
 * const file = resolveUiPath(realRoot, '/assets/index-abc.js'); // `${realRoot}/assets/index-abc.js`
 * const type = file && uiContentType(file); // 'text/javascript; charset=utf-8'
 * ```
 */
import path from 'node:path';

/** Longest request path considered; the renderer's asset names are far shorter. */
export const MAX_UI_PATH_CHARS = 1024;

/**
 * The only file types the UI is made of. Anything else under the folder is refused, so a stray
 * file (a source map, a text file, a dotfile) is never served, and never with a guessed type.
 */
export const UI_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

/** The Content-Type of a UI file, or undefined for a type the UI is not made of (refuse it). */
export function uiContentType(file: string): string | undefined {
  const extension = path.extname(file).toLowerCase();
  return Object.hasOwn(UI_CONTENT_TYPES, extension) ? UI_CONTENT_TYPES[extension] : undefined;
}

/**
 * Maps a URL path (no query or fragment) to a file under `root` (absolute and real), or
 * undefined. Refused outright: a path not starting with '/' or longer than MAX_UI_PATH_CHARS;
 * percent-encoded dots, slashes, backslashes or NUL (no asset name needs them, and they are how
 * traversal hides from naive checks); after decoding, a leftover '%' (double encoding),
 * backslashes and control characters; any empty, '.', '..' or dot-file segment. The result must
 * still lie inside `root`.
 */
export function resolveUiPath(root: string, pathname: string): string | undefined {
  if (!pathname.startsWith('/') || pathname.length > MAX_UI_PATH_CHARS) return undefined;
  if (/%(2e|2f|5c|00)/i.test(pathname)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[%\\\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  if (relative.split('/').some((segment) => segment === '' || segment.startsWith('.'))) return undefined;
  const full = path.resolve(root, relative);
  return full.startsWith(root + path.sep) ? full : undefined;
}
