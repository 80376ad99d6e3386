/**
 * The main window. `buildWindowOptions` is pure so every flag of ARCHITECTURE.md §8 is pinned by
 * a unit test; `createMainWindow` only wires it to Electron.
 */
import { BrowserWindow, type BrowserWindowConstructorOptions, type Session } from 'electron';
import { APP_ENTRY_URL } from './constants';

export interface WindowSettings {
  /** Absolute path of the bundled (CommonJS) preload script. */
  readonly preloadPath: string;
  /** The in-memory session the UI runs in (see UI_PARTITION). */
  readonly session?: Session;
  /** DevTools in development builds only. */
  readonly devTools: boolean;
}

export function buildWindowOptions(settings: WindowSettings): BrowserWindowConstructorOptions {
  return {
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 480,
    title: 'Parley',
    // Shown on 'ready-to-show', so the user never sees an empty white frame.
    show: false,
    webPreferences: {
      preload: settings.preloadPath,
      ...(settings.session ? { session: settings.session } : {}),
      // The renderer is untrusted (ARCHITECTURE.md §1, §8).
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      // Dropping a file on the window must not navigate to it.
      navigateOnDragDrop: false,
      // Chromium's spellchecker downloads dictionaries from Google on Linux and Windows: the UI
      // makes no network requests of its own.
      spellcheck: false,
      // A page cannot trap the user in a loop of alert() dialogs.
      safeDialogs: true,
      devTools: settings.devTools,
    },
  };
}

/** Creates the window, shows it once painted, and loads the UI from `app://`. */
export function createMainWindow(settings: WindowSettings): BrowserWindow {
  const window = new BrowserWindow(buildWindowOptions(settings));
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_ENTRY_URL);
  return window;
}
