/**
 * The headless peer's UI transport: HTTP for the built renderer and one WebSocket carrying the
 * API contract, on 127.0.0.1 only (ARCHITECTURE.md §1, §8).
 *
 * ## Handshake (what the browser UI does)
 *
 * 1. The user opens the printed URL `http://127.0.0.1:PORT/#token=TOKEN`. The token is in the
 *    fragment, so the browser never sends it in a request line, a log or a Referer header.
 *    TOKEN is 43 base64url characters (256 random bits), new on every start.
 * 2. The UI reads it: `new URLSearchParams(location.hash.slice(1)).get('token')` (it may then
 *    keep it in sessionStorage and clear the fragment with `history.replaceState`).
 * 3. It connects to `ws://${location.host}/api?token=${encodeURIComponent(TOKEN)}` (the same
 *    host name the page came from, so the browser's `Origin` matches). The server checks, before
 *    any WebSocket exists: `Host` is exactly `127.0.0.1:PORT` or `localhost:PORT`; `Origin` is
 *    exactly `http://` + that host; the path is exactly `/api` with the single query parameter
 *    `token`, compared in constant time. Any failure: `403` with an empty body, nothing else.
 * 4. Frames are JSON text (binary frames are malformed):
 *    - client → server `{ "type": "request", "id": <integer ≥ 0>, "command": "<area.verb>", "args": {…} }`
 *      (`args` may be omitted for commands without arguments);
 *    - server → client `{ "type": "response", "id": <same id>, "result": { "ok": true, "value": … } }`
 *      or `{ …, "result": { "ok": false, "error": { "code": "<ApiErrorCode>", "message": "…" } } }`;
 *      responses may arrive out of order (match on id);
 *    - server → client `{ "type": "event", "event": "<event name>", "payload": … }` for every
 *      core event, from the moment the socket opens.
 *    A malformed frame with a recoverable id gets `INVALID_ARGUMENT`; past a small budget of
 *    malformed frames the socket is closed with 1008. A frame over MAX_WS_FRAME_BYTES closes it
 *    with 1009. Too many requests get `RATE_LIMITED`. A client that stops reading is dropped.
 *    After any close the UI reconnects and re-queries its state (events are not replayed).
 *
 * Static files need no token (they are the public renderer bundle); everything that reaches
 * the core goes through the token-checked socket and `dispatchCommand`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { realpath } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Core, Logger } from '../core/types';
import { checkedHost, generateToken, originMatches, tokenMatches, upgradeToken } from './access';
import { ApiConnection, type ConnectionLimits } from './api-connection';
import {
  CLOSE_GOING_AWAY,
  HEARTBEAT_INTERVAL_MS,
  LOOPBACK_HOST,
  MAX_BAD_FRAMES,
  MAX_BUFFERED_BYTES,
  MAX_CONNECTIONS,
  MAX_FRAME_BYTES,
  MAX_IN_FLIGHT,
  RATE_LIMIT_BURST,
  RATE_LIMIT_PER_SECOND,
} from './constants';
import { serveStatic } from './static-files';

export interface HeadlessLimits extends ConnectionLimits {
  readonly maxConnections: number;
  readonly heartbeatIntervalMs: number;
}

export const DEFAULT_LIMITS: HeadlessLimits = {
  maxConnections: MAX_CONNECTIONS,
  heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
  rateLimitBurst: RATE_LIMIT_BURST,
  rateLimitPerSecond: RATE_LIMIT_PER_SECOND,
  maxInFlight: MAX_IN_FLIGHT,
  maxBadFrames: MAX_BAD_FRAMES,
  maxBufferedBytes: MAX_BUFFERED_BYTES,
};

export interface HeadlessServerOptions {
  /** The running core; the server uses only its API and event bus and never stops it. */
  readonly core: Pick<Core, 'api' | 'events'>;
  /** The built renderer (out/renderer). If it does not exist, every static request is a 404. */
  readonly staticDir: string;
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  readonly log: Logger;
  /** Overrides of DEFAULT_LIMITS, for tests. */
  readonly limits?: Partial<HeadlessLimits>;
}

export interface HeadlessServer {
  /** `http://127.0.0.1:PORT/#token=TOKEN`: the one thing to print. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The bound address (always 127.0.0.1). */
  address(): AddressInfo;
  /** Closes every socket and stops listening; the core keeps running. Idempotent. */
  close(): Promise<void>;
}

/** How long close() lets sockets finish their closing handshake before cutting them. */
const CLOSE_GRACE_MS = 1_000;

export async function startHeadlessServer(options: HeadlessServerOptions): Promise<HeadlessServer> {
  const { core, log } = options;
  const limits: HeadlessLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const token = generateToken();
  const staticRoot = await realpath(options.staticDir).catch(() => undefined);
  const connections = new Map<WebSocket, ApiConnection>();
  // Port is known only after listen(); no request is handled before then.
  let port = 0;

  const reportInternal = (command: string): void => log.error('headless: command failed', { command });
  const http = createServer({ requireHostHeader: false }, (request, response) => {
    if (checkedHost(request, port) === undefined) return forbid(response);
    void serveStatic(request, response, staticRoot, port);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const host = checkedHost(request, port);
    if (host === undefined || !originMatches(request, host) || !tokenMatches(upgradeToken(request.url), token)) {
      return rejectUpgrade(socket, '403 Forbidden');
    }
    if (connections.size >= limits.maxConnections) return rejectUpgrade(socket, '503 Service Unavailable');
    wss.handleUpgrade(request, socket, head, (ws) => {
      connections.set(ws, new ApiConnection(ws, { api: core.api, limits, reportInternal }));
      log.info('headless: ui connected', { connections: connections.size });
      ws.on('close', () => {
        connections.delete(ws);
        log.info('headless: ui disconnected', { connections: connections.size });
      });
    });
  });

  const unsubscribe = core.events.subscribe((event, payload) => {
    if (connections.size === 0) return;
    let frame: string;
    try {
      frame = JSON.stringify({ type: 'event', event, payload });
    } catch {
      log.error('headless: event not serialisable', { event });
      return;
    }
    for (const connection of connections.values()) connection.send(frame);
  });

  const heartbeat = setInterval(() => {
    for (const [ws, connection] of connections) {
      if (!connection.alive) {
        ws.terminate();
        continue;
      }
      connection.alive = false;
      ws.ping();
    }
  }, limits.heartbeatIntervalMs);
  heartbeat.unref();

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen({ host: LOOPBACK_HOST, port: options.port ?? 0, exclusive: true }, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    unsubscribe();
    clearInterval(heartbeat);
    throw error;
  }
  const address = http.address() as AddressInfo;
  port = address.port;

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    unsubscribe();
    clearInterval(heartbeat);
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    const sockets = [...connections.keys()];
    await Promise.all(sockets.map((ws) => closeGracefully(ws)));
    wss.close();
    await stopped;
  }

  return {
    url: `http://${LOOPBACK_HOST}:${port}/#token=${token}`,
    port,
    token,
    address: () => address,
    close: () => (closing ??= close()),
  };
}

/** 403 with no body and no other headers: no hint of what was wrong. */
function forbid(response: ServerResponse): void {
  response.sendDate = false;
  response.shouldKeepAlive = false;
  response.writeHead(403, { 'Content-Length': '0' });
  response.end();
}

/** The same for a refused upgrade, written on the raw socket (no WebSocket exists yet). */
function rejectUpgrade(socket: Duplex, status: string): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}

function closeGracefully(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(CLOSE_GOING_AWAY, 'server stopping');
  });
}
