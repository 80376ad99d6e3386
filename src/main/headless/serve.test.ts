import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiFailure } from '../../shared';
import type { Core, CoreOptions } from '../core/types';
import { ApiClient, fakeCore } from './headless.test-util';
import { runServe } from './run-serve';
import { DEFAULT_LISTEN, parseServeArgs, readStartupPassphrase, UsageError } from './serve-args';

const PROFILE = { displayName: 'Ada', peerId: `12D3KooW${'a'.repeat(44)}`, fingerprint: 'ab', inviteLink: 'parley://invite/x' };

describe('serve - arguments', () => {
  it('parses every flag', () => {
    expect(parseServeArgs(['--data', 'd', '--port', '8080', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--no-lan', '--passphrase-file', 'p'])).toEqual({
      kind: 'serve',
      dataDir: 'd',
      port: 8080,
      listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
      lan: false,
      passphraseFile: 'p',
    });
    expect(parseServeArgs(['--data=d'])).toEqual({ kind: 'serve', dataDir: 'd', port: 0, listen: [...DEFAULT_LISTEN], lan: true });
    expect(parseServeArgs(['--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--data', 'd', '--passphrase', 'hunter2'], /Unknown option '--passphrase'/],
    [['--data', 'd', '--bogus'], /Unknown option '--bogus'/],
    [['--data', 'd', 'extra'], /Unexpected argument 'extra'/],
    [[], /--data DIR is required/],
    [['--data'], /--data/],
    [['--data', 'd', '--port', '65536'], /--port expects a number from 0 to 65535/],
    [['--data', 'd', '--port', '-1'], /--port/],
    [['--data', 'd', '--port', '80x'], /--port expects/],
    [['--data', 'd', '--listen', 'tcp:0'], /--listen expects a multiaddr/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseServeArgs(argv)).toThrow(UsageError);
    expect(() => parseServeArgs(argv)).toThrow(message);
  });
});

describe('serve - startup passphrase', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads PARLEY_PASSPHRASE and removes it from the environment', async () => {
    const env: NodeJS.ProcessEnv = { PARLEY_PASSPHRASE: 'correct horse' };
    expect(await readStartupPassphrase({}, env)).toBe('correct horse');
    expect(env).toEqual({});
    expect(await readStartupPassphrase({}, {})).toBeUndefined();
  });

  it('reads a passphrase file, dropping one trailing newline only', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'parley-serve-'));
    const file = path.join(dir, 'pass');
    writeFileSync(file, ' two words \n\n');
    expect(await readStartupPassphrase({ passphraseFile: file }, {})).toBe(' two words \n');
    await expect(readStartupPassphrase({ passphraseFile: path.join(dir, 'missing') }, {})).rejects.toThrow(/cannot read the passphrase file/);
    await expect(readStartupPassphrase({ passphraseFile: file }, { PARLEY_PASSPHRASE: 'x' })).rejects.toThrow(/not both/);
  });
});

interface Harness {
  stdout: string[];
  stderr: string[];
  stop: () => void;
  started: CoreOptions[];
  order: string[];
  exit: Promise<number>;
}

function run(argv: string[], core: Partial<Core> & Pick<Core, 'api' | 'events'>, env: NodeJS.ProcessEnv = {}, startError?: Error): Harness {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const started: CoreOptions[] = [];
  const order: string[] = [];
  let stop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (stop = resolve));
  const exit = runServe(argv, {
    startCore: async (options) => {
      started.push(options);
      if (startError) throw startError;
      return {
        api: core.api,
        events: core.events,
        stop: async () => {
          // The UI server must already be closed when the core stops.
          const port = Number(/:(\d+)\//.exec(stdout[0] ?? '')?.[1] ?? 0);
          const refused = port === 0 || (await new Promise((resolve) => net.connect(port, '127.0.0.1').once('connect', () => resolve(false)).once('error', () => resolve(true))));
          order.push(refused ? 'core.stop after server closed' : 'core.stop with server open');
        },
      };
    },
    env,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    stopRequested,
    staticDir: path.join(os.tmpdir(), 'parley-no-such-ui'),
  });
  return { stdout, stderr, stop, started, order, exit };
}

async function waitForUrl(h: Harness): Promise<string> {
  while (h.stdout.length === 0) {
    const done = await Promise.race([h.exit.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 5))]);
    if (done && h.stdout.length === 0) throw new Error(`serve exited: ${h.stderr.join('\n')}`);
  }
  return h.stdout[0] as string;
}

describe('serve - running the peer', () => {
  it('starts the core, prints exactly the URL, and stops server then core', async () => {
    const fake = fakeCore({ 'identity.status': async () => ({ state: 'locked', keychainAvailable: false }) });
    const h = run(['--data', 'some/dir', '--no-lan', '--listen', '/ip4/127.0.0.1/tcp/0'], fake.core);
    const url = await waitForUrl(h);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    expect(h.started).toEqual([{ dataDir: path.resolve('some/dir'), listen: ['/ip4/127.0.0.1/tcp/0'], lan: false, log: expect.anything() }]);
    expect(h.stderr.join('\n')).toMatch(/browser UI is not built.*npx electron-vite build/);

    const port = Number(/:(\d+)\//.exec(url)?.[1]);
    const token = url.split('#token=')[1] as string;
    const client = await ApiClient.connect({ port, token });
    expect((await client.request('identity.status')).result.ok).toBe(true);

    h.stop();
    expect(await h.exit).toBe(0);
    expect(h.stdout).toHaveLength(1);
    expect(h.order).toEqual(['core.stop after server closed']);
    expect(fake.calls.map((c) => c.command)).toEqual(['identity.status']);
  });

  it('unlocks with PARLEY_PASSPHRASE before printing the URL', async () => {
    const fake = fakeCore({
      'identity.status': async () => ({ state: 'locked', keychainAvailable: false }),
      'identity.unlock': async () => PROFILE,
    });
    const h = run(['--data', 'd'], fake.core, { PARLEY_PASSPHRASE: 'correct horse' });
    await waitForUrl(h);
    expect(fake.calls).toEqual([
      { command: 'identity.status', args: {} },
      { command: 'identity.unlock', args: { passphrase: 'correct horse' } },
    ]);
    h.stop();
    expect(await h.exit).toBe(0);
  });

  it('exits 1 without a URL on a wrong passphrase, and stops the core', async () => {
    const fake = fakeCore({
      'identity.status': async () => ({ state: 'locked', keychainAvailable: false }),
      'identity.unlock': async () => {
        throw new ApiFailure('WRONG_PASSPHRASE', 'wrong passphrase');
      },
    });
    const h = run(['--data', 'd'], fake.core, { PARLEY_PASSPHRASE: 'nope' });
    expect(await h.exit).toBe(1);
    expect(h.stdout).toEqual([]);
    expect(h.stderr.join('\n')).toContain('could not unlock: wrong passphrase');
    expect(h.stderr.join('\n')).not.toContain('nope');
    expect(h.order).toEqual(['core.stop after server closed']);
  });

  it('exits 2 on a usage error without starting the core', async () => {
    const h = run(['--data', 'd', '--verbose'], fakeCore().core);
    expect(await h.exit).toBe(2);
    expect(h.started).toEqual([]);
    expect(h.stdout).toEqual([]);
    expect(h.stderr.join('\n')).toMatch(/Unknown option '--verbose'[\s\S]*usage: npm run serve/);
  });

  it('exits 1 with the reason when the core cannot start', async () => {
    const h = run(['--data', 'd'], fakeCore().core, {}, new Error('the data folder is in use by another Parley'));
    expect(await h.exit).toBe(1);
    expect(h.stdout).toEqual([]);
    expect(h.stderr.join('\n')).toContain('could not start the peer: the data folder is in use by another Parley');
  });
});
