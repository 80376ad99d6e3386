import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DepositQuotas } from '../net/protocols/mailbox';
import { LibsqlMailboxStore } from './mailbox-store';

const QUOTAS: DepositQuotas = {
  mailboxMaxEnvelopes: 100,
  mailboxMaxBytes: 1 << 20,
  depositorMaxEnvelopes: 100,
  depositorMaxBytes: 1 << 20,
  relayMaxEnvelopes: 1000,
  relayMaxBytes: 1 << 24,
};
const M1 = new Uint8Array(32).fill(1);
const M2 = new Uint8Array(32).fill(2);
const D1 = new Uint8Array(16).fill(7);
const D2 = new Uint8Array(16).fill(8);

let dir: string | undefined;
const open: LibsqlMailboxStore[] = [];
afterEach(() => {
  for (const store of open.splice(0)) store.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function openStore(): LibsqlMailboxStore {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'parley-mailbox-store-'));
  const store = LibsqlMailboxStore.open(path.join(dir, 'mailbox.db'));
  open.push(store);
  return store;
}

function envelope(size: number, fill = size % 251): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

function put(store: LibsqlMailboxStore, mailbox: Uint8Array, size: number, now = 1000, quotas = QUOTAS, depositor = D1, ttl = 10_000) {
  return store.deposit({ mailboxId: mailbox, envelope: envelope(size), depositor, depositedAt: now, expiresAt: now + ttl }, quotas, now);
}

describe('relay mailbox store', () => {
  it('pages by count and bytes, always with at least one envelope, and lists without envelope bytes', () => {
    const store = openStore();
    for (const size of [100, 200, 300, 400]) expect(put(store, M1, size)).toBe('ok');
    put(store, M2, 50);
    const first = store.fetch(M1, 0, 10, 350, 1000);
    expect(first.items.map((e) => e.envelope.length)).toEqual([100, 200]);
    expect(first.more).toBe(true);
    const next = store.fetch(M1, first.items.at(-1)!.id, 10, 10, 1000);
    expect(next.items.map((e) => e.envelope.length)).toEqual([300]); // larger than the budget, still one
    const last = store.fetch(M1, next.items[0]!.id, 1, 1 << 20, 1000);
    expect(last).toMatchObject({ more: false });
    expect(last.items.map((e) => e.envelope)).toEqual([envelope(400)]);
    expect(store.list(M1, 0, 3, 1000)).toMatchObject({ more: true, items: [{ size: 100, depositedAt: 1000 }, { size: 200 }, { size: 300 }] });
  });

  it('checks the relay, mailbox and depositor caps in that order, ignoring expired envelopes', () => {
    const store = openStore();
    const quotas = { ...QUOTAS, mailboxMaxEnvelopes: 2, depositorMaxBytes: 500, relayMaxEnvelopes: 4 };
    expect(put(store, M1, 100, 1000, quotas)).toBe('ok');
    expect(put(store, M1, 100, 1000, quotas)).toBe('ok');
    expect(put(store, M1, 100, 1000, quotas, D2)).toBe('mailboxFull');
    expect(put(store, M2, 301, 2000, quotas)).toBe('depositorQuota');
    expect(put(store, M2, 300, 2000, quotas)).toBe('ok');
    // The first two expire: the mailbox has room again, though the relay still counts them until swept.
    expect(put(store, M1, 100, 11_000, quotas, D2)).toBe('ok');
    expect(put(store, M1, 100, 11_000, quotas, D2)).toBe('relayFull');
    expect(store.sweep(11_000)).toBe(2);
    expect(store.stats()).toEqual({ envelopes: 2, bytes: 400 });
    expect(put(store, M1, 100, 11_000, quotas, D2)).toBe('ok');
  });

  it('deletes only the named envelopes of the named mailbox, and keeps everything across a reopen', () => {
    const store = openStore();
    for (let i = 0; i < 3; i++) put(store, M1, 100 + i);
    put(store, M2, 999);
    const ids = store.list(M1, 0, 10, 1000).items.map((e) => e.id);
    const other = store.list(M2, 0, 10, 1000).items[0]!.id;
    expect(store.delete(M1, [ids[0]!, ids[0]!, other, 12345])).toBe(1);
    store.close();
    const again = openStore();
    expect(again.stats()).toEqual({ envelopes: 3, bytes: 101 + 102 + 999 });
    expect(again.fetch(M1, 0, 10, 1 << 20, 1000).items.map((e) => e.envelope)).toEqual([envelope(101), envelope(102)]);
    expect(again.list(M1, 0, 10, 20_000).items).toEqual([]); // expired: hidden before any sweep
  });
});
