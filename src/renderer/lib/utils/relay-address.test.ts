import { describe, expect, it } from 'vitest';
import { MAX_RELAYS } from '../../../shared';
import { checkNewRelay, relayErrorText, relayPeerIdOf, shortRelayAddress } from './relay-address';

const ID_A = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
const ID_B = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';
const RELAY_A = `/ip4/198.51.100.7/tcp/4001/p2p/${ID_A}`;
const RELAY_B = `/dns4/relay.example.org/tcp/443/wss/p2p/${ID_B}`;

describe('relay address', () => {
  it('relay address - a well-formed relay address is accepted, trimmed', () => {
    expect(checkNewRelay(`  ${RELAY_A}\n`, [])).toEqual({ ok: true, address: RELAY_A });
    expect(checkNewRelay(RELAY_B, [RELAY_A])).toEqual({ ok: true, address: RELAY_B });
  });

  it.each([
    ['', 'Paste a relay address first.'],
    ['   ', 'Paste a relay address first.'],
    ['relay.example.org:4001', 'starts with'],
    [`ip4/198.51.100.7/tcp/4001/p2p/${ID_A}`, 'starts with'],
    ['/ip4/198.51.100.7/tcp/4001', 'must end in /p2p/'],
    ['/ip4/198.51.100.7/tcp/4001/p2p/', 'must end in /p2p/'],
    ['/ip4/198.51.100.7/tcp/4001/p2p/not-a-peer-id', 'must end in /p2p/'],
    [`/ip4/198.51.100.7/tcp/4001/p2p/${ID_A}/extra`, 'must end in /p2p/'],
    [`/ip4/198.51.100.7/tcp/4001 /p2p/${ID_A}`, 'must end in /p2p/'],
    [`/ip4/198.51.100.7/tcp/4001/${'x'.repeat(300)}/p2p/${ID_A}`, 'too long'],
    [`/ip4/198.51.100.7/tcp/4001/p2p/${ID_B}/p2p-circuit/p2p/${ID_A}`, 'through a relay'],
  ])('relay address - refuses %j', (text, reason) => {
    const result = checkNewRelay(text, []);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('relay address - a relay already on the list is refused, under any of its addresses', () => {
    const result = checkNewRelay(`/ip6/2001:db8::7/tcp/4001/p2p/${ID_A}`, [RELAY_A]);
    expect(result).toEqual({ ok: false, reason: 'That relay is already on the list.' });
  });

  it('relay address - no more than MAX_RELAYS', () => {
    const full = Array.from({ length: MAX_RELAYS }, (_, i) => `/ip4/198.51.100.${i}/tcp/4001/p2p/${ID_A}`);
    const result = checkNewRelay(RELAY_B, full);
    expect(result.ok).toBe(false);
    expect(checkNewRelay(RELAY_B, full.slice(1)).ok).toBe(true);
  });

  it('relay address - the peer id is the part after the last /p2p/', () => {
    expect(relayPeerIdOf(RELAY_A)).toBe(ID_A);
    expect(relayPeerIdOf('/ip4/198.51.100.7/tcp/4001')).toBeUndefined();
    expect(relayPeerIdOf(`/p2p/${ID_A}/tcp/1`)).toBeUndefined();
  });

  it('relay address - the short form keeps the transport and shortens the peer id', () => {
    const short = shortRelayAddress(RELAY_B);
    expect(short.startsWith('/dns4/relay.example.org/tcp/443/wss/p2p/12D3KooW')).toBe(true);
    expect(short.endsWith(ID_B.slice(-6))).toBe(true);
    expect(short.length).toBeLessThan(RELAY_B.length);
    expect(shortRelayAddress('/ip4/198.51.100.7/tcp/4001')).toBe('/ip4/198.51.100.7/tcp/4001');
  });

  it('relay address - the core’s typed refusal is shown by its rule, other errors by their code', () => {
    expect(relayErrorText({ code: 'INVALID_ARGUMENT', message: 'relays.1: the same relay twice' })).toBe('The relay was not accepted: the same relay twice.');
    expect(relayErrorText({ code: 'INVALID_ARGUMENT', message: 'relays.0: this device cannot be its own relay' })).toContain('its own relay');
    expect(relayErrorText({ code: 'INVALID_ARGUMENT', message: 'at most 8 relays' })).toBe('The relay was not accepted: at most 8 relays.');
    expect(relayErrorText({ code: 'INVALID_ARGUMENT', message: 'theme: invalid option' })).toBe('That input is not valid.');
    expect(relayErrorText({ code: 'LOCKED', message: 'relays.0: whatever' })).toContain('locked');
  });
});
