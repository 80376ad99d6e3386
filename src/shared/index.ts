/**
 * The API contract shared by the core, the preload and the renderer: commands, events, their
 * schemas, and the Result type. No Node, no DOM, no I/O.
 *
 * @example
 * ```ts
 * import { parseCommandArgs, type CommandResult } from '../shared';
 * const args = parseCommandArgs('contacts.setVerified', input);
 * ```
 */
export * from './api';
export * from './result';
export * from './schemas';
export * from './wire';
