/**
 * Deferred-sync commits and group commit (Db.sync): a deferred commit is visible and counted
 * until a sync covers it; concurrent syncs share fsyncs; the connection goes back to
 * synchronous=FULL after every deferred transaction, so ordinary commits keep their guarantee.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Db } from './database';
import { addContactWithDevice, makeTempDir, makeTestStore, randomId, randomKey, removeTempDir, type TestStore } from './store.test-util';

/** SQLite's numeric value of `PRAGMA synchronous` for FULL. */
const SYNCHRONOUS_FULL = 2;

describe('store sync', () => {
  let t: TestStore;
  let conversationId: number;
  let deviceId: number;

  beforeEach(async () => {
    t = await makeTestStore();
    const { device, conversation } = addContactWithDevice(t.store);
    conversationId = conversation.id;
    deviceId = device.id;
  });

  afterEach(() => {
    t.store.close();
    removeTempDir(t.dir);
  });

  function insert(deferSync: boolean): Uint8Array {
    const messageId = randomId();
    t.store.transaction(
      () =>
        t.store.messages.insertIncoming({
          messageId,
          conversationId,
          senderDeviceId: deviceId,
          kind: 'text',
          body: 'hello',
          senderSeq: 1,
          sentAt: 1,
          receivedAt: 1,
          path: 'lan',
        }),
      { deferSync },
    );
    return messageId;
  }

  it('store - a deferred commit is visible at once and counted until sync covers it', async () => {
    expect(t.store.unsyncedCommits).toBe(0);
    const id = insert(true);
    expect(t.store.messages.has(id)).toBe(true);
    expect(t.store.unsyncedCommits).toBe(1);
    await t.store.sync();
    expect(t.store.unsyncedCommits).toBe(0);
    // Nothing pending: resolves without touching the disk.
    await t.store.sync();
    expect(t.store.unsyncedCommits).toBe(0);
  });

  it('store - ordinary commits are not counted', () => {
    insert(false);
    expect(t.store.unsyncedCommits).toBe(0);
  });

  it('store - the connection returns to synchronous=FULL after a deferred transaction, even a failed one', () => {
    const dir = makeTempDir();
    const db = Db.open(path.join(dir, 'sync.db'), randomKey());
    try {
      db.exec('CREATE TABLE t (x INTEGER)');
      db.transaction(() => db.run('INSERT INTO t VALUES (1)'), { deferSync: true });
      expect(db.pragma('synchronous')).toBe(SYNCHRONOUS_FULL);
      expect(db.unsyncedCommits).toBe(1);
      expect(() => db.transaction(() => { db.run('INSERT INTO t VALUES (2)'); throw new Error('boom'); }, { deferSync: true })).toThrow('boom');
      expect(db.pragma('synchronous')).toBe(SYNCHRONOUS_FULL);
      expect(db.unsyncedCommits).toBe(1);
      expect(db.all('SELECT x FROM t')).toEqual([{ x: 1 }]);
    } finally {
      db.close();
      removeTempDir(dir);
    }
  });

  it('store - a nested transaction commits with its outer one and is counted once', () => {
    t.store.transaction(() => {
      insert(true);
      insert(true);
    }, { deferSync: true });
    expect(t.store.unsyncedCommits).toBe(1);
  });

  it('store - concurrent syncs all resolve with every commit covered, including commits made during a sync', async () => {
    for (let i = 0; i < 10; i++) insert(true);
    const first = t.store.sync();
    // Committed while the first fsync is in flight: a later sync must cover these too.
    insert(true);
    const second = t.store.sync();
    insert(true);
    const third = t.store.sync();
    await Promise.all([first, second, third]);
    expect(t.store.unsyncedCommits).toBe(0);
  });

  it('store - close makes everything durable (checkpoint), so a later sync has nothing to do', async () => {
    insert(true);
    const pending = t.store.sync();
    t.store.close();
    await pending;
    expect(t.store.unsyncedCommits).toBe(0);
    await t.store.sync();
  });
});
