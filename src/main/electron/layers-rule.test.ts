// The `electron` boundary of tools/eslint/layers.js, checked through the project's real ESLint
// configuration: only src/main/electron/ and src/preload/ may import 'electron', and only the
// Electron entry may import src/main/electron/.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const eslint = new ESLint({ cwd: ROOT });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'parley/layers').map((m) => m.message);
}

const IMPORT_ELECTRON = "import { app } from 'electron';\nexport const x = app;\n";

describe('layer rule: electron', () => {
  it('layers - src/main/electron/ and src/preload/ may import electron', async () => {
    expect(await layerErrors('src/main/electron/example.ts', IMPORT_ELECTRON)).toEqual([]);
    expect(await layerErrors('src/preload/example.ts', IMPORT_ELECTRON)).toEqual([]);
  });

  it('layers - every other layer and folder is refused electron', async () => {
    for (const file of [
      'src/main/core/example.ts',
      'src/main/net/example.ts',
      'src/main/store/example.ts',
      'src/main/headless/example.ts',
      'src/main/index.ts',
      'src/shared/example.ts',
      'src/crypto/example.ts',
      'src/renderer/lib/example.ts',
    ]) {
      const errors = await layerErrors(file, IMPORT_ELECTRON);
      expect(errors.length, file).toBeGreaterThan(0);
    }
    expect(await layerErrors('src/main/core/example.ts', "export { app } from 'electron/main';\n")).toHaveLength(1);
    expect(await layerErrors('src/main/core/example.ts', "export const m = import('electron');\n")).toHaveLength(1);
  });

  it('layers - only the Electron entry may import the shell', async () => {
    const code = "import { runDesktopApp } from '../electron/app';\nexport const x = runDesktopApp;\n";
    expect(await layerErrors('src/main/core/example.ts', code)).toHaveLength(1);
    expect(await layerErrors('src/main/headless/example.ts', code)).toHaveLength(1);
    expect(await layerErrors('src/main/index.ts', "import { runDesktopApp } from './electron/app';\nrunDesktopApp;\n")).toEqual([]);
  });

  it('layers - the sandboxed preload may not import Node modules', async () => {
    expect(await layerErrors('src/preload/example.ts', "import fs from 'node:fs';\nexport const x = fs;\n")).toHaveLength(1);
  });

  it('layers - the renderer may import the bridge types from the preload, nothing else', async () => {
    expect(await layerErrors('src/renderer/lib/api.ts', "import type { ParleyBridge } from '../../preload/types';\nexport type B = ParleyBridge;\n")).toEqual([]);
    expect(await layerErrors('src/renderer/lib/api.ts', "import { createBridge } from '../../preload/bridge';\nexport const b = createBridge;\n")).toHaveLength(1);
  });
});
