/**
 * Creating, opening, locking and re-keying a store with the real passphrase wrapper (Argon2id
 * at MODERATE: ~0.5–1 s per derivation, so the number of create/open calls is kept small and
 * one store serves the whole lifecycle).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE, KEY_FILE, LOCK_FILE } from './constants';
import { isStoreError, type StoreErrorCode } from './errors';
import { readKeyFile } from './keyfile';
import { changePassphrase, createStore, openStore, rewrapKeyFile, type Store } from './store';
import { fastTestWrapper, makeTempDir, randomKey, removeTempDir, snapshotFolder } from './store.test-util';

const PASSPHRASE = 'correct horse battery staple';
const NEW_PASSPHRASE = 'tr0ub4dor & 3, but longer';

async function expectStoreError(promise: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isStoreError(error, code), `expected StoreError ${code}, got ${String(error)}`).toBe(true);
}

describe('store lifecycle with a passphrase', () => {
  let root: string;
  let dir: string;

  beforeAll(async () => {
    root = makeTempDir();
    dir = path.join(root, 'data', 'nested');
    // Created (with its parents) by createStore; written to once so reopening has data to keep.
    const store = await createStore(dir, PASSPHRASE);
    store.identity.create({ keyPair: Uint8Array.of(1, 9, 9), publicKey: randomKey(), displayName: 'Me' });
    store.close();
  });

  afterAll(() => removeTempDir(root));

  it('store - creates an owner-only folder with the database, key file and lock file', () => {
    const names = fs.readdirSync(dir).sort();
    expect(names).toEqual(expect.arrayContaining([DB_FILE, KEY_FILE, LOCK_FILE]));
    if (process.platform !== 'win32') {
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      for (const name of names) expect(fs.statSync(path.join(dir, name)).mode & 0o777, name).toBe(0o600);
    }
    expect(readKeyFile(path.join(dir, KEY_FILE))?.kind).toBe('passphrase');
    expect(names.some((n) => n.includes('.tmp-'))).toBe(false);
  });

  it('store - a wrong passphrase is WRONG_PASSPHRASE and changes nothing on disk', async () => {
    const before = snapshotFolder(dir);
    await expectStoreError(openStore(dir, 'not the passphrase'), 'WRONG_PASSPHRASE');
    expect(snapshotFolder(dir)).toEqual(before);
  });

  it('store - another unlock method is WRONG_UNLOCK_METHOD and changes nothing on disk', async () => {
    const before = snapshotFolder(dir);
    await expectStoreError(openStore(dir, fastTestWrapper()), 'WRONG_UNLOCK_METHOD');
    expect(snapshotFolder(dir)).toEqual(before);
  });

  it('store - opens with the passphrase and keeps the data; a second open is IN_USE; close makes it LOCKED', async () => {
    const store = await openStore(dir, PASSPHRASE);
    try {
      expect(store.identity.get()?.displayName).toBe('Me');
      expect(store.identity.get()?.keyPair.expose()).toEqual(Uint8Array.of(1, 9, 9));
      // A second store on the same folder would reuse ratchet keys. The lock is taken after the
      // unwrap (so a wrong passphrase touches nothing), hence the right passphrase here.
      await expectStoreError(openStore(dir, PASSPHRASE), 'IN_USE');
    } finally {
      store.close();
    }
    expect(store.isOpen).toBe(false);
    expect(() => store.identity.get()).toThrow(expect.objectContaining({ code: 'LOCKED' }));
    store.close(); // idempotent
  });

  it('store - changePassphrase: a wrong old passphrase changes nothing; then only the new one opens', async () => {
    const before = snapshotFolder(dir);
    await expectStoreError(changePassphrase(dir, 'wrong old', NEW_PASSPHRASE), 'WRONG_PASSPHRASE');
    expect(snapshotFolder(dir)).toEqual(before);

    const dbBefore = fs.readFileSync(path.join(dir, DB_FILE));
    await changePassphrase(dir, PASSPHRASE, NEW_PASSPHRASE);
    // The database key does not change, so the database file is not rewritten.
    expect(fs.readFileSync(path.join(dir, DB_FILE)).equals(dbBefore)).toBe(true);
    expect(fs.readFileSync(path.join(dir, KEY_FILE)).toString('hex')).not.toBe(before[KEY_FILE]?.hex);
    expect(fs.readdirSync(dir).some((n) => n.includes('.tmp-'))).toBe(false);

    await expectStoreError(openStore(dir, PASSPHRASE), 'WRONG_PASSPHRASE');
    const store = await openStore(dir, NEW_PASSPHRASE);
    expect(store.identity.get()?.displayName).toBe('Me');
    store.close();
  });

  it('store - the unlock method can move from passphrase to a keychain-like wrapper and back', async () => {
    await rewrapKeyFile(dir, NEW_PASSPHRASE, fastTestWrapper());
    const store = await openStore(dir, fastTestWrapper());
    expect(store.identity.get()?.displayName).toBe('Me');
    // changePassphrase on an open store: the key file only.
    await store.changePassphrase(fastTestWrapper(), PASSPHRASE);
    store.close();
    expect(readKeyFile(path.join(dir, KEY_FILE))?.kind).toBe('passphrase');
  });

  it('store - createStore refuses a folder that holds a database', async () => {
    const before = snapshotFolder(dir);
    await expectStoreError(createStore(dir, fastTestWrapper()), 'ALREADY_EXISTS');
    expect(snapshotFolder(dir)).toEqual(before);
  });
});

describe('store folders in odd states (fast wrapper)', () => {
  let root: string;
  beforeAll(() => {
    root = makeTempDir();
  });
  afterAll(() => removeTempDir(root));

  it('store - opening a folder without a database is NO_STORE and creates nothing', async () => {
    const dir = path.join(root, 'empty');
    await expectStoreError(openStore(dir, fastTestWrapper()), 'NO_STORE');
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('store - a key file without a database (interrupted create) is replaced by createStore', async () => {
    const dir = path.join(root, 'interrupted');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, KEY_FILE), 'left over by a crash');
    const store = await createStore(dir, fastTestWrapper());
    store.close();
    const reopened = await openStore(dir, fastTestWrapper());
    reopened.close();
  });

  it('store - a database without its key file is CORRUPT; a garbage key file is CORRUPT', async () => {
    const dir = path.join(root, 'keyless');
    (await createStore(dir, fastTestWrapper())).close();
    const keyFile = fs.readFileSync(path.join(dir, KEY_FILE));
    fs.rmSync(path.join(dir, KEY_FILE));
    await expectStoreError(openStore(dir, fastTestWrapper()), 'CORRUPT');
    fs.writeFileSync(path.join(dir, KEY_FILE), Buffer.from('not a key file at all'));
    await expectStoreError(openStore(dir, fastTestWrapper()), 'CORRUPT');
    fs.writeFileSync(path.join(dir, KEY_FILE), keyFile);
    (await openStore(dir, fastTestWrapper())).close();
  });

  it('store - a key file of another store opens nothing: CORRUPT, not garbage data', async () => {
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    (await createStore(a, fastTestWrapper())).close();
    (await createStore(b, fastTestWrapper())).close();
    fs.copyFileSync(path.join(a, KEY_FILE), path.join(b, KEY_FILE));
    await expectStoreError(openStore(b, fastTestWrapper()), 'CORRUPT');
  });

  it('store - a keychain wrapper that cannot unwrap is KEY_UNAVAILABLE', async () => {
    const dir = path.join(root, 'keychain');
    (await createStore(dir, fastTestWrapper())).close();
    const broken = { ...fastTestWrapper(), unwrap: () => fastTestWrapper().unwrap(new Uint8Array(3)) };
    await expectStoreError(openStore(dir, broken), 'KEY_UNAVAILABLE');
  });

  it('store - tightens a folder and files left group- or world-readable', async () => {
    if (process.platform === 'win32') return;
    const dir = path.join(root, 'loose');
    (await createStore(dir, fastTestWrapper())).close();
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, DB_FILE), 0o644);
    (await openStore(dir, fastTestWrapper())).close();
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, DB_FILE)).mode & 0o777).toBe(0o600);
  });

  it('store - closing releases the folder: the same process can open it again at once', async () => {
    const dir = path.join(root, 'reopen');
    let store: Store = await createStore(dir, fastTestWrapper());
    for (let i = 0; i < 3; i++) {
      store.settings.set('round', String(i));
      store.close();
      store = await openStore(dir, fastTestWrapper());
      expect(store.settings.get('round')).toBe(String(i));
    }
    store.close();
  });
});
