/**
 * Serves the built renderer (`out/renderer`) and nothing else: which files and types is the
 * shared rule of ui-files.ts (the desktop window's app:// scheme follows it too); here a real
 * path must also stay inside the static root after resolving symlinks. Anything doubtful is a
 * 404 with an empty body (no hint of what exists).
 */
import { constants as fsConstants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { resolveUiPath, uiContentType } from '../ui-files';
import { LOOPBACK_HOST } from './constants';

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
 * Maps a request target to a path under `root` (already absolute and real), or undefined: the
 * query and fragment are dropped, and the path must pass the shared UI rule (ui-files.ts: no
 * encoded traversal, no dot segments, nothing outside `root`).
 */
export function resolveStaticPath(root: string, target: string): string | undefined {
  const end = target.search(/[?#]/);
  return resolveUiPath(root, end === -1 ? target : target.slice(0, end));
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
  const type = candidate === undefined ? undefined : uiContentType(candidate);
  if (root === undefined || candidate === undefined || type === undefined) {
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
    response.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': String(stat.size) });
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
