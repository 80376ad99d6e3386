/**
 * The `app://parley/` scheme: serves the built renderer (`out/renderer`) and nothing else, with
 * the CSP header on every response (ARCHITECTURE.md §8: the UI comes from a custom scheme, not
 * `file://`, so it has a real origin, a real CSP and no access to the rest of the disk).
 *
 * Which files and types may be served is the shared rule of ui-files.ts (the headless server
 * follows it too); here a real path must also stay inside the folder after resolving symlinks.
 * Anything doubtful is an empty 404.
 */
import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { protocol, type Protocol } from 'electron';
import { resolveUiPath, uiContentType } from '../ui-files';
import { APP_HOST, APP_SCHEME } from './constants';
import { SECURITY_HEADERS } from './csp';

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
 * Maps an `app://` URL to a path under `root` (absolute and real), or undefined: another host, a
 * port or credentials are refused, and the path must pass the shared UI rule (ui-files.ts:
 * no encoded traversal, no dot segments, nothing outside `root`).
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
  return resolveUiPath(root, url.pathname);
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
    const type = uiContentType(candidate);
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
