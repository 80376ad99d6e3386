/**
 * The headless peer's UI transport: the built renderer over HTTP and the API contract over
 * one token-checked WebSocket, on 127.0.0.1 only. The handshake is documented in server.ts.
 * The `npm run serve` entry is serve.ts (not exported: it starts a process).
 *
 * @example
 * ```ts
 * import { startHeadlessServer } from './headless';
 *
 * const server = await startHeadlessServer({ core, staticDir: 'out/renderer', log });
 * console.log(server.url); // http://127.0.0.1:PORT/#token=…
 * // …
 * await server.close();
 * await core.stop();
 * ```
 */
export { DEFAULT_LIMITS, startHeadlessServer } from './server';
export type { HeadlessLimits, HeadlessServer, HeadlessServerOptions } from './server';
export { runServe } from './run-serve';
export type { ServeDeps } from './run-serve';
export { DEFAULT_LISTEN, parseServeArgs, SERVE_USAGE, UsageError } from './serve-args';
export type { ServeCommand, ServeOptions } from './serve-args';
