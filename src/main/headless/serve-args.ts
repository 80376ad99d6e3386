/**
 * Command line of the headless peer (`npm run serve -- …`). Unknown flags, stray arguments and
 * bad values are usage errors with a plain message; nothing is guessed.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

/** Where the peer listens for other peers unless told otherwise: every interface, any port. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0'] as const;

export const SERVE_USAGE = `usage: npm run serve -- --data DIR [--port N] [--listen MULTIADDR]... [--relay MULTIADDR]... [--no-lan] [--passphrase-file FILE]

  --data DIR              the peer's data folder (created if missing)
  --port N                port of the browser UI on 127.0.0.1 (default: a free one)
  --listen MULTIADDR      libp2p listen address, repeatable (default: ${DEFAULT_LISTEN.join(' ')})
  --relay MULTIADDR       a relay (…/p2p/<relay id>) to reach contacts beyond the LAN and
                          keep mail in, repeatable; replaces the saved relays once unlocked
  --no-lan                no mDNS discovery on the local network
  --passphrase-file FILE  unlock the identity at start with the passphrase in FILE
                          (or set PARLEY_PASSPHRASE); otherwise unlock in the browser
  --help                  show this text

Prints one line: the URL to open in a browser on this machine.`;

export interface ServeOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly listen: readonly string[];
  readonly lan: boolean;
  readonly passphraseFile?: string;
}

export type ServeCommand = { readonly kind: 'help' } | ({ readonly kind: 'serve' } & ServeOptions);

/** A command-line mistake; its message is meant for the user, followed by the usage text. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseServeArgs(argv: readonly string[]): ServeCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string' },
        port: { type: 'string' },
        listen: { type: 'string', multiple: true },
        'no-lan': { type: 'boolean' },
        'passphrase-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // Node's messages name the offending flag ("Unknown option '--foo'"); keep them.
    throw new UsageError(error instanceof Error ? error.message : 'invalid arguments');
  }
  const { values } = parsed;
  if (values.help === true) return { kind: 'help' };
  if (values.data === undefined || values.data === '') throw new UsageError('--data DIR is required');
  const port = values.port === undefined ? 0 : parsePort(values.port);
  const listen = values.listen ?? [...DEFAULT_LISTEN];
  for (const address of listen) {
    if (!address.startsWith('/')) throw new UsageError(`--listen expects a multiaddr such as /ip4/127.0.0.1/tcp/0, not '${address}'`);
  }
  return {
    kind: 'serve',
    dataDir: values.data,
    port,
    listen,
    lan: values['no-lan'] !== true,
    ...(values['passphrase-file'] === undefined ? {} : { passphraseFile: values['passphrase-file'] }),
  };
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) throw new UsageError(`--port expects a number from 0 to 65535, not '${text}'`);
  return Number(text);
}

/**
 * The passphrase to unlock with at start, if one was given: `--passphrase-file` or
 * `PARLEY_PASSPHRASE`, never both (which one would win is a guess). The variable is removed
 * from the environment once read so no child process inherits it. One trailing newline of the
 * file is dropped (editors add it); everything else is the passphrase.
 */
export async function readStartupPassphrase(
  options: Pick<ServeOptions, 'passphraseFile'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const fromEnv = env.PARLEY_PASSPHRASE;
  delete env.PARLEY_PASSPHRASE;
  if (options.passphraseFile !== undefined && fromEnv !== undefined) {
    throw new UsageError('give the passphrase with --passphrase-file or PARLEY_PASSPHRASE, not both');
  }
  if (options.passphraseFile !== undefined) {
    let text: string;
    try {
      text = await readFile(options.passphraseFile, 'utf8');
    } catch {
      throw new UsageError(`cannot read the passphrase file '${options.passphraseFile}'`);
    }
    const passphrase = text.replace(/\r?\n$/, '');
    if (passphrase === '') throw new UsageError('the passphrase file is empty');
    return passphrase;
  }
  if (fromEnv === undefined) return undefined;
  if (fromEnv === '') throw new UsageError('PARLEY_PASSPHRASE is set but empty');
  return fromEnv;
}
