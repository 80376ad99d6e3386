/**
 * Serves the built renderer (`out/renderer`) and nothing else: a request path is mapped to a
 * file only if it stays inside the static root after decoding, normalising and resolving
 * symlinks. Anything doubtful is a 404 with an empty body (no hint of what exists).
 */
import { constants as fsConstants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LOOPBACK_HOST } from './constants';

/** Longest request path considered; the renderer's asset names are far shorter. */
const MAX_PATH_CHARS = 1024;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
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
  '.webmanifest': 'application/manifest+json',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The CSP of the browser UI: the Electron window's policy (ARCHITECTURE.md §8) plus the one
 * WebSocket endpoint the UI talks to, under either name the page may be loaded from.
 */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ws://${LOOPBACK_HOST}:${port} ws://localhost:${port}`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Headers on every static response (success or 404). */
export function securityHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(port),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    // Another site may not even embed our scripts (the Host check alone would let it).
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/**
 * Maps a request target to a path under `root` (already absolute and real), or undefined.
 * Refused outright: anything not starting with '/', percent-encoded dots, slashes, backslashes
 * or NUL (no legitimate asset name needs them, and they are how traversal hides from naive
 * checks), backslashes and control characters after decoding, and any empty, '.', '..' or
 * dot-file segment. The resolved path must still start with `root` + separator.
 */
export function resolveStaticPath(root: string, target: string): string | undefined {
  if (!target.startsWith('/')) return undefined;
  const end = target.search(/[?#]/);
  const pathname = end === -1 ? target : target.slice(0, end);
  if (pathname.length > MAX_PATH_CHARS || /%(2e|2f|5c|00)/i.test(pathname)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\\\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  if (relative.split('/').some((segment) => segment === '' || segment.startsWith('.'))) return undefined;
  const full = path.resolve(root, relative);
  return full.startsWith(root + path.sep) ? full : undefined;
}

function sendEmpty(response: ServerResponse, status: number, headers: Record<string, string>): void {
  response.writeHead(status, { ...headers, 'Content-Length': '0' });
  response.end();
}

/**
 * Answers a GET or HEAD for a static file. `root` is the real path of the static folder, or
 * undefined when the renderer is not built (then everything is 404).
 */
export async function serveStatic(
  request: IncomingMessage,
  response: ServerResponse,
  root: string | undefined,
  port: number,
): Promise<void> {
  const headers = securityHeaders(port);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendEmpty(response, 405, { ...headers, Allow: 'GET, HEAD' });
    return;
  }
  const candidate = root === undefined ? undefined : resolveStaticPath(root, request.url ?? '');
  if (root === undefined || candidate === undefined) {
    sendEmpty(response, 404, headers);
    return;
  }
  let handle;
  try {
    // A symlink inside the folder must not lead out of it.
    const real = await realpath(candidate);
    if (!real.startsWith(root + path.sep)) throw new Error('outside the static root');
    handle = await open(real, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error('not a file');
    response.writeHead(200, { ...headers, 'Content-Type': contentTypeOf(real), 'Content-Length': String(stat.size) });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    await pipeline(handle.createReadStream({ autoClose: false }), response);
  } catch {
    if (!response.headersSent) sendEmpty(response, 404, headers);
    else response.destroy();
  } finally {
    await handle?.close().catch(() => {});
  }
}
