/**
 * Builds `window.parley` from the contract: one function per name in COMMAND_NAMES, all sent on
 * the single invoke channel, plus `onEvent`. The renderer gets functions only — never
 * `ipcRenderer`, never an IPC event object (its `sender` is `ipcRenderer` itself).
 */
import { COMMAND_NAMES, err, isEventName, type ClientApi, type CommandName, type EventName, type Result } from '../shared';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from './channels';
import type { BridgeEvent, BridgeEventListener, ParleyBridge } from './types';

/** The part of `ipcRenderer` the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export function createBridge(ipc: IpcRendererLike): ParleyBridge {
  const send = async (command: CommandName, args: unknown): Promise<Result<unknown>> => {
    try {
      return (await ipc.invoke(INVOKE_CHANNEL, command, args)) as Result<unknown>;
    } catch {
      // The arguments could not be cloned (a function, a DOM node) or the main process is gone.
      return err('INVALID_ARGUMENT', 'the request could not be sent');
    }
  };

  const api: Record<string, (args: unknown) => Promise<Result<unknown>>> = {};
  for (const command of COMMAND_NAMES) api[command] = (args) => send(command, args);

  // One IPC listener for the whole page; renderer listeners are kept here.
  const listeners = new Set<BridgeEventListener>();
  ipc.on(EVENT_CHANNEL, (_event, name, payload) => {
    if (!isEventName(name)) return;
    for (const listener of listeners) {
      try {
        listener(...([name as EventName, payload] as BridgeEvent));
      } catch {
        // One failing listener must not stop the others.
      }
    }
  });

  return {
    api: api as ClientApi,
    invoke: ((command: CommandName, args: unknown) => send(command, args)) as ParleyBridge['invoke'],
    onEvent(listener) {
      if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
