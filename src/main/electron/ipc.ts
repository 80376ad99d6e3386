/**
 * The Electron transport of the API contract: ONE `ipcMain.handle` channel for every command
 * (generated from the contract by `dispatchCommand`, never hand-listed), and one channel for
 * events. Every request is checked for its sender — our window's top frame showing `app://parley`
 * — before its arguments are validated and it reaches the core (ARCHITECTURE.md §8).
 */
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent, WebContents, WebFrameMain } from 'electron';
import { err, type CoreApi, type EventName, type EventPayload, type Result } from '../../shared';
import { dispatchCommand, type InternalErrorReporter } from '../core/dispatch';
import type { EventBus } from '../core/events';
import { EVENT_CHANNEL, INVOKE_CHANNEL, isAppUrl } from './constants';

type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;
type MainFrameOf = Pick<WebContents, 'mainFrame'>;
type WindowLike = Pick<BrowserWindow, 'isDestroyed'> & { readonly webContents: MainFrameOf };

function sameFrame(a: WebFrameMain, b: WebFrameMain): boolean {
  return a === b || (a.processId === b.processId && a.frameToken === b.frameToken);
}

/**
 * True only when the message comes from the main window's own WebContents, from its top frame
 * (not an iframe), from a frame still attached, whose document is our UI on `app://parley`.
 */
export function isTrustedSender(event: SenderEvent, window: WindowLike | undefined): boolean {
  if (!window || window.isDestroyed()) return false;
  const contents = window.webContents;
  if (event.sender !== contents) return false;
  const frame = event.senderFrame;
  if (!frame || frame.detached || frame.parent !== null) return false;
  if (!sameFrame(frame, contents.mainFrame)) return false;
  return isAppUrl(frame.url);
}

export interface IpcDependencies {
  /** The core's API; may still be starting, so requests wait for it. */
  readonly core: Promise<CoreApi>;
  readonly getWindow: () => WindowLike | undefined;
  readonly reportInternal?: InternalErrorReporter;
  /** Called when a sender is refused (for the log: no arguments, no content). */
  readonly onRefused?: () => void;
}

export type InvokeHandler = (event: SenderEvent, command: unknown, args: unknown) => Promise<Result<unknown>>;

export function createInvokeHandler(deps: IpcDependencies): InvokeHandler {
  return async (event, command, args) => {
    if (!isTrustedSender(event, deps.getWindow())) {
      deps.onRefused?.();
      return err('UNAUTHORIZED', 'request refused');
    }
    let core: CoreApi;
    try {
      core = await deps.core;
    } catch {
      return err('INTERNAL', 'Parley could not start; see the log');
    }
    return dispatchCommand(core, command, args, deps.reportInternal);
  };
}

/** Registers the invoke channel; returns the function that removes it. */
export function registerInvokeHandler(ipc: Pick<IpcMain, 'handle' | 'removeHandler'>, deps: IpcDependencies): () => void {
  const handler = createInvokeHandler(deps);
  ipc.handle(INVOKE_CHANNEL, (event, command: unknown, args: unknown) => handler(event, command, args));
  return () => ipc.removeHandler(INVOKE_CHANNEL);
}

type EventTarget = Pick<BrowserWindow, 'isDestroyed'> & {
  readonly webContents: Pick<WebContents, 'send' | 'getURL' | 'isDestroyed'>;
};

/**
 * Forwards every core event to the window on the event channel, only while it shows our UI
 * (a window that somehow left `app://` gets nothing). Returns the unsubscribe function.
 */
export function forwardEvents(events: Pick<EventBus, 'subscribe'>, getWindow: () => EventTarget | undefined): () => void {
  return events.subscribe(<E extends EventName>(event: E, payload: EventPayload<E>) => {
    const window = getWindow();
    if (!window || window.isDestroyed() || window.webContents.isDestroyed()) return;
    if (!isAppUrl(window.webContents.getURL())) return;
    window.webContents.send(EVENT_CHANNEL, event, payload);
  });
}
