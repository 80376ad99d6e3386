import { beforeAll, describe, expect, it } from 'vitest';
import { initCrypto, randomBytes } from '../../../../crypto';
import { Challenges } from './challenges';

beforeAll(() => initCrypto());

function setup(limits: Partial<{ ttlMs: number; maxPerPeer: number; maxTotal: number }> = {}) {
  let now = 1_000_000;
  const challenges = new Challenges({ ttlMs: 30_000, maxPerPeer: 4, maxTotal: 100, ...limits }, () => now);
  return { challenges, advance: (ms: number) => (now += ms) };
}

describe('mailbox challenges', () => {
  it('are single use', () => {
    const { challenges } = setup();
    const mailbox = randomBytes(32);
    const c = challenges.issue('peer-a', mailbox);
    expect(challenges.consume(c, 'peer-a', mailbox)).toBe(true);
    expect(challenges.consume(c, 'peer-a', mailbox)).toBe(false);
  });

  it('are bound to the peer and the mailbox, and another peer cannot spend them', () => {
    const { challenges } = setup();
    const mailbox = randomBytes(32);
    const c = challenges.issue('peer-a', mailbox);
    expect(challenges.consume(c, 'peer-b', mailbox)).toBe(false);
    expect(challenges.consume(c, 'peer-a', randomBytes(32))).toBe(false);
    expect(challenges.consume(c, 'peer-a', mailbox)).toBe(true);
  });

  it('expire after their lifetime', () => {
    const { challenges, advance } = setup();
    const mailbox = randomBytes(32);
    const fresh = challenges.issue('peer-a', mailbox);
    const stale = challenges.issue('peer-a', mailbox);
    advance(29_999);
    expect(challenges.consume(fresh, 'peer-a', mailbox)).toBe(true);
    advance(1);
    expect(challenges.consume(stale, 'peer-a', mailbox)).toBe(false);
    expect(challenges.size).toBe(0);
  });

  it('keep a few per peer and a bounded number in all, dropping the oldest', () => {
    const { challenges } = setup({ maxPerPeer: 2, maxTotal: 3 });
    const mailbox = randomBytes(32);
    const [a1, a2, a3] = [1, 2, 3].map(() => challenges.issue('peer-a', mailbox));
    expect(challenges.consume(a1!, 'peer-a', mailbox)).toBe(false);
    const b1 = challenges.issue('peer-b', mailbox);
    const c1 = challenges.issue('peer-c', mailbox); // over the total: a2 goes
    expect(challenges.size).toBe(3);
    expect(challenges.consume(a2!, 'peer-a', mailbox)).toBe(false);
    for (const [c, peer] of [[a3, 'peer-a'], [b1, 'peer-b'], [c1, 'peer-c']] as const) expect(challenges.consume(c!, peer, mailbox)).toBe(true);
  });
});
