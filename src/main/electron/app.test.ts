import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const state = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => void;
  const appListeners = new Map<string, Listener[]>();
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const uiSession = {
    protocol: { handle: vi.fn() },
    setPermissionRequestHandler: vi.fn(),
    setPermissionCheckHandler: vi.fn(),
  };
  const windows: Array<{ options: { webPreferences: Record<string, unknown> }; loadURL: ReturnType<typeof vi.fn> }> = [];
  const core = {
    api: {},
    events: { subscribe: vi.fn(() => () => {}), on: vi.fn(() => () => {}) },
    stop: vi.fn(async () => {}),
  };
  return {
    appListeners,
    resolveReady,
    ready,
    uiSession,
    windows,
    core,
    lock: true,
    startCore: vi.fn(async (_options: Record<string, unknown>) => core),
    app: {
      enableSandbox: vi.fn(),
      requestSingleInstanceLock: vi.fn(() => state.lock),
      quit: vi.fn(),
      on: vi.fn((event: string, listener: Listener) => appListeners.set(event, [...(appListeners.get(event) ?? []), listener])),
      whenReady: () => ready,
      paths: new Map<string, string>([['appData', '/home/user/.config']]),
      getPath: (name: string) => state.app.paths.get(name) ?? `/unexpected/${name}`,
      setPath: vi.fn((name: string, value: string) => state.app.paths.set(name, value)),
      setName: vi.fn(),
      isPackaged: true,
      setAppUserModelId: vi.fn(),
    },
    registerSchemesAsPrivileged: vi.fn(),
    fromPartition: vi.fn((_name: string) => uiSession),
    ipcHandle: vi.fn(),
  };
});

vi.mock('electron', () => ({
  app: state.app,
  protocol: { registerSchemesAsPrivileged: state.registerSchemesAsPrivileged },
  session: { fromPartition: state.fromPartition },
  ipcMain: { handle: state.ipcHandle, removeHandler: vi.fn() },
  dialog: { showErrorBox: vi.fn(), showMessageBox: vi.fn() },
  shell: { openExternal: vi.fn() },
  safeStorage: { isEncryptionAvailable: () => false },
  Notification: class {},
  BrowserWindow: class {
    loadURL = vi.fn(async () => {});
    once = vi.fn();
    isDestroyed = () => false;
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      state.windows.push(this);
    }
  },
}));
vi.mock('../core/core', () => ({ startCore: state.startCore }));

const { DESKTOP_LISTEN, resolveAppPaths, runDesktopApp } = await import('./app');

describe('app lifecycle', () => {
  it('app - paths of the build output are found beside the bundled main', () => {
    const paths = resolveAppPaths('/opt/parley/out/main');
    expect(paths.rendererDir).toBe(path.join('/opt/parley/out/renderer'));
    expect(paths.preloadPath).toBe(path.join('/opt/parley/out/preload/index.cjs'));
  });

  it('app - a second instance quits at once and starts nothing', () => {
    state.lock = false;
    runDesktopApp(resolveAppPaths('/opt/parley/out/main'));
    expect(state.app.quit).toHaveBeenCalledTimes(1);
    expect(state.appListeners.size).toBe(0);
    // The lock lives in userData, so userData is fixed first.
    expect(state.app.setPath).toHaveBeenCalledWith('userData', path.join('/home/user/.config/Parley'));
    expect(state.app.setPath.mock.invocationCallOrder[0]!).toBeLessThan(
      state.app.requestSingleInstanceLock.mock.invocationCallOrder[0]!,
    );
    state.lock = true;
    state.app.quit.mockClear();
    state.registerSchemesAsPrivileged.mockClear();
  });

  it('app - before ready: scheme registered, sandbox forced, guards on every WebContents; after: core, IPC, window', async () => {
    runDesktopApp(resolveAppPaths('/opt/parley/out/main'));
    expect(state.registerSchemesAsPrivileged).toHaveBeenCalledTimes(1);
    expect(state.app.enableSandbox).toHaveBeenCalled();
    expect(state.appListeners.has('web-contents-created')).toBe(true);
    expect(state.startCore).not.toHaveBeenCalled();

    state.resolveReady();
    await state.ready;
    await new Promise((resolve) => setImmediate(resolve));

    // The UI runs in an in-memory partition, served from app:// with the permission policy.
    expect(state.fromPartition).toHaveBeenCalledWith(expect.not.stringMatching(/^persist:/));
    expect(state.uiSession.protocol.handle).toHaveBeenCalledWith('app', expect.any(Function));
    expect(state.uiSession.setPermissionRequestHandler).toHaveBeenCalled();
    expect(state.uiSession.setPermissionCheckHandler).toHaveBeenCalled();

    const options = state.startCore.mock.calls[0]![0];
    expect(options).toMatchObject({ lan: true, listen: [...DESKTOP_LISTEN] });
    expect(options.dataDir).toBe(path.join('/home/user/.config/Parley/data'));
    expect(options.keychain).toBeDefined();

    expect(state.ipcHandle).toHaveBeenCalledTimes(1);
    expect(state.ipcHandle.mock.calls[0]![0]).toBe('parley:invoke');

    expect(state.windows).toHaveLength(1);
    const window = state.windows[0]!;
    expect(window.options.webPreferences.preload).toBe(path.join('/opt/parley/out/preload/index.cjs'));
    expect(window.options.webPreferences.session).toBe(state.uiSession);
    expect(window.options.webPreferences.devTools).toBe(false);
    expect(window.loadURL).toHaveBeenCalledWith('app://parley/index.html');
    expect(state.core.events.subscribe).toHaveBeenCalled();
  });

  it('app - quitting waits for the core to stop, then quits for real', async () => {
    let finishStop: () => void = () => {};
    state.core.stop.mockImplementationOnce(() => new Promise<void>((resolve) => (finishStop = resolve)));
    const beforeQuit = state.appListeners.get('before-quit')![0]!;
    const event = { preventDefault: vi.fn() };
    beforeQuit(event);
    expect(event.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(state.core.stop).toHaveBeenCalledTimes(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.app.quit).not.toHaveBeenCalled();
    finishStop();
    await vi.waitFor(() => expect(state.app.quit).toHaveBeenCalledTimes(1));
    // The second before-quit (from that quit) goes through.
    const again = { preventDefault: vi.fn() };
    beforeQuit(again);
    expect(again.preventDefault).not.toHaveBeenCalled();
    expect(state.core.stop).toHaveBeenCalledTimes(1);
  });
});
