import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseRelayArgs, parseSize, UsageError } from './relay-args';
import { runRelay } from './run-relay';

const BASE = ['--data', 'd', '--listen', '/ip4/0.0.0.0/tcp/4001'];

describe('relay - arguments', () => {
  it('parses every flag into relay and mailbox limits', () => {
    const command = parseRelayArgs([
      ...BASE,
      '--listen',
      '/ip4/0.0.0.0/tcp/4002/ws',
      '--announce',
      '/dns4/relay.example.org/tcp/4001',
      '--bootstrap',
      '/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWA',
      '--dht-private-addresses',
      '--max-connections', '2000',
      '--max-reservations', '300',
      '--reservation-ttl', '30m',
      '--circuit-duration', '5m',
      '--circuit-data', '1MiB',
      '--mailbox-ttl', '7d',
      '--max-envelope', '32KiB',
      '--mailbox-max-envelopes', '500',
      '--mailbox-max-bytes', '8MiB',
      '--depositor-max-envelopes', '50',
      '--depositor-max-bytes', '4M',
      '--store-max-envelopes', '10000',
      '--store-max-bytes', '2GiB',
      '--deposit-burst', '20',
      '--deposit-rate', '0.5',
    ]);
    expect(command).toEqual({
      kind: 'relay',
      dataDir: 'd',
      listen: ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws'],
      announce: ['/dns4/relay.example.org/tcp/4001'],
      bootstrap: ['/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWA'],
      dhtKeepPrivateAddresses: true,
      maxConnections: 2000,
      relay: { maxReservations: 300, reservationTtlMs: 1_800_000, connectionDurationLimitMs: 300_000, connectionDataLimitBytes: 1 << 20 },
      mailbox: {
        ttlMs: 7 * 86_400_000,
        maxEnvelopeBytes: 32 * 1024,
        mailboxMaxEnvelopes: 500,
        mailboxMaxBytes: 8 << 20,
        depositorMaxEnvelopes: 50,
        depositorMaxBytes: 4 << 20,
        relayMaxEnvelopes: 10_000,
        relayMaxBytes: 2 * 1024 ** 3,
        depositRateLimit: { capacity: 20, refillPerSecond: 0.5 },
      },
    });
    expect(parseRelayArgs(BASE)).toMatchObject({ relay: {}, mailbox: {}, announce: [], bootstrap: [], dhtKeepPrivateAddresses: false });
    expect(parseRelayArgs(['--help'])).toEqual({ kind: 'help' });
  });

  it('reads durations and sizes with units', () => {
    expect([parseDuration('x', '90'), parseDuration('x', '500ms'), parseDuration('x', '2h'), parseDuration('x', '14d')]).toEqual([
      90_000, 500, 7_200_000, 1_209_600_000,
    ]);
    expect([parseSize('x', '65536'), parseSize('x', '64KiB'), parseSize('x', '16mib'), parseSize('x', '1G')]).toEqual([65536, 65536, 16 << 20, 1 << 30]);
    for (const bad of ['', '-1', '1.5h', '2w', '0']) expect(() => parseDuration('x', bad)).toThrow(UsageError);
    for (const bad of ['', '1.5MiB', '10 MiB', '3TB', '0']) expect(() => parseSize('x', bad)).toThrow(UsageError);
  });

  it.each([
    [['--listen', '/ip4/0.0.0.0/tcp/1'], /--data DIR is required/],
    [['--data', 'd'], /--listen MULTIADDR is required/],
    [[...BASE, '--bogus'], /Unknown option '--bogus'/],
    [[...BASE, 'extra'], /Unexpected argument 'extra'/],
    [[...BASE, '--listen', 'tcp:4001'], /--listen expects a multiaddr/],
    [[...BASE, '--bootstrap', '/ip4/192.0.2.1/tcp/4001'], /--bootstrap expects an address ending in \/p2p/],
    [[...BASE, '--max-reservations', '0'], /--max-reservations expects a positive whole number/],
    [[...BASE, '--deposit-rate', 'fast'], /--deposit-rate expects a positive number/],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseRelayArgs(argv)).toThrow(UsageError);
    expect(() => parseRelayArgs(argv)).toThrow(message);
  });

  it('prints the usage on stderr and exits 2 for an unknown flag, before touching the data folder', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runRelay(['--data', '/nonexistent/never-created', '--listen', '/ip4/127.0.0.1/tcp/0', '--frobnicate'], {
      stdout: (l) => stdout.push(l),
      stderr: (l) => stderr.push(l),
    });
    expect(code).toBe(2);
    expect(stdout).toEqual([]);
    expect(stderr.join('\n')).toMatch(/Unknown option '--frobnicate'[\s\S]*usage: npm run relay/);
  });

  it('exits 1 with a plain message when a limit makes no sense, before touching the data folder', async () => {
    const stderr: string[] = [];
    const dir = path.join(os.tmpdir(), `parley-relay-args-${process.pid}`);
    // Loopback only, should the check ever move after the node's start (unit tests run outside a namespace).
    const code = await runRelay(['--listen', '/ip4/127.0.0.1/tcp/0', '--data', dir, '--max-envelope', '1MiB'], {
      stdout: () => undefined,
      stderr: (l) => stderr.push(l),
      stopRequested: Promise.resolve(),
    });
    expect(code).toBe(1);
    expect(stderr.join('\n')).toMatch(/maxEnvelopeBytes must be at most 65536/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
