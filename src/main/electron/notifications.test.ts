import { describe, expect, it, vi } from 'vitest';
import type { Conversation, Message, Settings } from '../../shared';
import { EventBus } from '../core/events';

const shown = vi.hoisted(() => [] as Array<{ options: { title: string; body: string }; emit: (e: string) => void }>);
vi.mock('electron', () => ({
  Notification: class {
    static isSupported = () => true;
    readonly handlers = new Map<string, () => void>();
    constructor(readonly options: { title: string; body: string }) {}
    on(event: string, handler: () => void) {
      this.handlers.set(event, handler);
      return this;
    }
    show() {
      shown.push({ options: this.options, emit: (event) => this.handlers.get(event)?.() });
    }
  },
}));

const { cleanText, describeNotification, startMessageNotifications } = await import('./notifications');

const CONVERSATION = '0123456789abcdef0123456789abcdef';
const message: Message = {
  id: 'ffffffffffffffffffffffffffffffff',
  conversationId: CONVERSATION,
  direction: 'in',
  body: 'See you at 6?',
  sentAt: 1,
  state: 'delivered',
};
const settings: Settings = { lanVisible: true, theme: 'system', notifications: true, notificationPreview: true };

function harness(options: { settings?: Settings; focused?: boolean } = {}) {
  const bus = new EventBus();
  const show = vi.fn();
  const focusWindow = vi.fn();
  const conversation = { id: CONVERSATION, title: 'Alice' } as Conversation;
  const api = {
    'settings.get': vi.fn(async () => options.settings ?? settings),
    'conversations.list': vi.fn(async () => [conversation]),
  };
  startMessageNotifications({ api, events: bus, isWindowFocused: () => options.focused ?? false, focusWindow, show });
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  return { bus, show, focusWindow, api, settled };
}

describe('notifications', () => {
  it('notifications - a message while the window is unfocused shows the sender and a preview', async () => {
    const { bus, show, settled } = harness();
    bus.emit('message.received', { message });
    await settled();
    expect(show).toHaveBeenCalledWith({ title: 'Alice', body: 'See you at 6?' }, expect.any(Function));
  });

  it('notifications - with previews off, neither the text nor the sender appears', async () => {
    const { bus, show, api, settled } = harness({ settings: { ...settings, notificationPreview: false } });
    bus.emit('message.received', { message });
    await settled();
    expect(show).toHaveBeenCalledWith({ title: 'Parley', body: 'New message' }, expect.any(Function));
    expect(api['conversations.list']).not.toHaveBeenCalled();
  });

  it('notifications - nothing while the window is focused, when turned off, or for our own messages', async () => {
    for (const [options, msg] of [
      [{ focused: true }, message],
      [{ settings: { ...settings, notifications: false } }, message],
      [{}, { ...message, direction: 'out' as const }],
    ] as const) {
      const { bus, show, settled } = harness(options);
      bus.emit('message.received', { message: msg });
      await settled();
      expect(show).not.toHaveBeenCalled();
    }
  });

  it('notifications - a locked or failing core shows nothing and throws nothing', async () => {
    const bus = new EventBus();
    const show = vi.fn();
    const api = {
      'settings.get': vi.fn(async () => {
        throw new Error('locked');
      }),
      'conversations.list': vi.fn(async () => []),
    };
    startMessageNotifications({ api, events: bus, isWindowFocused: () => false, focusWindow: () => {}, show });
    bus.emit('message.received', { message });
    await new Promise((resolve) => setImmediate(resolve));
    expect(show).not.toHaveBeenCalled();
  });

  it('notifications - peer text loses bidi overrides and control characters and is capped', () => {
    expect(cleanText('evil\u202Egnp.exe\u0007\nline', 100)).toBe('evil gnp.exe line');
    const long = cleanText('x'.repeat(500), 140);
    expect(Array.from(long)).toHaveLength(140);
    expect(long.endsWith('…')).toBe(true);
    // Astral characters are not cut in half.
    expect(cleanText('😀'.repeat(10), 5)).toBe('😀😀😀😀…');
  });

  it('notifications - on Linux the body is escaped, because notification servers read it as markup', () => {
    const hostile = { ...message, body: '<a href="https://evil.example">click</a> & <img src=x>' };
    const content = describeNotification(hostile, settings, 'Mallory <b>', 'linux');
    expect(content?.body).toBe('&lt;a href="https://evil.example"&gt;click&lt;/a&gt; &amp; &lt;img src=x&gt;');
    // The title (summary) is never markup: cleaned, not escaped.
    expect(content?.title).toBe('Mallory <b>');
    expect(describeNotification(hostile, settings, 'M', 'darwin')?.body).toBe(hostile.body);
  });

  it('notifications - an incoming contact request is announced, by name only when previews are on', async () => {
    const request = {
      id: 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',
      direction: 'incoming' as const,
      peerId: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN',
      displayName: 'Bob\u202E',
      fingerprint: 'ab cd',
      createdAt: 1,
    };
    const on = harness();
    on.bus.emit('contact.request', { request });
    await on.settled();
    expect(on.show).toHaveBeenCalledWith({ title: 'Parley', body: 'Bob wants to add you as a contact' }, expect.any(Function));
    const off = harness({ settings: { ...settings, notificationPreview: false } });
    off.bus.emit('contact.request', { request });
    await off.settled();
    expect(off.show).toHaveBeenCalledWith({ title: 'Parley', body: 'New contact request' }, expect.any(Function));
    const outgoing = harness();
    outgoing.bus.emit('contact.request', { request: { ...request, direction: 'outgoing' } });
    await outgoing.settled();
    expect(outgoing.show).not.toHaveBeenCalled();
  });

  it('notifications - the default presenter shows an Electron notification whose click focuses the window', async () => {
    const bus = new EventBus();
    const focusWindow = vi.fn();
    const api = { 'settings.get': vi.fn(async () => settings), 'conversations.list': vi.fn(async () => []) };
    startMessageNotifications({ api, events: bus, isWindowFocused: () => false, focusWindow });
    bus.emit('message.received', { message });
    await new Promise((resolve) => setImmediate(resolve));
    expect(shown).toHaveLength(1);
    expect(shown[0]!.options).toMatchObject({ title: 'New message', body: 'See you at 6?' });
    shown[0]!.emit('click');
    expect(focusWindow).toHaveBeenCalledTimes(1);
  });
});
