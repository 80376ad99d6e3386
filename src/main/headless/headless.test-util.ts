/**
 * Test helpers for the headless server: a fake core (controllable CoreApi + real EventBus), a
 * static folder with a canary outside it, a raw HTTP client that sends bytes unmodified, and a
 * WebSocket client speaking the frame protocol.
 */
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { ApiFailure, COMMAND_NAMES, type CoreApi, type ResponseFrame, type EventFrame } from '../../shared';
import { EventBus } from '../core/events';
import type { Core, Logger } from '../core/types';
import type { HeadlessServer } from './server';

export interface FakeCore {
  readonly core: Pick<Core, 'api' | 'events'>;
  readonly events: EventBus;
  /** Every call that reached the core, in order, with its (validated) arguments. */
  readonly calls: Array<{ command: string; args: unknown }>;
}

/** A core whose every command records its call and fails NOT_FOUND unless overridden. */
export function fakeCore(overrides: Partial<Record<keyof CoreApi, (args: never) => Promise<unknown>>> = {}): FakeCore {
  const calls: FakeCore['calls'] = [];
  const api = Object.fromEntries(
    COMMAND_NAMES.map((command) => [
      command,
      async (args: unknown) => {
        calls.push({ command, args });
        const override = overrides[command] as ((a: unknown) => Promise<unknown>) | undefined;
        if (override) return override(args);
        throw new ApiFailure('NOT_FOUND', 'not found');
      },
    ]),
  ) as unknown as CoreApi;
  const events = new EventBus();
  return { core: { api, events }, events, calls };
}

export interface RecordingLogger extends Logger {
  readonly lines: Array<{ level: string; message: string; fields?: Record<string, string | number | boolean> }>;
  /** Resolves at the first line (past or future) matching the predicate. */
  waitFor(match: (line: RecordingLogger['lines'][number]) => boolean): Promise<void>;
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const waiters: Array<{ match: (line: RecordingLogger['lines'][number]) => boolean; resolve: () => void }> = [];
  const add = (level: string) => (message: string, fields?: Record<string, string | number | boolean>) => {
    const line = { level, message, ...(fields ? { fields } : {}) };
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  return {
    lines,
    info: add('info'),
    warn: add('warn'),
    error: add('error'),
    waitFor: (match) =>
      lines.some(match) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ match, resolve })),
  };
}

export const CANARY = 'CANARY-outside-the-static-root-7f3a';

/** root/ui (the static folder) with index.html, assets, a dot-file and a symlink out; root/secret.txt outside. */
export function makeStaticDir(): { root: string; staticDir: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'parley-headless-'));
  const staticDir = path.join(root, 'ui');
  mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Parley</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log("parley");');
  writeFileSync(path.join(staticDir, 'assets', 'style.css'), 'body{}');
  writeFileSync(path.join(staticDir, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(staticDir, '.env'), CANARY);
  writeFileSync(path.join(root, 'secret.txt'), CANARY);
  writeFileSync(path.join(root, 'ui-evil.txt'), CANARY); // shares the "ui" prefix: a naive startsWith(root) check would pass
  symlinkSync(path.join(root, 'secret.txt'), path.join(staticDir, 'link-out.txt'));
  return { root, staticDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export interface RawResponse {
  readonly status: number;
  /** Header names as sent, lowercased, in order. */
  readonly headerNames: string[];
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly raw: string;
}

/** Sends `request` byte for byte and reads until the server closes the connection (or has answered 101). */
export function rawHttp(port: number, request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // A successful upgrade never closes by itself: its head is the whole answer.
      if (Buffer.concat(chunks).toString('latin1').startsWith('HTTP/1.1 101 ') && Buffer.concat(chunks).includes('\r\n\r\n')) {
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const split = raw.indexOf('\r\n\r\n');
      const head = split === -1 ? raw : raw.slice(0, split);
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      const headerNames: string[] = [];
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        headerNames.push(name);
        headers[name] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headerNames, headers, body: split === -1 ? '' : raw.slice(split + 4), raw });
    });
    socket.write(request);
  });
}

/** A GET with the given extra header lines (each without CRLF) and Connection: close. */
export function get(port: number, target: string, headerLines: string[]): Promise<RawResponse> {
  return rawHttp(port, [`GET ${target} HTTP/1.1`, ...headerLines, 'Connection: close', '', ''].join('\r\n'));
}

/** A WebSocket upgrade request with the given extra header lines. */
export function upgrade(port: number, target: string, headerLines: string[]): Promise<RawResponse> {
  return rawHttp(
    port,
    [
      `GET ${target} HTTP/1.1`,
      ...headerLines,
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      '',
      '',
    ].join('\r\n'),
  );
}

/** A frame-protocol client as the browser UI would be, with the right Host, Origin and token. */
export class ApiClient {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly events: EventFrame[] = [];
  readonly #pending = new Map<number, (frame: ResponseFrame) => void>();
  readonly #eventWaiters: Array<() => void> = [];
  #nextId = 1;

  constructor(server: Pick<HeadlessServer, 'port' | 'token'>, options: { autoPong?: boolean } = {}) {
    this.ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${encodeURIComponent(server.token)}`, {
      origin: `http://127.0.0.1:${server.port}`,
      autoPong: options.autoPong ?? true,
    });
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ResponseFrame | EventFrame;
      if (frame.type === 'response') this.#pending.get(frame.id)?.(frame);
      else {
        this.events.push(frame);
        for (const wake of this.#eventWaiters.splice(0)) wake();
      }
    });
  }

  static async connect(server: Pick<HeadlessServer, 'port' | 'token'>, options?: { autoPong?: boolean }): Promise<ApiClient> {
    const client = new ApiClient(server, options);
    await client.opened;
    return client;
  }

  /** Resolves with the response frame for `id`. */
  response(id: number): Promise<ResponseFrame> {
    return new Promise((resolve) =>
      this.#pending.set(id, (frame) => {
        this.#pending.delete(id);
        resolve(frame);
      }),
    );
  }

  request(command: string, args?: unknown): Promise<ResponseFrame> {
    const id = this.#nextId++;
    const answer = this.response(id);
    this.ws.send(JSON.stringify({ type: 'request', id, command, ...(args === undefined ? {} : { args }) }));
    return answer;
  }

  /** Sends a raw text frame and waits for the response to `id`. */
  sendRaw(text: string, id: number): Promise<ResponseFrame> {
    const answer = this.response(id);
    this.ws.send(text);
    return answer;
  }

  async nextEvent(): Promise<EventFrame> {
    const seen = this.events.length;
    while (this.events.length === seen) await new Promise<void>((resolve) => this.#eventWaiters.push(resolve));
    return this.events[seen] as EventFrame;
  }

  close(): void {
    this.ws.terminate();
  }
}
