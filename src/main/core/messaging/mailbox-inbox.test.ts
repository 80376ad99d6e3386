import { describe, expect, it } from 'vitest';
import type { DeliveryStatus } from '../../net';
import type { Contact, Device } from '../../store';
import type { MailboxIntroduction } from '../contacts/introductions';
import { receiveFromMailbox, type MailboxInboxDeps } from './mailbox-inbox';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** Test envelopes: [sender code, serial]. Sender 1 = Bob (introduces himself), 2 = Carol (a request), 9 = junk. */
const BOB = 1;
const CAROL = 2;
const JUNK = 9;
const env = (sender: number, serial: number) => Uint8Array.of(sender, serial);

function party(id: number, requestState: Contact['requestState']): { device: Device; contact: Contact } {
  return {
    device: { id, contactId: id, peerId: `peer-${id}` } as Device,
    contact: { id, requestState, blocked: false } as Contact,
  };
}

/** Bob becomes a contact only once his introduction (serial 0) was taken; Carol is an unanswered request. */
function world(options: { introduceThrows?: boolean } = {}) {
  const known = new Map<number, { device: Device; contact: Contact }>([[CAROL, party(CAROL, 'incoming')]]);
  const committed: number[][] = [];
  const introduced: number[] = [];
  const deps: MailboxInboxDeps = {
    senderOf: (e) => known.get(e[0] as number),
    admits: (peerId) => peerId === 'peer-1',
    introduce: (e): MailboxIntroduction => {
      if (options.introduceThrows) throw Object.assign(new Error('busy'), { name: 'StoreError' });
      introduced.push(e[1] as number);
      if (e[0] === BOB && e[1] === 0) {
        known.set(BOB, party(BOB, 'accepted'));
        return { status: 'stored' };
      }
      return { status: 'rejected', reason: 'undecryptable' };
    },
    commit: async (_found, envelopes): Promise<DeliveryStatus[]> => {
      committed.push(envelopes.map((e) => e[1] as number));
      return envelopes.map(() => 'stored');
    },
    log: silent,
  };
  return { deps, committed, introduced };
}

describe('mailbox inbox', () => {
  it('mailbox inbox - an introduction is taken before the messages behind it in the same fetch, which then arrive in order', async () => {
    const { deps, committed, introduced } = world();
    const statuses = await receiveFromMailbox(deps, [env(BOB, 0), env(BOB, 1), env(BOB, 2), env(BOB, 3)]);
    expect(statuses).toEqual(['stored', 'stored', 'stored', 'stored']);
    expect(introduced).toEqual([0]);
    expect(committed).toEqual([[1, 2, 3]]);
  });

  it('mailbox inbox - hostile or unknown envelopes are refused one by one and the others are still served', async () => {
    const { deps, committed } = world();
    const statuses = await receiveFromMailbox(deps, [env(JUNK, 7), env(BOB, 1), env(BOB, 0), env(CAROL, 5), env(BOB, 2), env(JUNK, 8), env(BOB, 3)]);
    // Bob's message before his introduction has no sender yet: refused like any stranger's.
    // Carol's waits on the relay for the user's decision.
    expect(statuses).toEqual(['rejected', 'rejected', 'stored', 'retry', 'stored', 'rejected', 'stored']);
    expect(committed).toEqual([[2], [3]]);
  });

  it('mailbox inbox - a store failure while taking an introduction leaves it and everything after it on the relay', async () => {
    const { deps, committed } = world({ introduceThrows: true });
    const statuses = await receiveFromMailbox(deps, [env(CAROL, 1), env(BOB, 0), env(BOB, 1)]);
    expect(statuses).toEqual(['retry', 'retry', 'retry']);
    expect(committed).toEqual([]);
  });
});
