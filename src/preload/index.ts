/**
 * The preload (bundled as CommonJS to out/preload/index.cjs, so the window can be sandboxed):
 * exposes `window.parley` — see ./types.ts for its shape — and nothing else.
 *
 * @example
 * ```ts
 * const result = await window.parley.api['identity.status']({});
 * ```
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './bridge';

contextBridge.exposeInMainWorld('parley', createBridge(ipcRenderer));
