import { describe, expect, it, vi } from 'vitest';
import { MAX_WS_FRAME_BYTES } from '../../shared';
import { backoffDelay, createClient, ipcTransport, takeToken, WsTransport, type SocketLike } from './api';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.drop();
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
  deliver(frame: unknown) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
  lastRequest(): { id: number; command: string; args: unknown } {
    return JSON.parse(this.sent[this.sent.length - 1]!);
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const transport = new WsTransport({
    url: 'ws://127.0.0.1:9/api?token=t',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    random: () => 1,
  });
  const client = createClient(transport);
  return { sockets, timers, transport, client, socket: () => sockets[sockets.length - 1]! };
}

const profile = { displayName: 'Ada', peerId: '12D3KooWAbCdEfGhJkLmNpQrStUvWxYz1234567', fingerprint: 'ab12', inviteLink: 'parley://invite/x' };
const id = 'a'.repeat(32);

describe('WebSocket transport', () => {
  it('sends request frames once open and matches responses by id, in any order', async () => {
    const { client, socket } = setup();
    const status = client.api['identity.status']({});
    const nearby = client.api['nearby.list']({});
    expect(socket().sent).toEqual([]);
    socket().open();
    const frames = socket().sent.map((s) => JSON.parse(s));
    expect(frames.map((f) => [f.type, f.command])).toEqual([
      ['request', 'identity.status'],
      ['request', 'nearby.list'],
    ]);
    expect(frames[0].id).not.toBe(frames[1].id);
    socket().deliver({ type: 'response', id: frames[1].id, result: { ok: true, value: [] } });
    socket().deliver({ type: 'response', id: frames[0].id, result: { ok: true, value: { state: 'unlocked', keychainAvailable: false, profile } } });
    expect(await nearby).toEqual({ ok: true, value: [] });
    expect(await status).toMatchObject({ ok: true, value: { state: 'unlocked' } });
  });

  it('passes error results through and turns a malformed response into INTERNAL', async () => {
    const { client, socket } = setup();
    socket().open();
    const unlock = client.api['identity.unlock']({ passphrase: 'x' });
    socket().deliver({ type: 'response', id: socket().lastRequest().id, result: { ok: false, error: { code: 'WRONG_PASSPHRASE', message: 'no' } } });
    expect(await unlock).toEqual({ ok: false, error: { code: 'WRONG_PASSPHRASE', message: 'no' } });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const list = client.api['contacts.list']({});
    socket().deliver({ type: 'response', id: socket().lastRequest().id, result: { ok: true, value: [{ id: 'not-an-id' }] } });
    expect(await list).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    const list2 = client.api['contacts.list']({});
    socket().deliver({ type: 'response', id: socket().lastRequest().id, result: 'garbage' });
    expect(await list2).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    warn.mockRestore();
  });

  it('ignores frames that are not JSON, unknown ids and unknown types', async () => {
    const { client, socket } = setup();
    socket().open();
    const p = client.api['nearby.list']({});
    socket().deliver('not json');
    socket().deliver({ type: 'response', id: 99_999, result: { ok: true, value: 1 } });
    socket().deliver({ type: 'bogus' });
    socket().deliver({ type: 'response', id: socket().lastRequest().id, result: { ok: true, value: [] } });
    expect(await p).toEqual({ ok: true, value: [] });
  });

  it('delivers events that match the contract and drops those that do not', () => {
    const { client, socket } = setup();
    socket().open();
    const seen: unknown[] = [];
    client.onEvent((event, payload) => seen.push([event, payload]));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    socket().deliver({ type: 'event', event: 'contact.keyChanged', payload: { contactId: id, at: 5 } });
    socket().deliver({ type: 'event', event: 'contact.keyChanged', payload: { contactId: 'x', at: 5 } });
    socket().deliver({ type: 'event', event: 'no.such', payload: {} });
    warn.mockRestore();
    expect(seen).toEqual([['contact.keyChanged', { contactId: id, at: 5 }]]);
  });

  it('fails in-flight requests when the socket drops, then reconnects with growing backoff', async () => {
    const { client, socket, sockets, timers, transport } = setup();
    const states: string[] = [];
    transport.onStateChange((s) => states.push(s));
    socket().open();
    const inFlight = client.api['messages.send']({ conversationId: id, body: 'hi' });
    socket().drop();
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    expect(states).toEqual(['open', 'reconnecting']);
    expect(timers.map((t) => t.ms)).toEqual([250]);
    timers[0]!.fn();
    expect(sockets).toHaveLength(2);
    socket().drop(); // a failed attempt
    expect(timers.map((t) => t.ms)).toEqual([250, 500]);
    timers[1]!.fn();
    // A request made while reconnecting waits for the socket, and is sent exactly once.
    const waiting = client.api['nearby.list']({});
    socket().open();
    expect(states).toEqual(['open', 'reconnecting', 'open']);
    expect(socket().sent).toHaveLength(1);
    socket().deliver({ type: 'response', id: socket().lastRequest().id, result: { ok: true, value: [] } });
    expect(await waiting).toEqual({ ok: true, value: [] });
    // The backoff starts again from the beginning after a successful open.
    socket().drop();
    expect(timers[timers.length - 1]!.ms).toBe(250);
  });

  it('fails queued requests when a connection attempt fails, and refuses oversized frames', async () => {
    const { client, socket } = setup();
    const queued = client.api['nearby.list']({});
    socket().drop();
    expect(await queued).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    const huge = await client.api['messages.send']({ conversationId: id, body: 'é'.repeat(MAX_WS_FRAME_BYTES) });
    expect(huge).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
  });

  it('stops for good on close', async () => {
    const { client, socket, timers, transport } = setup();
    socket().open();
    const p = client.api['nearby.list']({});
    transport.close();
    expect(await p).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    expect(timers).toHaveLength(0);
  });
});

describe('backoff', () => {
  it('doubles up to the maximum, with jitter between half and all of it', () => {
    expect(backoffDelay(0, 250, 10_000, () => 1)).toBe(250);
    expect(backoffDelay(3, 250, 10_000, () => 1)).toBe(2000);
    expect(backoffDelay(20, 250, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(20, 250, 10_000, () => 0)).toBe(5000);
  });
});

describe('token', () => {
  it('takes the token from the fragment, stores it for reloads and clears the address bar', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const replaceState = vi.fn();
    expect(takeToken({ hash: '#token=abc_-1', pathname: '/', search: '' }, { replaceState }, storage)).toBe('abc_-1');
    expect(replaceState).toHaveBeenCalledWith(null, '', '/');
    expect(takeToken({ hash: '', pathname: '/', search: '' }, { replaceState }, storage)).toBe('abc_-1');
    expect(takeToken({ hash: '', pathname: '/', search: '' }, { replaceState }, undefined)).toBeUndefined();
  });
});

describe('IPC transport', () => {
  it('validates results and events from the bridge', async () => {
    let emit: (e: string, p: unknown) => void = () => {};
    const bridge = {
      invoke: async (command: string) => (command === 'nearby.list' ? { ok: true, value: [] } : 'junk'),
      onEvent: (listener: (e: never, p: never) => void) => {
        emit = listener as (e: string, p: unknown) => void;
        return () => {};
      },
    };
    const client = createClient(ipcTransport(bridge as never));
    expect(await client.api['nearby.list']({})).toEqual({ ok: true, value: [] });
    expect(await client.api['contacts.list']({})).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    const seen: string[] = [];
    client.onEvent((...[event]) => void seen.push(event));
    emit('nearby.changed', { peers: [] });
    emit('nearby.changed', { peers: 'x' });
    expect(seen).toEqual(['nearby.changed']);
  });
});
