import { describe, expect, it } from 'vitest';
import { ApiFailure, MAX_RELAYS } from '../../shared';
import type { Core, CoreOptions } from '../core/types';
import { fakeCore } from './headless.test-util';
import { RelayFlagError, takeRelayFlags, withStartupRelays } from './serve-relays';

const ID_A = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
const ID_B = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';
const RELAY_A = `/ip4/198.51.100.7/tcp/4001/p2p/${ID_A}`;
const RELAY_B = `/dns4/relay.example.org/tcp/443/wss/p2p/${ID_B}`;
const OPTIONS: CoreOptions = { dataDir: 'd', listen: [], lan: false, log: { info: () => {}, warn: () => {}, error: () => {} } };
const PROFILE = { displayName: 'Ada', peerId: `12D3KooW${'a'.repeat(44)}`, fingerprint: 'ab', inviteLink: 'parley://invite/x' };

describe('serve - --relay', () => {
  it('serve relays - takes every --relay out of the command line, in order, and leaves the rest', () => {
    expect(takeRelayFlags(['--data', 'd', '--relay', RELAY_A, '--no-lan', `--relay=${RELAY_B}`])).toEqual({
      argv: ['--data', 'd', '--no-lan'],
      relays: [RELAY_A, RELAY_B],
    });
    expect(takeRelayFlags(['--data', 'd'])).toEqual({ argv: ['--data', 'd'], relays: [] });
  });

  it.each([
    [['--relay'], /--relay needs a relay address/],
    [['--relay', '--no-lan'], /--relay needs a relay address/],
    [['--relay', 'relay.example.org:4001'], /--relay 'relay.example.org:4001' is not a relay address: expected a relay address ending in \/p2p\/<peerId>/],
    [['--relay', '/ip4/198.51.100.7/tcp/4001'], /is not a relay address/],
    [['--relay='], /is not a relay address/],
    [['--relay', `/ip4/999.1.1.1/tcp/4001/p2p/${ID_A}`], /--relay '\/ip4\/999\.1\.1\.1\/tcp\/4001\/p2p\/12D3KooW\w+': not a multiaddr/],
    [['--relay', `/ip4/198.51.100.7/tcp/4001/p2p/${ID_B}/p2p-circuit/p2p/${ID_A}`], /cannot be a circuit address/],
    [['--relay', RELAY_A, '--relay', `/ip4/203.0.113.9/tcp/4001/p2p/${ID_A}`], /the same relay twice/],
    // The value is echoed, but never a terminal escape or a second line.
    // eslint-disable-next-line no-control-regex -- asserting the absence of control characters
    [['--relay', `/ip4/198.51.100.7/tcp/4001/p2p/${ID_A}\u001b[31m\nX`], /^[^\n\u001b]*$/],
  ])('serve relays - refuses %j with one clear line', (argv, message) => {
    expect(() => takeRelayFlags(argv)).toThrow(RelayFlagError);
    expect(() => takeRelayFlags(argv)).toThrow(message);
  });

  it('serve relays - no more than MAX_RELAYS', () => {
    const argv = Array.from({ length: MAX_RELAYS + 1 }, (_, i) => ['--relay', `/ip4/198.51.100.${i}/tcp/4001/p2p/${i % 2 ? ID_A : ID_B}`]).flat();
    expect(() => takeRelayFlags(argv)).toThrow(`at most ${MAX_RELAYS} relays`);
  });

  it('serve relays - the relays are applied through settings.update right after unlock and create, not before', async () => {
    const fake = fakeCore({
      'identity.unlock': async () => PROFILE,
      'identity.create': async () => PROFILE,
      'settings.update': async () => ({}),
    });
    let stopped = false;
    const start = withStartupRelays(async () => ({ ...fake.core, stop: async () => void (stopped = true) }) as Core, [RELAY_A, RELAY_B]);
    const core = await start(OPTIONS);
    expect(fake.calls).toEqual([]);
    expect(await core.api['identity.unlock']({ passphrase: 'x' })).toEqual(PROFILE);
    expect(fake.calls).toEqual([
      { command: 'identity.unlock', args: { passphrase: 'x' } },
      { command: 'settings.update', args: { relays: [RELAY_A, RELAY_B] } },
    ]);
    await core.api['identity.create']({ displayName: 'Ada' });
    expect(fake.calls.slice(2).map((c) => c.command)).toEqual(['identity.create', 'settings.update']);
    expect(core.events).toBe(fake.events);
    await core.stop();
    expect(stopped).toBe(true);
  });

  it('serve relays - a failed unlock applies nothing; a refusal by the core names the flag', async () => {
    const fake = fakeCore({
      'identity.unlock': async () => {
        throw new ApiFailure('WRONG_PASSPHRASE', 'wrong passphrase');
      },
      'identity.create': async () => PROFILE,
      'settings.update': async () => {
        throw new ApiFailure('INVALID_ARGUMENT', 'relays.0: this device cannot be its own relay');
      },
    });
    const core = await withStartupRelays(async () => ({ ...fake.core, stop: async () => {} }) as Core, [RELAY_A])(OPTIONS);
    await expect(core.api['identity.unlock']({ passphrase: 'x' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(fake.calls.map((c) => c.command)).toEqual(['identity.unlock']);
    await expect(core.api['identity.create']({ displayName: 'Ada' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: '--relay: relays.0: this device cannot be its own relay',
    });
  });

  it('serve relays - without --relay the core is the one started', async () => {
    const fake = fakeCore();
    const core = { ...fake.core, stop: async () => {} } as Core;
    const start = async () => core;
    expect(withStartupRelays(start, [])).toBe(start);
  });
});
