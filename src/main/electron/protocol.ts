/**
 * The `app://parley/` scheme: serves the built renderer (`out/renderer`) and nothing else, with
 * the CSP header on every response (ARCHITECTURE.md §8: the UI comes from a custom scheme, not
 * `file://`, so it has a real origin, a real CSP and no access to the rest of the disk).
 *
 * A request path maps to a file only if it stays inside the renderer folder after decoding,
 * normalising and resolving symlinks; anything doubtful is an empty 404.
 */
import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { protocol, type Protocol } from 'electron';
import { APP_HOST, APP_SCHEME } from './constants';
import { SECURITY_HEADERS } from './csp';

/** Longest path considered; the renderer's asset names are far shorter. */
const MAX_PATH_CHARS = 1024;

/**
 * The only file types the UI is made of. Anything else under the folder is refused, so a stray
 * file (a source map, a dotfile) is never served with a guessed type.
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
};

/**
 * Standard (relative URLs, a real origin, web storage rules), secure (a secure context, like
 * https). Deliberately not `corsEnabled` (it would let other origins read our files),
 * `bypassCSP`, `allowServiceWorkers` or `supportFetchAPI` (the CSP forbids fetch anyway).
 */
export const APP_SCHEME_REGISTRATION = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, codeCache: true },
} as const;

/** Must run before the app's `ready` event, once. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_REGISTRATION]);
}

/**
 * Maps an `app://` URL to a path under `root` (absolute and real), or undefined. Refused outright:
 * another host, a port or credentials; percent-encoded dots, slashes, backslashes or NUL (no asset
 * name needs them, and they are how traversal hides from naive checks); backslashes and control
 * characters and a leftover `%` after decoding; any empty, `.`, `..` or dot-file segment. The result must still lie
 * inside `root`.
 */
export function resolveAppPath(root: string, requestUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.hostname !== APP_HOST) return undefined;
  if (url.port !== '' || url.username !== '' || url.password !== '') return undefined;
  const pathname = url.pathname;
  if (!pathname.startsWith('/') || pathname.length > MAX_PATH_CHARS) return undefined;
  if (/%(2e|2f|5c|00)/i.test(pathname)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  // A '%' left after decoding means double encoding: no asset name has one.
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[%\\\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  if (relative.split('/').some((segment) => segment === '' || segment.startsWith('.'))) return undefined;
  const full = path.resolve(root, relative);
  return full.startsWith(root + path.sep) ? full : undefined;
}

function contentTypeOf(file: string): string | undefined {
  return CONTENT_TYPES[path.extname(file).toLowerCase()];
}

function empty(status: number, extra: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { ...SECURITY_HEADERS, ...extra } });
}

/**
 * The `protocol.handle` handler for `app://`. `rendererDir` need not exist yet (then every request
 * is a 404); its real path is looked up once.
 */
export function createAppRequestHandler(rendererDir: string): (request: Request) => Promise<Response> {
  let realRoot: Promise<string | undefined> | undefined;
  const root = () => (realRoot ??= realpath(rendererDir).catch(() => undefined));

  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return empty(405, { Allow: 'GET, HEAD' });
    const base = await root();
    if (base === undefined) return empty(404);
    const candidate = resolveAppPath(base, request.url);
    if (candidate === undefined) return empty(404);
    const type = contentTypeOf(candidate);
    if (type === undefined) return empty(404);
    try {
      // A symlink inside the folder must not lead out of it.
      const real = await realpath(candidate);
      if (!real.startsWith(base + path.sep)) return empty(404);
      if (!(await stat(real)).isFile()) return empty(404);
      const body = request.method === 'HEAD' ? null : new Uint8Array(await readFile(real));
      return new Response(body, { status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': type } });
    } catch {
      return empty(404);
    }
  };
}

/** Serves `rendererDir` on `app://parley/` for one session's protocol registry. */
export function serveAppScheme(registry: Pick<Protocol, 'handle'>, rendererDir: string): void {
  registry.handle(APP_SCHEME, createAppRequestHandler(rendererDir));
}
