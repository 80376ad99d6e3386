/**
 * Electron entry (bundled to out/main/index.js by electron-vite): composition root only. All
 * the shell's logic lives in ./electron; the core never imports electron (ARCHITECTURE.md §1).
 *
 * @example
 * ```sh
 * npx electron-vite build && npx electron out/main/index.js
 * ```
 */
// First: libp2p needs Promise.withResolvers. Electron 45's Node 24 has it, so this is a no-op
// there; it keeps the entry safe on any runtime that lacks it (ARCHITECTURE.md §10).
import './polyfills';
import { resolveAppPaths, runDesktopApp } from './electron/app';

runDesktopApp(resolveAppPaths(import.meta.dirname));
