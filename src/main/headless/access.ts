/**
 * Who may talk to the headless server: checks of the `Host` header (DNS rebinding), the
 * `Origin` of an upgrade (cross-site WebSocket hijacking) and the per-start token. Every
 * function here is pure over the request, so the checks are tested without a socket.
 *
 * Threats: a web page in the user's browser that rebinds its own name to 127.0.0.1 (its
 * requests carry `Host: evil.example:PORT`), a page that opens a WebSocket to 127.0.0.1 (its
 * upgrade carries its own `Origin`), and another local user or process that can reach the
 * port but cannot read our stdout (it lacks the token).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { API_PATH, LOOPBACK_HOST, TOKEN_BYTES } from './constants';

/** A fresh 256-bit token, base64url without padding (43 characters, safe in a URL fragment). */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** The two `Host` values a browser on this machine sends for our port. */
export function allowedHosts(port: number): readonly string[] {
  return [`${LOOPBACK_HOST}:${port}`, `localhost:${port}`];
}

/**
 * The request's single `Host` header if it is exactly one of the allowed values, else
 * undefined. A repeated header is refused: Node keeps only the first, and a proxy might read
 * the other.
 */
export function checkedHost(request: IncomingMessage, port: number): string | undefined {
  let host: string | undefined;
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== 'host') continue;
    if (host !== undefined) return undefined;
    host = raw[i + 1];
  }
  return host !== undefined && allowedHosts(port).includes(host) ? host : undefined;
}

/**
 * An upgrade's `Origin` must be the page we served under the same host name it connects to
 * (`http://127.0.0.1:PORT` or `http://localhost:PORT`). A missing or repeated Origin is refused:
 * browsers always send exactly one on a WebSocket upgrade.
 */
export function originMatches(request: IncomingMessage, host: string): boolean {
  let origin: string | undefined;
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== 'origin') continue;
    if (origin !== undefined) return false;
    origin = raw[i + 1];
  }
  return origin === `http://${host}`;
}

/**
 * The token of an upgrade to `/api?token=…`: the path must be exactly API_PATH and the query
 * exactly one `token` parameter, so there is a single way in to audit.
 */
export function upgradeToken(requestUrl: string | undefined): string | undefined {
  if (requestUrl === undefined || !requestUrl.startsWith(`${API_PATH}?`)) return undefined;
  const params = new URLSearchParams(requestUrl.slice(API_PATH.length + 1));
  const keys = [...params.keys()];
  if (keys.length !== 1 || keys[0] !== 'token') return undefined;
  return params.get('token') ?? undefined;
}

/**
 * Constant-time token check. Both sides are hashed first so the comparison runs over equal
 * lengths and its timing reveals neither the token's length nor a matching prefix.
 */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
