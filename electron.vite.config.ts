/**
 * Build of the desktop app (`npx electron-vite build` → out/main, out/preload, out/renderer).
 *
 * - main: ESM (libp2p is ESM-only), entry src/main/index.ts, every dependency left external so
 *   native modules (libsql) load from node_modules. No `__dirname` is declared in main
 *   (ARCHITECTURE.md §10); it uses `import.meta.dirname`.
 * - preload: CommonJS with everything bundled in, because a sandboxed preload can `require`
 *   only `electron` (ARCHITECTURE.md §8). Named index.cjs so nothing reads it as ESM.
 * - renderer: the Svelte 5 app in src/renderer, built to out/renderer. Component CSS goes to
 *   files (`emitCss`), which the CSP's `style-src 'self'` requires (src/main/electron/csp.ts).
 *   The headless peer serves the same out/renderer to a browser.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

/** A svelte.config.* at the repository root, if the renderer has one (the plugin looks in src/renderer otherwise). */
const svelteConfigFile = ['js', 'mjs', 'ts', 'mts']
  .map((ext) => resolve(root, `svelte.config.${ext}`))
  .find((file) => existsSync(file));

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      externalizeDeps: true,
      lib: { entry: resolve(root, 'src/main/index.ts'), formats: ['es'] },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // Bundle zod and src/shared into the preload: the sandbox has no `require` for them.
      externalizeDeps: false,
      lib: { entry: resolve(root, 'src/preload/index.ts'), formats: ['cjs'] },
      rolldownOptions: { output: { entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rolldownOptions: { input: resolve(root, 'src/renderer/index.html') },
    },
    plugins: [svelte({ emitCss: true, ...(svelteConfigFile ? { configFile: svelteConfigFile } : {}) })],
  },
});
