// `npm start`: builds the app, then launches the desktop app if an Electron binary is installed;
// otherwise says so in one sentence and starts the headless peer (ARCHITECTURE.md §1, §10),
// whose one line of output is the URL to open in a browser on this machine.
//
//   npm start [-- --data DIR ...]    extra arguments go to the headless peer
//
// The Electron binary is looked up the way node_modules/electron/index.js does, but without
// calling it: since Electron 42, `require('electron')` starts a download when the binary is
// missing, and nothing may be downloaded here.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const MAIN_ENTRY = path.join(ROOT, 'out', 'main', 'index.js');
const SERVE_ENTRY = path.join(ROOT, 'src', 'main', 'headless', 'serve.ts');
/** Must match the desktop app's folder (src/main/electron/app.ts: appData/Parley/data). */
const APP_FOLDER = 'Parley';

/** The Electron executable, or undefined when none is installed. Never downloads. */
export function findElectronBinary(env = process.env) {
  let moduleDir;
  try {
    moduleDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
  const pathFile = path.join(moduleDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const candidate = env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron')
    : relative
      ? path.join(moduleDir, 'dist', relative)
      : undefined;
  return candidate && existsSync(candidate) ? candidate : undefined;
}

/** The desktop app's data folder, so the headless peer opens the same identity. */
export function defaultDataDir(env = process.env, platform = process.platform) {
  const home = os.homedir();
  const appData =
    platform === 'win32'
      ? env.APPDATA || path.join(home, 'AppData', 'Roaming')
      : platform === 'darwin'
        ? path.join(home, 'Library', 'Application Support')
        : env.XDG_CONFIG_HOME || path.join(home, '.config');
  return path.join(appData, APP_FOLDER, 'data');
}

function run(command, args) {
  const { status } = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  return status ?? 1;
}

/** Runs a long-lived child with our stdio, passes Ctrl-C/SIGTERM on, and exits with its status. */
function handOver(command, args) {
  const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function build() {
  const status = run(path.join(BIN, 'electron-vite'), ['build']);
  if (status !== 0) {
    console.error('parley: the build failed (see above), so nothing was started.');
    process.exit(status);
  }
}

function main() {
  const args = process.argv.slice(2);
  const electron = findElectronBinary();
  if (electron) {
    build();
    handOver(electron, [MAIN_ENTRY, ...args]);
    return;
  }

  console.error(
    'The Parley desktop app cannot start here because no Electron binary is installed, ' +
      'so the headless peer is starting instead: open the URL it prints in a browser on this machine.',
  );
  // The headless peer serves out/renderer, which the same build produces.
  build();
  if (!existsSync(SERVE_ENTRY)) {
    console.error(`parley: the headless peer (${path.relative(ROOT, SERVE_ENTRY)}) is not in this checkout.`);
    process.exit(1);
  }
  const serveArgs = args.some((arg) => arg === '--data' || arg.startsWith('--data=') || arg === '--help' || arg === '-h')
    ? args
    : ['--data', defaultDataDir(), ...args];
  // `npm run serve` is the headless peer's public entry; run its file directly if the script is not there.
  const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts ?? {};
  if (scripts.serve) handOver(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'serve', '--', ...serveArgs]);
  else handOver(path.join(BIN, 'tsx'), [SERVE_ENTRY, ...serveArgs]);
}

if (path.resolve(process.argv[1] ?? '') === path.resolve(import.meta.filename)) main();
