// ESLint rule `parley/layers`: enforces the dependency direction of ARCHITECTURE.md §2.
//
//   renderer → shared ← preload,  main → shared,  main → crypto,  crypto → libsodium only
//
// Each source file belongs to the layer named by its folder under src/. A relative import is
// resolved against the importing file and must land in the same layer or in one the layer may
// use; a bare package import is checked against the layer's package rules (the crypto library
// may import only libsodium, the renderer nothing that runs on Node).
//
// `electron` is imported only by the desktop shell (src/main/electron/) and the preload; the
// rest of main (the core, net, store, headless) never sees it, not even through a relative
// import of src/main/electron/ — only the Electron entry, src/main/index.ts, may do that.
import path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Folders whose files may import 'electron'. */
const ELECTRON_FOLDERS = [path.join(SRC, 'main', 'electron'), path.join(SRC, 'preload')];
/** The desktop shell, and the one file outside it that may import it. */
const SHELL_FOLDER = path.join(SRC, 'main', 'electron');
const ELECTRON_ENTRY = path.join(SRC, 'main', 'index.ts');

function isInside(file, folder) {
  const rel = path.relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Which layers each layer may import from (its own is always allowed). */
const ALLOWED_LAYERS = {
  crypto: [],
  shared: [],
  main: ['shared', 'crypto'],
  preload: ['shared'],
  renderer: ['shared'],
};

/** Bare packages: `only` is an allow-list, `deny` a block-list (prefix match). */
const PACKAGE_RULES = {
  crypto: { only: ['libsodium-wrappers-sumo'] },
  shared: { deny: ['node:', 'electron', 'libp2p', '@libp2p/', 'libsql', 'libsodium'] },
  renderer: { deny: ['node:', 'electron', 'libp2p', '@libp2p/', 'libsql', 'libsodium'] },
  // A sandboxed preload can require only 'electron' (everything else is bundled in).
  preload: { deny: ['node:', 'libp2p', '@libp2p/', 'libsql', 'libsodium', 'ws'] },
  main: { deny: [] },
};

function layerOf(file) {
  const rel = path.relative(SRC, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const top = rel.split(path.sep)[0];
  return top in ALLOWED_LAYERS ? top : undefined;
}

function matches(spec, prefix) {
  return spec === prefix || spec.startsWith(prefix.endsWith(':') || prefix.endsWith('/') ? prefix : `${prefix}/`);
}

function checkPackage(layer, spec, file) {
  if (matches(spec, 'electron') && !ELECTRON_FOLDERS.some((folder) => isInside(file, folder))) {
    return `only src/main/electron/ and src/preload/ may import 'electron'`;
  }
  const rules = PACKAGE_RULES[layer];
  if (rules.only) return rules.only.some((p) => matches(spec, p)) ? undefined : `the ${layer} layer may import only ${rules.only.join(', ')}`;
  const hit = rules.deny.find((p) => matches(spec, p));
  return hit ? `the ${layer} layer must not import '${hit}'` : undefined;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the layer dependency rules of ARCHITECTURE.md §2' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const layer = layerOf(file);
    // Tests may reach across layers to wire real parts together.
    if (!layer || /\.test(-util)?\.ts$/.test(file)) return {};
    function check(node) {
      const spec = node.source?.value;
      if (typeof spec !== 'string') return;
      let problem;
      if (spec.startsWith('.')) {
        const resolved = path.resolve(path.dirname(file), spec);
        const target = layerOf(resolved);
        // The renderer may name the bridge's types (src/preload/types.ts); type imports vanish at build.
        const typeOnly = node.importKind === 'type' || node.exportKind === 'type';
        if (layer === 'renderer' && target === 'preload' && typeOnly) return;
        if (target !== layer && !ALLOWED_LAYERS[layer].includes(target)) {
          problem = `the ${layer} layer must not import from ${target ?? 'outside src/'}`;
        } else if (
          (isInside(resolved, SHELL_FOLDER) || resolved === SHELL_FOLDER) &&
          !isInside(file, SHELL_FOLDER) &&
          file !== ELECTRON_ENTRY
        ) {
          problem = 'only the Electron entry (src/main/index.ts) may import src/main/electron/';
        }
      } else {
        problem = checkPackage(layer, spec, file);
      }
      if (problem) context.report({ node: node.source, message: `${problem} (ARCHITECTURE.md §2)` });
    }
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};
