import { EventEmitter } from 'node:events';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => ({
  showMessageBox: vi.fn(async (..._args: unknown[]) => ({ response: 0, checkboxChecked: false })),
  openExternal: vi.fn(async (_url: string) => {}),
}));
vi.mock('electron', () => ({
  dialog: { showMessageBox: electron.showMessageBox },
  shell: { openExternal: electron.openExternal },
}));

const { applyPermissionPolicy, createExternalLinkOpener, guardWebContents, isPermissionAllowed, safeExternalUrl } =
  await import('./navigation');
type Contents = Parameters<typeof guardWebContents>[0];

/** A WebContents stand-in: an EventEmitter plus the window-open handler slot. */
class FakeContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.openHandler = handler;
  }
}

function navigationEvent(url: string, isMainFrame = true) {
  return { url, isMainFrame, preventDefault: vi.fn() };
}

describe('navigation', () => {
  beforeEach(() => {
    electron.showMessageBox.mockReset().mockResolvedValue({ response: 0, checkboxChecked: false });
    electron.openExternal.mockReset().mockResolvedValue(undefined);
  });

  function guarded() {
    const contents = new FakeContents();
    const links = { open: vi.fn(async () => false) };
    guardWebContents(contents as unknown as Contents, links);
    return { contents, links };
  }

  it('navigation - the page cannot navigate anywhere, not even to another app:// page', () => {
    const { contents } = guarded();
    for (const url of ['https://example.com/', 'file:///etc/passwd', 'app://parley/other.html', 'javascript:alert(1)']) {
      const willNavigate = navigationEvent(url);
      contents.emit('will-navigate', willNavigate);
      expect(willNavigate.preventDefault).toHaveBeenCalled();
      const willFrameNavigate = navigationEvent(url);
      contents.emit('will-frame-navigate', willFrameNavigate);
      expect(willFrameNavigate.preventDefault).toHaveBeenCalled();
    }
  });

  it('navigation - a subframe cannot navigate and is not offered to the browser', () => {
    const { contents, links } = guarded();
    const event = navigationEvent('https://example.com/', false);
    contents.emit('will-frame-navigate', event);
    expect(event.preventDefault).toHaveBeenCalled();
    expect(links.open).not.toHaveBeenCalled();
  });

  it('navigation - redirects and webviews are refused', () => {
    const { contents } = guarded();
    const redirect = navigationEvent('https://example.com/');
    contents.emit('will-redirect', redirect);
    expect(redirect.preventDefault).toHaveBeenCalled();
    const attach = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', attach, {}, {});
    expect(attach.preventDefault).toHaveBeenCalled();
  });

  it('navigation - every new window is denied; an https link is handed to the confirm-then-open path', () => {
    const { contents, links } = guarded();
    expect(contents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'app://parley/index.html' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'about:blank' })).toEqual({ action: 'deny' });
    expect(links.open).toHaveBeenCalledWith('https://example.com/');
  });

  it('permissions - notifications from our UI are allowed; every other permission is denied', () => {
    expect(isPermissionAllowed('notifications', 'app://parley/index.html')).toBe(true);
    for (const permission of ['media', 'geolocation', 'clipboard-read', 'openExternal', 'fullscreen', 'hid', 'unknown']) {
      expect(isPermissionAllowed(permission, 'app://parley/index.html'), permission).toBe(false);
    }
  });

  it('permissions - no page but ours gets even notifications', () => {
    for (const origin of ['https://example.com', 'app://evil/index.html', 'app://parley:8080/', 'file:///x.html', 'null', '']) {
      expect(isPermissionAllowed('notifications', origin), origin).toBe(false);
    }
  });

  it('permissions - the session handlers answer requests and checks by the same rule', () => {
    let request: ((wc: unknown, permission: string, cb: (ok: boolean) => void, details: { requestingUrl: string }) => void) | undefined;
    let check: ((wc: unknown, permission: string, origin: string) => boolean) | undefined;
    applyPermissionPolicy({
      setPermissionRequestHandler: (handler: typeof request) => (request = handler),
      setPermissionCheckHandler: (handler: typeof check) => (check = handler),
    } as unknown as Parameters<typeof applyPermissionPolicy>[0]);
    const answers: boolean[] = [];
    request?.({}, 'media', (ok) => answers.push(ok), { requestingUrl: 'app://parley/index.html' });
    request?.({}, 'notifications', (ok) => answers.push(ok), { requestingUrl: 'app://parley/index.html' });
    expect(answers).toEqual([false, true]);
    expect(check?.({}, 'geolocation', 'app://parley')).toBe(false);
    expect(check?.({}, 'notifications', 'app://parley')).toBe(true);
  });

  it('openExternal - only https: links, without credentials, are ever considered', () => {
    for (const url of [
      'http://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'smb://server/share',
      'app://parley/index.html',
      'https://user:pass@example.com/',
      'https://bank.example@evil.example/',
      'not a url',
      `https://example.com/${'a'.repeat(3000)}`,
    ]) {
      expect(safeExternalUrl(url), url).toBeUndefined();
    }
    expect(safeExternalUrl('https://example.com/a b')).toBe('https://example.com/a%20b');
    // The dialog shows the punycode host and percent-encoded bidi controls, not a disguise.
    expect(safeExternalUrl('https://exämple.com/\u202Etxt.exe')).toBe('https://xn--exmple-cua.com/%E2%80%AEtxt.exe');
  });

  it('openExternal - refuses http:, file: and javascript: without even asking', async () => {
    const opener = createExternalLinkOpener(() => undefined);
    for (const url of ['http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)']) {
      expect(await opener.open(url)).toBe(false);
    }
    expect(electron.showMessageBox).not.toHaveBeenCalled();
    expect(electron.openExternal).not.toHaveBeenCalled();
  });

  it('openExternal - asks before an https: link and opens nothing when the user cancels', async () => {
    const opener = createExternalLinkOpener(() => undefined);
    expect(await opener.open('https://example.com/page')).toBe(false);
    expect(electron.showMessageBox).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(electron.showMessageBox.mock.calls[0])).toContain('https://example.com/page');
    expect(electron.openExternal).not.toHaveBeenCalled();
  });

  it('openExternal - opens the normalised https: URL once the user confirms', async () => {
    electron.showMessageBox.mockResolvedValue({ response: 1, checkboxChecked: false });
    const opener = createExternalLinkOpener(() => undefined);
    expect(await opener.open('https://Example.com/path?q=1')).toBe(true);
    expect(electron.openExternal).toHaveBeenCalledWith('https://example.com/path?q=1');
  });

  it('openExternal - one question at a time: a second link while the dialog is up is dropped', async () => {
    let answer: (value: { response: number; checkboxChecked: boolean }) => void = () => {};
    electron.showMessageBox.mockImplementation(() => new Promise((resolve) => (answer = resolve)));
    const opener = createExternalLinkOpener(() => undefined);
    const first = opener.open('https://example.com/1');
    expect(await opener.open('https://example.com/2')).toBe(false);
    answer({ response: 1, checkboxChecked: false });
    expect(await first).toBe(true);
    expect(electron.openExternal).toHaveBeenCalledTimes(1);
    expect(electron.openExternal).toHaveBeenCalledWith('https://example.com/1');
  });
});
