import { beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_NAMES, EVENT_NAMES } from '../shared';
import type { ParleyBridge } from './types';

const electron = vi.hoisted(() => {
  const channelListeners = new Map<string, Array<(event: unknown, ...args: unknown[]) => void>>();
  const ipcRenderer = {
    invoke: vi.fn(async (..._args: unknown[]): Promise<unknown> => ({ ok: true, value: 'answer' })),
    on: vi.fn((channel: string, listener: (event: unknown, ...args: unknown[]) => void) => {
      channelListeners.set(channel, [...(channelListeners.get(channel) ?? []), listener]);
      return ipcRenderer;
    }),
    send: vi.fn(),
    sendSync: vi.fn(),
    postMessage: vi.fn(),
  };
  const exposed: Array<[string, unknown]> = [];
  const contextBridge = { exposeInMainWorld: vi.fn((key: string, value: unknown) => exposed.push([key, value])) };
  return { ipcRenderer, contextBridge, exposed, channelListeners };
});
vi.mock('electron', () => ({ ipcRenderer: electron.ipcRenderer, contextBridge: electron.contextBridge }));

await import('./index');
const [exposedKey, exposedValue] = electron.exposed[0] ?? [];
const bridge = exposedValue as ParleyBridge;

/** Everything reachable from the exposed object, to prove ipcRenderer is not among it. */
function reachable(value: unknown, seen = new Set<unknown>()): Set<unknown> {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return seen;
  seen.add(value);
  for (const key of Reflect.ownKeys(value as object)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor && 'value' in descriptor) reachable(descriptor.value, seen);
  }
  return seen;
}

function emitFromMain(...args: unknown[]) {
  const fakeIpcEvent = { sender: electron.ipcRenderer, senderId: 0 };
  for (const listener of electron.channelListeners.get('parley:event') ?? []) listener(fakeIpcEvent, ...args);
}

describe('preload', () => {
  beforeEach(() => {
    electron.ipcRenderer.invoke.mockClear();
  });

  it('preload - exposes exactly one global, window.parley, with api, invoke and onEvent', () => {
    expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect(exposedKey).toBe('parley');
    expect(Object.keys(bridge).sort()).toEqual(['api', 'invoke', 'onEvent']);
  });

  it('preload - exposes exactly the contract commands, one function each', () => {
    expect(Object.keys(bridge.api).sort()).toEqual([...COMMAND_NAMES].sort());
    for (const name of COMMAND_NAMES) expect(typeof bridge.api[name], name).toBe('function');
  });

  it('preload - never exposes ipcRenderer or any of its functions', () => {
    const all = reachable(bridge);
    expect(all.has(electron.ipcRenderer)).toBe(false);
    for (const fn of Object.values(electron.ipcRenderer)) expect(all.has(fn)).toBe(false);
  });

  it('preload - a command goes out on the one invoke channel as (name, args) and its Result comes back', async () => {
    const args = { conversationId: '0123456789abcdef0123456789abcdef', body: 'hi' };
    expect(await bridge.api['messages.send'](args)).toEqual({ ok: true, value: 'answer' });
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledWith('parley:invoke', 'messages.send', args);
    await bridge.invoke('contacts.list', {});
    expect(electron.ipcRenderer.invoke).toHaveBeenLastCalledWith('parley:invoke', 'contacts.list', {});
  });

  it('preload - a request that cannot be sent is a Result error, not a rejected promise', async () => {
    electron.ipcRenderer.invoke.mockRejectedValueOnce(new Error('An object could not be cloned'));
    expect(await bridge.api['contacts.list']({})).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('preload - events reach listeners as (name, payload), without the IPC event object', () => {
    const seen: unknown[][] = [];
    const off = bridge.onEvent((...event) => {
      seen.push(event);
    });
    const payload = { contactId: '0123456789abcdef0123456789abcdef', at: 5 };
    emitFromMain('contact.keyChanged', payload);
    expect(seen).toEqual([['contact.keyChanged', payload]]);
    for (const arg of seen.flat()) expect(arg).not.toHaveProperty('sender');
    off();
    emitFromMain('contact.keyChanged', payload);
    expect(seen).toHaveLength(1);
  });

  it('preload - unknown event names are dropped; a throwing listener does not stop the others', () => {
    expect(EVENT_NAMES).toContain('network.status');
    const seen: string[] = [];
    const offA = bridge.onEvent(() => {
      throw new Error('listener bug');
    });
    const offB = bridge.onEvent((event, _payload) => {
      seen.push(event);
    });
    emitFromMain('not.an.event', {});
    emitFromMain('__proto__', {});
    emitFromMain('nearby.changed', { peers: [] });
    expect(seen).toEqual(['nearby.changed']);
    offA();
    offB();
  });

  it('preload - a listener narrows the payload by the event name', () => {
    const ids: string[] = [];
    const off = bridge.onEvent((event, payload) => {
      // Type-level check as much as a runtime one: `payload.message` exists only after the test.
      if (event === 'message.received') ids.push(payload.message.id);
    });
    emitFromMain('message.received', { message: { id: 'abc' } });
    off();
    expect(ids).toEqual(['abc']);
  });

  it('preload - onEvent refuses a non-function listener', () => {
    expect(() => bridge.onEvent('x' as unknown as () => void)).toThrow(TypeError);
  });
});
