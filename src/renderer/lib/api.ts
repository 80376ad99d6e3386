/**
 * The one module of the renderer that talks to a transport. In the desktop app the preload
 * exposes `window.parley` (Electron IPC); in a browser served by the headless peer the page
 * talks to the same origin over a WebSocket (handshake: src/main/headless/server.ts). Either way
 * the rest of the UI sees one `ApiClient`: a typed `ClientApi` (one function per contract
 * command, each resolving to a `Result`, never rejecting) and validated events.
 *
 * The renderer trusts the core, but every response and event is still checked against the
 * contract's schemas: it costs little and turns version skew into a clear error instead of a
 * broken screen.
 *
 * @example
 * ```ts
 * const client = connectApi();
 * const status = await client.api['identity.status']({});
 * const off = client.onEvent((event, payload) => { if (event === 'message.received') … });
 * ```
 */
import {
  COMMAND_NAMES,
  COMMANDS,
  EVENTS,
  MAX_WS_FRAME_BYTES,
  err,
  isEventName,
  type ClientApi,
  type CommandName,
  type EventName,
  type EventPayload,
  type Result,
} from '../../shared';

/** One validated event, `(name, payload)` narrowed together by name. */
export type ApiEvent = { [E in EventName]: [event: E, payload: EventPayload<E>] }[EventName];
export type ApiEventListener = (...event: ApiEvent) => void;

/**
 * - `connecting`: first attempt under way;
 * - `open`: requests flow;
 * - `reconnecting`: the socket dropped, retrying with backoff (events are not replayed: the UI
 *   re-queries its state when `open` comes back);
 * - `no-token`: the page was opened without the token the headless peer printed.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'no-token';

export interface ApiClient {
  readonly kind: 'ipc' | 'websocket';
  readonly api: ClientApi;
  onEvent(listener: ApiEventListener): () => void;
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  readonly connection: ConnectionState;
}

/** What a transport does: send a command, deliver raw events, report its connection. */
export interface Transport {
  readonly kind: 'ipc' | 'websocket';
  readonly state: ConnectionState;
  request(command: CommandName, args: unknown): Promise<Result<unknown>>;
  onRawEvent(listener: (event: string, payload: unknown) => void): () => void;
  onStateChange(listener: (state: ConnectionState) => void): () => void;
}

/** The part of the preload's `window.parley` (src/preload/types.ts) this module uses. */
export interface ParleyBridgeLike {
  readonly invoke: (command: CommandName, args: never) => Promise<Result<unknown>>;
  readonly onEvent: (listener: (event: never, payload: never) => void) => () => void;
}

function isResult(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; error?: { code?: unknown } };
  return v.ok === true || (v.ok === false && typeof v.error === 'object' && v.error !== null && typeof v.error.code === 'string');
}

/** Wraps a transport into the typed, validated client the UI uses. */
export function createClient(transport: Transport): ApiClient {
  const api: Record<string, (args: unknown) => Promise<Result<unknown>>> = {};
  for (const command of COMMAND_NAMES) {
    api[command] = async (args) => {
      const result = await transport.request(command, args);
      if (!result.ok) return result;
      const parsed = COMMANDS[command].response.safeParse(result.value);
      if (parsed.success) return { ok: true, value: parsed.data };
      // Names only: values may hold message text.
      console.warn(`parley: response to ${command} does not match the contract`);
      return err('INTERNAL', 'unexpected response from the core');
    };
  }
  return {
    kind: transport.kind,
    api: api as ClientApi,
    get connection() {
      return transport.state;
    },
    onConnectionChange: (listener) => transport.onStateChange(listener),
    onEvent(listener) {
      return transport.onRawEvent((event, payload) => {
        if (!isEventName(event)) return;
        const parsed = EVENTS[event].safeParse(payload);
        if (!parsed.success) {
          console.warn(`parley: event ${event} does not match the contract`);
          return;
        }
        (listener as (e: string, p: unknown) => void)(event, parsed.data);
      });
    },
  };
}

/** The Electron transport: the preload's bridge, already typed and never rejecting. */
export function ipcTransport(bridge: ParleyBridgeLike): Transport {
  return {
    kind: 'ipc',
    state: 'open',
    async request(command, args) {
      try {
        const result: unknown = await bridge.invoke(command, args as never);
        return isResult(result) ? result : err('INTERNAL', 'malformed result');
      } catch {
        return err('INTERNAL', 'the request could not be sent');
      }
    },
    onRawEvent: (listener) => bridge.onEvent(listener as (event: never, payload: never) => void),
    onStateChange: () => () => {},
  };
}

/** The browser's WebSocket, reduced to what the transport needs (a fake one in tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export interface WsTransportOptions {
  readonly url: string;
  readonly createSocket: (url: string) => SocketLike;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly random?: () => number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** Reconnect quickly after a blip, back off to a calm retry while the peer is down. */
export const INITIAL_BACKOFF_MS = 250;
export const MAX_BACKOFF_MS = 10_000;
/** Requests held while the socket is down; past this they fail at once (nothing piles up). */
export const MAX_QUEUED_REQUESTS = 256;

/** Exponential backoff with jitter in [50 %, 100 %] so many tabs do not retry in lockstep. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random() / 2));
}

const OPEN = 1;
const LOST = 'Lost the connection to the Parley peer.';

/** The headless peer's transport: JSON frames over one WebSocket (src/shared/wire.ts). */
export class WsTransport implements Transport {
  readonly kind = 'websocket' as const;
  #state: ConnectionState = 'connecting';
  #socket: SocketLike | undefined;
  #nextId = 1;
  #attempt = 0;
  #stopped = false;
  readonly #pending = new Map<number, (result: Result<unknown>) => void>();
  /** Frames written while not open, with the ids they belong to. */
  #queue: { id: number; frame: string }[] = [];
  readonly #eventListeners = new Set<(event: string, payload: unknown) => void>();
  readonly #stateListeners = new Set<(state: ConnectionState) => void>();
  readonly #options: Required<WsTransportOptions>;

  constructor(options: WsTransportOptions) {
    this.#options = {
      setTimer: (fn, ms) => setTimeout(fn, ms),
      random: Math.random,
      initialBackoffMs: INITIAL_BACKOFF_MS,
      maxBackoffMs: MAX_BACKOFF_MS,
      ...options,
    };
    this.#connect();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  request(command: CommandName, args: unknown): Promise<Result<unknown>> {
    const id = this.#nextId++;
    const frame = JSON.stringify({ type: 'request', id, command, args: args ?? {} });
    // The server closes the socket on an oversized frame; refuse it here instead.
    if (new TextEncoder().encode(frame).length > MAX_WS_FRAME_BYTES) return Promise.resolve(err('TOO_LARGE', 'request too large'));
    return new Promise((resolve) => {
      if (this.#state === 'open' && this.#socket?.readyState === OPEN) {
        this.#pending.set(id, resolve);
        this.#socket.send(frame);
      } else if (this.#queue.length < MAX_QUEUED_REQUESTS && !this.#stopped) {
        this.#pending.set(id, resolve);
        this.#queue.push({ id, frame });
      } else {
        resolve(err('UNREACHABLE', LOST));
      }
    });
  }

  onRawEvent(listener: (event: string, payload: unknown) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Stops for good: pending requests fail, no reconnect. */
  close(): void {
    this.#stopped = true;
    this.#socket?.close(1000, 'closing');
    this.#failAll();
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state);
  }

  #connect(): void {
    if (this.#stopped) return;
    let opened = false;
    const socket = this.#options.createSocket(this.#options.url);
    this.#socket = socket;
    socket.onopen = () => {
      opened = true;
      this.#attempt = 0;
      this.#setState('open');
      const queued = this.#queue;
      this.#queue = [];
      for (const { frame } of queued) socket.send(frame);
    };
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      // In-flight requests may or may not have run: never resend them (a message could be
      // sent twice). Queued ones never left: they fail only when an attempt fails outright,
      // so a request made during a blip goes out once the socket is back.
      this.#failInFlight();
      if (!opened) this.#failQueued();
      if (this.#stopped) return;
      this.#setState('reconnecting');
      const delay = backoffDelay(this.#attempt++, this.#options.initialBackoffMs, this.#options.maxBackoffMs, this.#options.random);
      this.#options.setTimer(() => this.#connect(), delay);
    };
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    const f = frame as { type?: unknown; id?: unknown; result?: unknown; event?: unknown; payload?: unknown };
    if (f.type === 'response' && typeof f.id === 'number') {
      const resolve = this.#pending.get(f.id);
      if (!resolve) return;
      this.#pending.delete(f.id);
      resolve(isResult(f.result) ? f.result : err('INTERNAL', 'malformed response'));
    } else if (f.type === 'event' && typeof f.event === 'string') {
      for (const listener of this.#eventListeners) {
        try {
          listener(f.event, f.payload);
        } catch (error) {
          console.error('parley: event listener failed', error);
        }
      }
    }
  }

  #failInFlight(): void {
    const queuedIds = new Set(this.#queue.map((q) => q.id));
    for (const [id, resolve] of this.#pending) {
      if (queuedIds.has(id)) continue;
      this.#pending.delete(id);
      resolve(err('UNREACHABLE', LOST));
    }
  }

  #failQueued(): void {
    for (const { id } of this.#queue) {
      this.#pending.get(id)?.(err('UNREACHABLE', LOST));
      this.#pending.delete(id);
    }
    this.#queue = [];
  }

  #failAll(): void {
    this.#failQueued();
    this.#failInFlight();
  }
}

const TOKEN_KEY = 'parley.token';

/**
 * The headless peer's token: from the URL fragment on first load (then removed from the
 * address bar and history), else from this tab's sessionStorage so a reload keeps working.
 * The token is valid only for the peer's current run.
 */
export function takeToken(location: Pick<Location, 'hash' | 'pathname' | 'search'>, history: Pick<History, 'replaceState'>, storage: Pick<Storage, 'getItem' | 'setItem'> | undefined): string | undefined {
  const fromHash = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
  if (fromHash) {
    try {
      storage?.setItem(TOKEN_KEY, fromHash);
    } catch {
      // Storage disabled: the token lives only in memory for this page.
    }
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  try {
    return storage?.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** A transport that never connects: the page was opened without a token. */
function noTokenTransport(): Transport {
  return {
    kind: 'websocket',
    state: 'no-token',
    request: async () => err('UNAUTHORIZED', 'no access token'),
    onRawEvent: () => () => {},
    onStateChange: () => () => {},
  };
}

/** Picks the transport for this page: `window.parley` in Electron, else the WebSocket. */
export function connectApi(): ApiClient {
  const bridge = (window as { parley?: ParleyBridgeLike }).parley;
  if (bridge && typeof bridge.invoke === 'function' && typeof bridge.onEvent === 'function') return createClient(ipcTransport(bridge));
  let storage: Storage | undefined;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = undefined;
  }
  const token = takeToken(window.location, window.history, storage);
  if (!token) return createClient(noTokenTransport());
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/api?token=${encodeURIComponent(token)}`;
  // The DOM WebSocket is a SocketLike; only its handlers' `this` typing differs.
  return createClient(new WsTransport({ url, createSocket: (u) => new WebSocket(u) as unknown as SocketLike }));
}
