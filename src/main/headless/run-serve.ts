/**
 * The headless peer's life: parse the command line, start the core, unlock it if a passphrase
 * was given, start the UI server, print its URL, and stop both on SIGINT/SIGTERM (server first,
 * so no UI request reaches a stopping core). `startCore` comes in as a parameter so this runs
 * in tests with a fake core; serve.ts passes the real one.
 *
 * Output contract: stdout carries exactly one line, the URL (tests and scripts read it; it
 * appears only once the peer is ready, unlocked if a passphrase was given). Everything else,
 * diagnostics and usage errors, goes to stderr.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dispatchCommand } from '../core/dispatch';
import type { Core, CoreOptions, Logger } from '../core/types';
import { parseServeArgs, readStartupPassphrase, SERVE_USAGE, UsageError } from './serve-args';
import { startHeadlessServer } from './server';

export interface ServeDeps {
  readonly startCore: (options: CoreOptions) => Promise<Core>;
  readonly env?: NodeJS.ProcessEnv;
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  /** Resolves when the peer should stop; by default on the first SIGINT or SIGTERM. */
  readonly stopRequested?: Promise<void>;
  /** The built renderer; by default out/renderer in the repository. */
  readonly staticDir?: string;
}

/** Exit status: 0 after a clean stop, 1 if the peer could not start, 2 on a usage error. */
export async function runServe(argv: readonly string[], deps: ServeDeps): Promise<number> {
  const stdout = deps.stdout ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const stderr = deps.stderr ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let options;
  let passphrase: string | undefined;
  try {
    const command = parseServeArgs(argv);
    if (command.kind === 'help') {
      stdout(SERVE_USAGE);
      return 0;
    }
    options = command;
    passphrase = await readStartupPassphrase(options, deps.env ?? process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr(`parley: ${error.message}\n\n${SERVE_USAGE}`);
    return 2;
  }

  // Listen for the stop signal from here on, so Ctrl-C during a slow start (Argon2id unlock)
  // still stops cleanly once the start has finished.
  const stopRequested = deps.stopRequested ?? signalled();
  const staticDir = deps.staticDir ?? path.join(repositoryRoot(), 'out', 'renderer');
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    stderr(
      `parley: the browser UI is not built (${staticDir} has no index.html). ` +
        'Build it with `npx electron-vite build` and restart; the WebSocket API runs meanwhile.',
    );
  }

  const log = stderrLogger(stderr);
  let core: Core;
  try {
    core = await deps.startCore({ dataDir: path.resolve(options.dataDir), listen: options.listen, lan: options.lan, log });
  } catch (error) {
    stderr(`parley: could not start the peer: ${describe(error)}`);
    return 1;
  }

  try {
    if (passphrase !== undefined) await unlock(core, passphrase, stderr);
    const server = await startHeadlessServer({ core, staticDir, port: options.port, log });
    stdout(server.url);
    await stopRequested;
    await server.close();
  } catch (error) {
    stderr(`parley: ${describe(error)}`);
    await core.stop().catch(() => {});
    return 1;
  }
  await core.stop();
  return 0;
}

/** Unlocks a locked identity through the same validated path the UI uses. */
async function unlock(core: Core, passphrase: string, stderr: (line: string) => void): Promise<void> {
  const status = await dispatchCommand(core.api, 'identity.status', {});
  if (!status.ok) throw new Error(`could not read the identity: ${status.error.message}`);
  const state = (status.value as { state: string }).state;
  if (state === 'none') {
    stderr('parley: no identity yet, so the passphrase was not used; create one in the browser');
    return;
  }
  if (state !== 'locked') return;
  const result = await dispatchCommand(core.api, 'identity.unlock', { passphrase });
  if (!result.ok) throw new Error(`could not unlock: ${result.error.message}`);
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (): void => {
      // A second signal while stopping means "now": leave without waiting for the core.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

/** The folder holding package.json above this module (src/main/headless, or a bundle's out/). */
function repositoryRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** Diagnostic lines on stderr. Fields are codes and counts by the Logger contract. */
function stderrLogger(write: (line: string) => void): Logger {
  const line = (level: string, message: string, fields?: Record<string, string | number | boolean>): void => {
    const extra = fields === undefined ? '' : Object.entries(fields).map(([k, v]) => ` ${k}=${String(v)}`).join('');
    write(`parley ${level}: ${message}${extra}`);
  };
  return {
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    error: (message, fields) => line('error', message, fields),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
