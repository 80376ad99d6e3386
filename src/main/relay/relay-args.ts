/**
 * Command line of the relay node (`npm run relay -- …`). Unknown flags, stray arguments and
 * bad values are usage errors (exit 2) with a plain message; nothing is guessed. Durations take
 * a unit (ms, s, m, h, d; seconds if none), sizes a binary unit (B, KiB, MiB, GiB; bytes if none).
 */
import { parseArgs } from 'node:util';
import type { RelayServerLimits } from '../net';
import { MAILBOX_DEPOSIT_RATE_LIMIT, type MailboxLimits } from '../net/protocols/mailbox';

export const RELAY_USAGE = `usage: npm run relay -- --data DIR --listen MULTIADDR... [options]

  --data DIR                     the relay's folder: its key (PeerId) and mailbox database
  --listen MULTIADDR             listen address, repeatable, e.g. /ip4/0.0.0.0/tcp/4001
  --announce MULTIADDR           address to publish instead, repeatable (a public IP or DNS name)
  --bootstrap MULTIADDR          another relay to join the DHT through (…/p2p/<id>), repeatable
  --dht-private-addresses        keep private/loopback addresses in DHT records (LAN or test networks)

 circuit relay (connections relayed between peers that cannot dial each other):
  --max-connections N            open connections in all (default 1024)
  --max-reservations N           peers holding a reservation at once (default 128)
  --reservation-ttl DURATION     reservation lifetime; clients refresh (default 1h)
  --circuit-duration DURATION    longest a relayed connection stays open (default 2m)
  --circuit-data SIZE            most bytes a relayed connection carries (default 128KiB)

 mailboxes (sealed envelopes for offline recipients):
  --mailbox-ttl DURATION         how long an envelope waits for its recipient (default 14d)
  --max-envelope SIZE            largest envelope accepted, at most 64KiB (default 64KiB)
  --mailbox-max-envelopes N      envelopes per mailbox (default 1000)
  --mailbox-max-bytes SIZE       bytes per mailbox (default 16MiB)
  --depositor-max-envelopes N    envelopes stored from one sender PeerId (default 2000)
  --depositor-max-bytes SIZE     bytes stored from one sender PeerId (default 32MiB)
  --store-max-envelopes N        envelopes in all (default 200000)
  --store-max-bytes SIZE         bytes in all (default 1GiB)
  --deposit-burst N              deposits one sender may make at once (default 100)
  --deposit-rate N               deposits per second one sender may sustain (default 10)

  --help                         show this text

Prints its addresses on stdout, one per line, each ending in /p2p/<PeerId>; logs counts and
sizes (never envelope bytes or mailbox ids) on stderr. Stops cleanly on SIGINT or SIGTERM.`;

export interface RelayConfig {
  readonly dataDir: string;
  readonly listen: readonly string[];
  readonly announce: readonly string[];
  readonly bootstrap: readonly string[];
  readonly dhtKeepPrivateAddresses: boolean;
  readonly maxConnections?: number;
  readonly relay: RelayServerLimits;
  readonly mailbox: Partial<MailboxLimits>;
}

export type RelayCommand = { readonly kind: 'help' } | ({ readonly kind: 'relay' } & RelayConfig);

/** A command-line mistake; its message is meant for the operator, followed by the usage text. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const STRING_OPTIONS = [
  'data',
  'max-connections',
  'max-reservations',
  'reservation-ttl',
  'circuit-duration',
  'circuit-data',
  'mailbox-ttl',
  'max-envelope',
  'mailbox-max-envelopes',
  'mailbox-max-bytes',
  'depositor-max-envelopes',
  'depositor-max-bytes',
  'store-max-envelopes',
  'store-max-bytes',
  'deposit-burst',
  'deposit-rate',
] as const;

export function parseRelayArgs(argv: readonly string[]): RelayCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(STRING_OPTIONS.map((name) => [name, { type: 'string' as const }])),
        listen: { type: 'string', multiple: true },
        announce: { type: 'string', multiple: true },
        bootstrap: { type: 'string', multiple: true },
        'dht-private-addresses': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // Node's messages name the offending flag ("Unknown option '--foo'"); keep them.
    throw new UsageError(error instanceof Error ? error.message : 'invalid arguments');
  }
  if (values.help === true) return { kind: 'help' };
  const text = (name: (typeof STRING_OPTIONS)[number]): string | undefined => (values as Record<string, unknown>)[name] as string | undefined;

  const dataDir = text('data');
  if (dataDir === undefined || dataDir === '') throw new UsageError('--data DIR is required');
  const listen = (values.listen as string[] | undefined) ?? [];
  if (listen.length === 0) throw new UsageError('--listen MULTIADDR is required, e.g. --listen /ip4/0.0.0.0/tcp/4001');
  const announce = (values.announce as string[] | undefined) ?? [];
  const bootstrap = (values.bootstrap as string[] | undefined) ?? [];
  for (const [flag, list] of [['--listen', listen], ['--announce', announce], ['--bootstrap', bootstrap]] as const) {
    for (const address of list) {
      if (!address.startsWith('/')) throw new UsageError(`${flag} expects a multiaddr such as /ip4/0.0.0.0/tcp/4001, not '${address}'`);
    }
  }
  for (const address of bootstrap) {
    if (!address.includes('/p2p/')) throw new UsageError(`--bootstrap expects an address ending in /p2p/<PeerId>, not '${address}'`);
  }

  const count = (name: (typeof STRING_OPTIONS)[number]): number | undefined => optional(text(name), (v) => parseCount(name, v));
  const duration = (name: (typeof STRING_OPTIONS)[number]): number | undefined => optional(text(name), (v) => parseDuration(name, v));
  const size = (name: (typeof STRING_OPTIONS)[number]): number | undefined => optional(text(name), (v) => parseSize(name, v));

  const depositBurst = count('deposit-burst');
  const depositRate = optional(text('deposit-rate'), (v) => parseRate('deposit-rate', v));
  const mailbox: Partial<MailboxLimits> = definedOnly({
    ttlMs: duration('mailbox-ttl'),
    maxEnvelopeBytes: size('max-envelope'),
    mailboxMaxEnvelopes: count('mailbox-max-envelopes'),
    mailboxMaxBytes: size('mailbox-max-bytes'),
    depositorMaxEnvelopes: count('depositor-max-envelopes'),
    depositorMaxBytes: size('depositor-max-bytes'),
    relayMaxEnvelopes: count('store-max-envelopes'),
    relayMaxBytes: size('store-max-bytes'),
    depositRateLimit:
      depositBurst === undefined && depositRate === undefined
        ? undefined
        : {
              capacity: depositBurst ?? MAILBOX_DEPOSIT_RATE_LIMIT.capacity,
              refillPerSecond: depositRate ?? MAILBOX_DEPOSIT_RATE_LIMIT.refillPerSecond,
            },
  });
  const relay: RelayServerLimits = definedOnly({
    maxReservations: count('max-reservations'),
    reservationTtlMs: duration('reservation-ttl'),
    connectionDurationLimitMs: duration('circuit-duration'),
    connectionDataLimitBytes: size('circuit-data'),
  });
  const maxConnections = count('max-connections');
  return {
    kind: 'relay',
    dataDir,
    listen,
    announce,
    bootstrap,
    dhtKeepPrivateAddresses: values['dht-private-addresses'] === true,
    ...(maxConnections === undefined ? {} : { maxConnections }),
    relay,
    mailbox,
  };
}

function optional<T>(value: string | undefined, parse: (value: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

function parseCount(name: string, value: string): number {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new UsageError(`--${name} expects a positive whole number, not '${value}'`);
  return Number(value);
}

function parseRate(name: string, value: string): number {
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(value) || !(Number(value) > 0)) {
    throw new UsageError(`--${name} expects a positive number per second, not '${value}'`);
  }
  return Number(value);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90`, `90s`, `10m`, `2h`, `14d`, `500ms` → milliseconds. */
export function parseDuration(name: string, value: string): number {
  const match = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(value);
  const ms = match === null ? NaN : Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] as number);
  if (!Number.isSafeInteger(ms) || ms < 1) throw new UsageError(`--${name} expects a duration such as 30s, 10m, 2h or 14d, not '${value}'`);
  return ms;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** `65536`, `64KiB`, `16MiB`, `1GiB` (binary units, case-insensitive) → bytes. */
export function parseSize(name: string, value: string): number {
  const match = /^(\d{1,15})([a-z]*)$/i.exec(value);
  const unit = match === null ? undefined : SIZE_UNITS[(match[2] ?? '').toLowerCase()];
  const bytes = match === null || unit === undefined ? NaN : Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new UsageError(`--${name} expects a size such as 65536, 64KiB or 16MiB, not '${value}'`);
  return bytes;
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
