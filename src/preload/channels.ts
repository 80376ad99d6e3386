/**
 * IPC channel names, the preload's copy (it may not import from main, ARCHITECTURE.md §2).
 * `src/main/electron/ipc.test.ts` checks they equal the main process's.
 */
export const INVOKE_CHANNEL = 'parley:invoke';
export const EVENT_CHANNEL = 'parley:event';
