import { beforeEach, describe, expect, it, vi } from 'vitest';

const created: Array<{ options: unknown; loadURL: ReturnType<typeof vi.fn> }> = [];
vi.mock('electron', () => ({
  BrowserWindow: class {
    loadURL = vi.fn(async () => {});
    once = vi.fn();
    show = vi.fn();
    constructor(readonly options: unknown) {
      created.push(this);
    }
  },
}));

const { buildWindowOptions, createMainWindow } = await import('./window');

describe('window', () => {
  beforeEach(() => {
    created.length = 0;
  });

  it('window - every §8 flag is set: isolated, sandboxed, no Node, no webview, web security on', () => {
    const prefs = buildWindowOptions({ preloadPath: '/app/out/preload/index.cjs', devTools: false }).webPreferences!;
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    // webSecurity stays at its default (true); it is never turned off.
    expect(prefs.webSecurity).not.toBe(false);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.enableBlinkFeatures).toBeUndefined();
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs.preload).toBe('/app/out/preload/index.cjs');
  });

  it('window - no spellchecker (it downloads dictionaries) and DevTools only when asked', () => {
    expect(buildWindowOptions({ preloadPath: '/p', devTools: false }).webPreferences?.spellcheck).toBe(false);
    expect(buildWindowOptions({ preloadPath: '/p', devTools: false }).webPreferences?.devTools).toBe(false);
    expect(buildWindowOptions({ preloadPath: '/p', devTools: true }).webPreferences?.devTools).toBe(true);
  });

  it('window - the window is hidden until painted and loads the UI from app://, never file://', () => {
    expect(buildWindowOptions({ preloadPath: '/p', devTools: false }).show).toBe(false);
    createMainWindow({ preloadPath: '/p', devTools: false });
    expect(created).toHaveLength(1);
    expect(created[0]!.loadURL).toHaveBeenCalledWith('app://parley/index.html');
  });
});
