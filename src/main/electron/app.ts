/**
 * The desktop app's lifecycle: one instance; the `app://` scheme, the permission policy and the
 * navigation guards before any page loads; the core started on the user's data folder; the
 * window; and on quit, the core stopped before the process exits.
 */
import path from 'node:path';
import { app, dialog, ipcMain, session, type BrowserWindow } from 'electron';
import type { CoreApi } from '../../shared';
import { startCore } from '../core/core';
import type { Core, Logger } from '../core/types';
import { UI_PARTITION } from './constants';
import { forwardEvents, registerInvokeHandler } from './ipc';
import { createKeychainProtector } from './keychain';
import { applyPermissionPolicy, createExternalLinkOpener, guardWebContents } from './navigation';
import { startMessageNotifications } from './notifications';
import { registerAppScheme, serveAppScheme } from './protocol';
import { createMainWindow } from './window';

/** libp2p listen addresses of the desktop peer: every interface, any free port, TCP and WebSockets. */
export const DESKTOP_LISTEN = ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'] as const;

/**
 * The app's folder under the OS's per-user application data (~/.config/Parley on Linux). Set
 * explicitly so it is the same however Electron is launched (`electron .`, `electron
 * out/main/index.js`, packaged); scripts/start.mjs points the headless fallback at the same place.
 */
export const APP_FOLDER = 'Parley';

/** How long quitting waits for the core to flush and close before exiting anyway. */
export const STOP_TIMEOUT_MS = 5_000;

export interface AppPaths {
  /** The built renderer (`out/renderer`). */
  readonly rendererDir: string;
  /** The bundled preload (`out/preload/index.cjs`). */
  readonly preloadPath: string;
}

/** Paths of the build output, from the folder of the bundled main (`out/main`). */
export function resolveAppPaths(mainDir: string): AppPaths {
  return {
    rendererDir: path.join(mainDir, '..', 'renderer'),
    preloadPath: path.join(mainDir, '..', 'preload', 'index.cjs'),
  };
}

/** Diagnostics to stderr only: codes and counts, never user data, and never a file (§7). */
function consoleLogger(): Logger {
  const line = (level: string, message: string, fields?: Record<string, string | number | boolean>) =>
    `[parley] ${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`;
  return {
    info: (message, fields) => console.error(line('info', message, fields)),
    warn: (message, fields) => console.error(line('warn', message, fields)),
    error: (message, fields) => console.error(line('error', message, fields)),
  };
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

/** Runs the desktop app. Call once, from the Electron entry, before `ready`. */
export function runDesktopApp(paths: AppPaths): void {
  const log = consoleLogger();

  // Before anything reads it (the single-instance lock lives in userData).
  app.setName(APP_FOLDER);
  app.setPath('userData', path.join(app.getPath('appData'), APP_FOLDER));
  // Before `ready`: privileged schemes can only be registered then, and every renderer is
  // sandboxed whatever its options say.
  registerAppScheme();
  app.enableSandbox();

  if (!app.requestSingleInstanceLock()) {
    // Another Parley owns the data folder; it has been asked to show its window.
    app.quit();
    return;
  }

  let window: BrowserWindow | undefined;
  let corePromise: Promise<Core> | undefined;
  let stopped = false;
  const getWindow = () => (window && !window.isDestroyed() ? window : undefined);
  const focusWindow = () => {
    const current = getWindow();
    if (!current) return;
    if (current.isMinimized()) current.restore();
    current.show();
    current.focus();
  };
  const links = createExternalLinkOpener(getWindow);

  app.on('second-instance', focusWindow);
  // Every WebContents, not only ours: nothing may navigate, open windows or attach webviews.
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, links));
  // No tray yet: closing the window quits, on macOS too, so the peer never runs unseen.
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (stopped || !corePromise) return;
    // Hold the quit until the core has stopped: pending work stays queued on disk.
    event.preventDefault();
    stopped = true;
    const stopping = corePromise.then((core) => core.stop());
    void withTimeout(stopping, STOP_TIMEOUT_MS).then(() => app.quit());
  });

  app.whenReady().then(() => {
    if (process.platform === 'win32') app.setAppUserModelId('org.parley.desktop');
    const uiSession = session.fromPartition(UI_PARTITION);
    applyPermissionPolicy(uiSession);
    serveAppScheme(uiSession.protocol, paths.rendererDir);

    const starting: Promise<Core> = startCore({
      dataDir: path.join(app.getPath('userData'), 'data'),
      listen: [...DESKTOP_LISTEN],
      lan: true,
      keychain: createKeychainProtector(),
      log,
    });
    corePromise = starting;
    const api: Promise<CoreApi> = starting.then((core) => core.api);
    // A failed start is reported below; requests made meanwhile get INTERNAL (ipc.ts).
    api.catch(() => {});
    registerInvokeHandler(ipcMain, {
      core: api,
      getWindow,
      reportInternal: (command, error) =>
        log.error('command failed', { command, error: error instanceof Error ? error.name : 'unknown' }),
      onRefused: () => log.warn('ipc: refused a request from a frame that is not the UI'),
    });

    window = createMainWindow({ preloadPath: paths.preloadPath, session: uiSession, devTools: !app.isPackaged });

    starting.then(
      (core) => {
        forwardEvents(core.events, getWindow);
        startMessageNotifications({
          api: core.api,
          events: core.events,
          isWindowFocused: () => getWindow()?.isFocused() ?? false,
          focusWindow,
        });
      },
      (error: unknown) => {
        log.error('the core could not start', { error: error instanceof Error ? error.name : 'unknown' });
        stopped = true;
        dialog.showErrorBox(
          'Parley could not start',
          'Parley could not open its data folder. Another copy of Parley (or a headless peer) may be using it.',
        );
        app.quit();
      },
    );
  }).catch((error: unknown) => {
    log.error('the desktop shell could not start', { error: error instanceof Error ? error.name : 'unknown' });
    app.quit();
  });
}
