/**
 * `npm run serve -- --relay MULTIADDR` (repeatable): the relays the headless peer uses, given at
 * start. They are checked here as the API checks `settings.update({ relays })` (its schema, then
 * the core's full parse), so a bad value stops the start with one line naming it; they are
 * applied through that same command as soon as the identity is unlocked or created (a locked
 * store cannot take them earlier), replacing the list saved in the settings.
 *
 * @example
 * ```ts
 * const { argv, relays } = takeRelayFlags(['--data', 'd', '--relay', '/ip4/198.51.100.7/tcp/4001/p2p/12D3KooW…']);
 * await runServe(argv, { startCore: withStartupRelays(startCore, relays) });
 * ```
 */
import { ApiFailure, parseCommandArgs, type CoreApi } from '../../shared';
import { checkRelays } from '../core/network/relay-config';
import type { Core, CoreOptions } from '../core/types';

const FLAG = '--relay';

/** A bad `--relay`: its message is one line for the user. */
export class RelayFlagError extends Error {
  override readonly name = 'RelayFlagError';
}

/**
 * Takes every `--relay VALUE` and `--relay=VALUE` out of the command line, checked; the rest is
 * returned for the other flags' parser. Throws RelayFlagError for a missing or bad value.
 */
export function takeRelayFlags(argv: readonly string[]): { argv: string[]; relays: string[] } {
  const rest: string[] = [];
  const given: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === FLAG) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new RelayFlagError(`${FLAG} needs a relay address, such as /ip4/198.51.100.7/tcp/4001/p2p/12D3KooW…`);
      given.push(value);
      i++;
    } else if (arg.startsWith(`${FLAG}=`)) {
      given.push(arg.slice(FLAG.length + 1));
    } else {
      rest.push(arg);
    }
  }
  return { argv: rest, relays: checkRelayFlags(given) };
}

/**
 * The API's checks on a relay list: each value against the contract's schema, then the core's
 * parse of the whole list (a real multiaddr, ending in the relay's PeerId, not a circuit, no
 * relay twice, at most MAX_RELAYS). Whether one is this device itself is known only once
 * unlocked (see withStartupRelays).
 */
export function checkRelayFlags(values: readonly string[]): string[] {
  for (const value of values) {
    const parsed = parseCommandArgs('settings.update', { relays: [value] });
    if (!parsed.ok) throw new RelayFlagError(`${FLAG} '${printable(value)}' is not a relay address: ${parsed.error.message.replace(/^relays\.\d+: /, '')}`);
  }
  if (values.length === 0) return [];
  try {
    // No PeerId is ours yet: '' matches no relay, so only the unlocked core refuses our own.
    return checkRelays(values, '');
  } catch (error) {
    if (!(error instanceof ApiFailure)) throw error;
    const position = /^relays\.(\d+): (.*)$/.exec(error.message);
    const value = position ? values[Number(position[1])] : undefined;
    throw new RelayFlagError(value === undefined ? `${FLAG}: ${error.message}` : `${FLAG} '${printable(value)}': ${position?.[2] ?? error.message}`);
  }
}

/**
 * A `startCore` whose core takes `relays` (checked by takeRelayFlags) as soon as a peer runs:
 * right after `identity.unlock` or `identity.create` succeeds, through `settings.update`. If the
 * core refuses them then (one is this very device), that command fails with the core's reason,
 * prefixed with the flag's name; the identity is unlocked all the same.
 */
export function withStartupRelays(startCore: (options: CoreOptions) => Promise<Core>, relays: readonly string[]): (options: CoreOptions) => Promise<Core> {
  if (relays.length === 0) return startCore;
  return async (options) => {
    const core = await startCore(options);
    const apply = async (): Promise<void> => {
      try {
        await core.api['settings.update']({ relays: [...relays] });
      } catch (error) {
        if (error instanceof ApiFailure) throw new ApiFailure(error.code, `${FLAG}: ${error.message}`);
        throw error;
      }
    };
    const api: CoreApi = {
      ...core.api,
      'identity.unlock': async (args) => {
        const profile = await core.api['identity.unlock'](args);
        await apply();
        return profile;
      },
      'identity.create': async (args) => {
        const profile = await core.api['identity.create'](args);
        await apply();
        return profile;
      },
    };
    return { api, events: core.events, stop: () => core.stop() };
  };
}

/** A value as the user typed it, made safe for one terminal line (no control characters), bounded. */
function printable(value: string): string {
  // eslint-disable-next-line no-control-regex -- a terminal line must not carry escapes or newlines
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 120 ? `${clean.slice(0, 120)}…` : clean;
}
