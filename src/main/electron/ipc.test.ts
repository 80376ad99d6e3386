import { describe, expect, it, vi } from 'vitest';
import type { CoreApi } from '../../shared';
import { EventBus } from '../core/events';
import * as preloadChannels from '../../preload/channels';

vi.mock('electron', () => ({}));

const { EVENT_CHANNEL, INVOKE_CHANNEL } = await import('./constants');
const { createInvokeHandler, forwardEvents, isTrustedSender, registerInvokeHandler } = await import('./ipc');
type Handler = ReturnType<typeof createInvokeHandler>;
type SenderEvent = Parameters<Handler>[0];
type Window = NonNullable<ReturnType<Parameters<typeof createInvokeHandler>[0]['getWindow']>>;

const ID = '0123456789abcdef0123456789abcdef';

interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
  detached: boolean;
  processId: number;
  frameToken: string;
}

function frame(url: string, overrides: Partial<FakeFrame> = {}): FakeFrame {
  return { url, parent: null, detached: false, processId: 7, frameToken: 'top', ...overrides };
}

/** Our window: its WebContents, showing app://parley in its top frame. */
function setup(url = 'app://parley/index.html') {
  const mainFrame = frame(url);
  const webContents = { mainFrame };
  const window = { isDestroyed: () => false, webContents };
  const setVerified = vi.fn(async (args: { contactId: string; verified: boolean }) => ({ echoed: args }));
  const core = { 'contacts.setVerified': setVerified } as unknown as CoreApi;
  const refused = vi.fn();
  const handler = createInvokeHandler({
    core: Promise.resolve(core),
    getWindow: () => window as unknown as Window,
    onRefused: refused,
  });
  const fromUi = { sender: webContents, senderFrame: mainFrame } as unknown as SenderEvent;
  return { window, webContents, mainFrame, handler, setVerified, refused, fromUi };
}

const VALID = { contactId: ID, verified: true };

describe('ipc', () => {
  it('ipc - a valid request from our top frame reaches the core with its validated arguments', async () => {
    const { handler, setVerified, fromUi } = setup();
    const result = await handler(fromUi, 'contacts.setVerified', VALID);
    expect(result).toEqual({ ok: true, value: { echoed: VALID } });
    expect(setVerified).toHaveBeenCalledWith(VALID);
  });

  it('ipc - a message from another WebContents is rejected with UNAUTHORIZED before the core sees it', async () => {
    const { handler, setVerified, mainFrame, refused } = setup();
    const other = { sender: { mainFrame }, senderFrame: mainFrame } as unknown as SenderEvent;
    expect(await handler(other, 'contacts.setVerified', VALID)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect(setVerified).not.toHaveBeenCalled();
    expect(refused).toHaveBeenCalledTimes(1);
  });

  it('ipc - a message from a subframe (not the top frame) is rejected', async () => {
    const { handler, setVerified, webContents, mainFrame } = setup();
    const iframe = frame('app://parley/index.html', { parent: mainFrame as FakeFrame, frameToken: 'child' });
    const event = { sender: webContents, senderFrame: iframe } as unknown as SenderEvent;
    expect(await handler(event, 'contacts.setVerified', VALID)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    // Even a top-level-looking frame that is not our main frame.
    const stranger = { sender: webContents, senderFrame: frame('app://parley/index.html', { frameToken: 'other' }) };
    expect(await handler(stranger as unknown as SenderEvent, 'contacts.setVerified', VALID)).toMatchObject({
      error: { code: 'UNAUTHORIZED' },
    });
    expect(setVerified).not.toHaveBeenCalled();
  });

  it('ipc - a top frame showing any other URL is rejected', async () => {
    for (const url of [
      'https://evil.example/',
      'file:///home/user/index.html',
      'app://evil/index.html',
      'app://parley:1/index.html',
      'about:blank',
      'data:text/html,hi',
      'http://localhost:5173/',
    ]) {
      const { handler, setVerified, fromUi } = setup(url);
      expect(await handler(fromUi, 'contacts.setVerified', VALID), url).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
      expect(setVerified).not.toHaveBeenCalled();
    }
  });

  it('ipc - no sender frame (navigated away or destroyed), a detached frame or a closed window is rejected', async () => {
    const { handler, webContents, mainFrame, window, fromUi } = setup();
    expect(await handler({ sender: webContents, senderFrame: null } as unknown as SenderEvent, 'contacts.setVerified', VALID)).toMatchObject({
      error: { code: 'UNAUTHORIZED' },
    });
    mainFrame.detached = true;
    expect(await handler(fromUi, 'contacts.setVerified', VALID)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    mainFrame.detached = false;
    window.isDestroyed = () => true;
    expect(await handler(fromUi, 'contacts.setVerified', VALID)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect(isTrustedSender(fromUi, undefined)).toBe(false);
  });

  it('ipc - a malformed argument gets INVALID_ARGUMENT and never reaches the core', async () => {
    const { handler, setVerified, fromUi } = setup();
    for (const args of [
      { contactId: 'nope', verified: true },
      { contactId: ID, verified: 'yes' },
      { contactId: ID, verified: true, extra: 1 },
      JSON.parse(`{"contactId":"${ID}","verified":true,"__proto__":{"polluted":1}}`),
      'a string',
      null,
      [ID, true],
    ]) {
      expect(await handler(fromUi, 'contacts.setVerified', args)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(setVerified).not.toHaveBeenCalled();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('ipc - an unknown command gets UNKNOWN_COMMAND', async () => {
    const { handler, fromUi } = setup();
    for (const command of ['messages.delete', '__proto__', 'constructor', 42, undefined]) {
      expect(await handler(fromUi, command, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
    }
  });

  it('ipc - a core that failed to start answers INTERNAL, without detail', async () => {
    const { webContents, fromUi } = setup();
    const failed = Promise.reject(new Error('/home/user/secret path'));
    failed.catch(() => {});
    const handler = createInvokeHandler({
      core: failed,
      getWindow: () => ({ isDestroyed: () => false, webContents }) as unknown as Window,
    });
    const result = await handler(fromUi, 'contacts.setVerified', VALID);
    expect(result).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(result)).not.toContain('secret');
  });

  it('ipc - exactly one channel is registered, and it is the one the preload uses', async () => {
    const handle = vi.fn();
    const removeHandler = vi.fn();
    const { window, fromUi, setVerified } = setup();
    const dispose = registerInvokeHandler({ handle, removeHandler }, { core: Promise.resolve({ 'contacts.setVerified': setVerified } as unknown as CoreApi), getWindow: () => window as unknown as Window });
    expect(handle).toHaveBeenCalledTimes(1);
    expect(handle.mock.calls[0]![0]).toBe(INVOKE_CHANNEL);
    expect(INVOKE_CHANNEL).toBe(preloadChannels.INVOKE_CHANNEL);
    expect(EVENT_CHANNEL).toBe(preloadChannels.EVENT_CHANNEL);
    const listener = handle.mock.calls[0]![1] as (event: unknown, ...args: unknown[]) => Promise<unknown>;
    expect(await listener(fromUi, 'contacts.setVerified', VALID)).toMatchObject({ ok: true });
    dispose();
    expect(removeHandler).toHaveBeenCalledWith(INVOKE_CHANNEL);
  });

  it('ipc - core events go to the window on the event channel, only while it shows our UI', () => {
    const bus = new EventBus();
    const send = vi.fn();
    let url = 'app://parley/index.html';
    const window = { isDestroyed: () => false, webContents: { send, getURL: () => url, isDestroyed: () => false } };
    const unsubscribe = forwardEvents(bus, () => window);
    const payload = { contactId: ID, at: 1 };
    bus.emit('contact.keyChanged', payload);
    expect(send).toHaveBeenCalledWith(EVENT_CHANNEL, 'contact.keyChanged', payload);
    url = 'https://evil.example/';
    bus.emit('contact.keyChanged', payload);
    expect(send).toHaveBeenCalledTimes(1);
    url = 'app://parley/index.html';
    unsubscribe();
    bus.emit('contact.keyChanged', payload);
    expect(send).toHaveBeenCalledTimes(1);
  });
});
