import { afterEach, describe, expect, it } from 'vitest';
import { ApiFailure } from '../../../shared';
import { makeTestStore, type TestStore } from '../../store/store.test-util';
import { RETIRED_RELAY_FETCH_MS, checkRelays, loadRelays, mailboxRelays, relayPeerIdOf, saveRelays } from './relay-config';

const R1 = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
const R2 = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';
const SELF = '12D3KooWLSBAqCBhAmr2iSZhS7Sp6u7JiPLNsgFNeWiXcwnoc7BK';
const a1 = `/ip4/198.51.100.7/tcp/4001/p2p/${R1}`;
const a2 = `/dns4/relay.example.org/tcp/4001/p2p/${R2}`;

const stores: TestStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.cleanup();
});

function refused(list: string[]): string {
  try {
    checkRelays(list, SELF);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiFailure);
    return (error as ApiFailure).message;
  }
  return 'accepted';
}

describe('relay settings', () => {
  it('relays - a list of relay multiaddrs is normalised; anything else is refused by position, never echoed', () => {
    expect(checkRelays([` ${a1} `, a2], SELF)).toEqual([a1, a2]);
    expect(relayPeerIdOf(a2)).toBe(R2);
    expect(refused(['/ip4/198.51.100.7/tcp/4001'])).toMatch(/^relays\.0: .*\/p2p/);
    expect(refused([a1, 'junk'])).toMatch(/^relays\.1:/);
    expect(refused([`${a1}/p2p-circuit`])).toMatch(/circuit/);
    expect(refused([a1, `/ip4/203.0.113.1/tcp/1/p2p/${R1}`])).toMatch(/twice/);
    expect(refused([`/ip4/127.0.0.1/tcp/1/p2p/${SELF}`])).toMatch(/own relay/);
    expect(refused(Array.from({ length: 9 }, (_, i) => `/ip4/198.51.100.${i}/tcp/1/p2p/${R1}`))).toMatch(/at most 8/);
    expect(refused(['junk'])).not.toContain('junk');
  });

  it('relays - a relay taken off the list is still fetched for RETIRED_RELAY_FETCH_MS, and not once named again', async () => {
    const t = await makeTestStore();
    stores.push(t);
    const now = 1_000_000;
    expect(loadRelays(t.store)).toEqual([]);
    saveRelays(t.store, [a1], now);
    saveRelays(t.store, [a2], now + 1);
    expect(loadRelays(t.store)).toEqual([a2]);
    expect(mailboxRelays(t.store, now + 2)).toEqual([
      { address: a2, relayPeerId: R2 },
      { address: a1, relayPeerId: R1 },
    ]);
    expect(mailboxRelays(t.store, now + 2 + RETIRED_RELAY_FETCH_MS)).toEqual([{ address: a2, relayPeerId: R2 }]);
    saveRelays(t.store, [a2, a1], now + 3);
    saveRelays(t.store, [a2, a1], now + 4);
    expect(mailboxRelays(t.store, now + 5 + RETIRED_RELAY_FETCH_MS)).toHaveLength(2);
  });
});
