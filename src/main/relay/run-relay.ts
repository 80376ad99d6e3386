/**
 * The relay process's life: parse the command line, start the relay, print its addresses,
 * wait for SIGINT/SIGTERM, stop cleanly.
 *
 * Output contract: stdout carries only the relay's addresses, one per line, each ending in
 * /p2p/<PeerId> (scripts and tests read them). Log lines and usage errors go to stderr.
 * Exit status: 0 after a clean stop, 1 if the relay could not start or stop in time, 2 on a
 * usage error.
 */
import { RELAY_STOP_TIMEOUT_MS } from './constants';
import { parseRelayArgs, RELAY_USAGE, UsageError } from './relay-args';
import { startRelay, type LogFields, type RelayDeps, type RelayLog } from './relay-node';

export interface RunRelayDeps extends Omit<RelayDeps, 'log'> {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  /** Resolves when the relay should stop; by default on the first SIGINT or SIGTERM. */
  readonly stopRequested?: Promise<void>;
}

export async function runRelay(argv: readonly string[], deps: RunRelayDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const stderr = deps.stderr ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let config;
  try {
    const command = parseRelayArgs(argv);
    if (command.kind === 'help') {
      stdout(RELAY_USAGE);
      return 0;
    }
    config = command;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr(`parley-relay: ${error.message}\n\n${RELAY_USAGE}`);
    return 2;
  }

  // Listen from here on, so a signal during a slow start still stops cleanly once started.
  const stopRequested = deps.stopRequested ?? signalled();
  const log = stderrLog(stderr);
  let relay;
  try {
    relay = await startRelay(config, { ...deps, log });
  } catch (error) {
    stderr(`parley-relay: could not start: ${describe(error)}`);
    return 1;
  }
  for (const address of relay.addresses()) stdout(address);

  await stopRequested;
  log.info('stopping');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), RELAY_STOP_TIMEOUT_MS);
    timer.unref();
  });
  try {
    const outcome = await Promise.race([relay.stop().then(() => 'stopped' as const), timedOut]);
    if (outcome === 'timeout') {
      stderr('parley-relay: did not stop in time; exiting anyway (the store recovers from its WAL)');
      return 1;
    }
  } catch (error) {
    stderr(`parley-relay: error while stopping: ${describe(error)}`);
    return 1;
  } finally {
    clearTimeout(timer);
  }
  return 0;
}

/**
 * The first SIGINT or SIGTERM. Later ones are ignored rather than taken as "exit now": under
 * `npm run`, one Ctrl-C reaches the relay several times (from the terminal, from npm, from
 * tsx), and a forced exit would skip the clean stop. The stop has its own deadline instead.
 */
function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (): void => resolve();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function stderrLog(write: (line: string) => void): RelayLog {
  const line = (level: string, message: string, fields?: LogFields): void => {
    const extra = fields === undefined ? '' : Object.entries(fields).map(([k, v]) => ` ${k}=${String(v)}`).join('');
    write(`${new Date().toISOString()} relay ${level}: ${message}${extra}`);
  };
  return {
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
  };
}

/** Start/stop errors name what failed; none of ours carries envelope bytes or ids. */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
}
