/**
 * Test helpers for the store: temporary data folders, a key wrapper without Argon2id (so
 * repository tests do not pay a second per open), and small fixtures.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SecretKey, type StorageKey } from '../../crypto/keys';
import { StoreError } from './errors';
import type { KeyWrapper } from './key-wrapper';
import { createStore, type Store, type StoreOptions } from './store';

/** A fresh folder under the OS temp dir; remove it with removeTempDir. */
export function makeTempDir(prefix = 'parley-store-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A KeyWrapper that XORs the key with a fixed pad: no KDF, so opening costs milliseconds. It
 * stands in for the keychain wrapper (kind 'keychain') and proves the wrapping is pluggable.
 * Tests only: the pad is no secret.
 */
export function fastTestWrapper(pad: Uint8Array = new Uint8Array(32).fill(0x5c)): KeyWrapper {
  const xor = (bytes: Uint8Array): Uint8Array => bytes.map((b, i) => b ^ (pad[i] as number));
  return {
    kind: 'keychain',
    wrap: async (key: StorageKey) => xor(key.expose()),
    unwrap: async (blob: Uint8Array) => {
      if (blob.length !== 32) throw new StoreError('KEY_UNAVAILABLE');
      return new SecretKey('storage', xor(blob));
    },
  };
}

/** A store in a new temporary folder, opened with the fast wrapper and a controllable clock. */
export interface TestStore {
  readonly store: Store;
  readonly dir: string;
  readonly clock: { now: number };
  cleanup(): void;
}

export async function makeTestStore(options: StoreOptions = {}): Promise<TestStore> {
  const dir = makeTempDir();
  const clock = { now: 1_700_000_000_000 };
  const store = await createStore(dir, fastTestWrapper(), { clock: () => clock.now, ...options });
  return {
    store,
    dir,
    clock,
    cleanup: () => {
      store.close();
      removeTempDir(dir);
    },
  };
}

export const randomId = (): Uint8Array => new Uint8Array(randomBytes(16));
export const randomKey = (): Uint8Array => new Uint8Array(randomBytes(32));

/** Every file in the folder (recursively) as raw bytes, by name. */
export function readAllFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath ?? entry.path, entry.name);
    out.set(path.relative(dir, full), fs.readFileSync(full));
  }
  return out;
}

/** Name, size, mtime and bytes of every file: what "nothing changed on disk" compares. */
export function snapshotFolder(dir: string): Record<string, { size: number; mtimeMs: number; hex: string }> {
  const out: Record<string, { size: number; mtimeMs: number; hex: string }> = {};
  for (const [name, bytes] of readAllFiles(dir)) {
    const stat = fs.statSync(path.join(dir, name));
    out[name] = { size: stat.size, mtimeMs: stat.mtimeMs, hex: bytes.toString('hex') };
  }
  return out;
}

/**
 * Adds a contact with one device and a conversation: the fixture most message and outbox tests
 * start from.
 */
export function addContactWithDevice(store: Store, name = 'Alice', peerId = `12D3KooW${randomBytes(8).toString('hex')}`) {
  const contact = store.contacts.add({ identityKey: randomKey(), displayName: name, requestState: 'accepted' });
  const { device } = store.devices.saveCard({ contactId: contact.id, peerId, card: Uint8Array.of(1, 2, 3), cardCreatedAt: 1 });
  const conversation = store.conversations.getOrCreate(contact.id);
  return { contact, device, conversation };
}
