import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initCrypto, randomBytes } from '../../../crypto';
import { MailboxKey, type DeliveryStatus, type MailboxEnvelope } from '../../net';
import { MailboxFetcher, RESERVATION_FOLLOW_UP_FETCH_MS, type MailboxFetchNet } from './mailbox-fetcher';

beforeAll(async () => {
  await initCrypto();
});

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const RELAY = { address: '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo', relayPeerId: '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo' };

function envelope(id: number): MailboxEnvelope {
  return { id, depositedAt: 1, envelope: Uint8Array.of(id) };
}

function fetcher(fetched: MailboxEnvelope[], statusOf: (byte: number) => DeliveryStatus, net: Partial<MailboxFetchNet> = {}) {
  const received: number[][] = [];
  const acked: number[][] = [];
  const key = MailboxKey.fromSeed(randomBytes(32));
  const f = new MailboxFetcher({
    net: {
      fetchMailbox: async () => fetched,
      ackMailbox: async (_address, _key, ids) => {
        acked.push([...ids]);
        return ids.length;
      },
      ...net,
    },
    relays: () => [RELAY],
    keyFor: () => key,
    receive: async (envelopes) => {
      received.push(envelopes.map((e) => e[0] as number));
      return envelopes.map((e) => statusOf(e[0] as number));
    },
    log: silent,
  });
  return { f, received, acked };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('mailbox fetcher', () => {
  it('mailbox fetcher - a reservation back on a relay fetches at once and once more a little later (mail left just after), never after stop', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let rounds = 0;
    const { f } = fetcher([], () => 'stored', {
      fetchMailbox: async () => {
        rounds++;
        return [];
      },
    });
    f.reservationBack(RELAY.relayPeerId);
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toBe(1);
    // Back again meanwhile: still one follow-up, counted from the latest.
    f.reservationBack(RELAY.relayPeerId);
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toBe(2);
    await vi.advanceTimersByTimeAsync(RESERVATION_FOLLOW_UP_FETCH_MS);
    expect(rounds).toBe(3);
    await vi.advanceTimersByTimeAsync(RESERVATION_FOLLOW_UP_FETCH_MS * 10);
    expect(rounds).toBe(3);

    f.reservationBack(RELAY.relayPeerId);
    await vi.advanceTimersByTimeAsync(0);
    await f.stop();
    await vi.advanceTimersByTimeAsync(RESERVATION_FOLLOW_UP_FETCH_MS * 2);
    expect(rounds).toBe(4);
  });

  it('mailbox fetcher - receives in deposit order without repeats, then acknowledges what was stored or can never be', async () => {
    const { f, received, acked } = fetcher([envelope(3), envelope(1), envelope(2), envelope(3), envelope(4)], (b) =>
      b === 2 ? 'retry' : b === 4 ? 'rejected' : 'stored',
    );
    await f.fetch(RELAY.relayPeerId);
    expect(received).toEqual([[1, 2, 3, 4]]);
    expect(acked).toEqual([[1, 3, 4]]);
  });

  it('mailbox fetcher - acknowledges nothing when receiving failed, or the fetch did', async () => {
    const f = new MailboxFetcher({
      net: { fetchMailbox: async () => [envelope(1)], ackMailbox: async () => expect.unreachable() },
      relays: () => [RELAY],
      keyFor: () => MailboxKey.fromSeed(randomBytes(32)),
      receive: async () => {
        throw new Error('store closed');
      },
      log: silent,
    });
    await f.fetch(RELAY.relayPeerId);
    const broken = fetcher([], () => 'stored', { fetchMailbox: async () => Promise.reject(new Error('dial failed')) });
    await broken.f.fetch(RELAY.relayPeerId);
    expect(broken.received).toEqual([]);
    expect(broken.acked).toEqual([]);
  });

  it('mailbox fetcher - a fetch asked for during one runs once more right after, never twice at once', async () => {
    let inFlight = 0;
    let most = 0;
    let rounds = 0;
    const { f } = fetcher([], () => 'stored', {
      fetchMailbox: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        rounds++;
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return [];
      },
    });
    const first = f.fetch(RELAY.relayPeerId);
    void f.fetch(RELAY.relayPeerId);
    void f.fetch(RELAY.relayPeerId);
    await first;
    expect(most).toBe(1);
    expect(rounds).toBe(2);
    await f.stop();
  });
});
