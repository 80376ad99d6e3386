/**
 * Two messengers over real encrypted stores and no network, for tests: what one side queues in
 * its outbox is handed to the other's receiveBatch, as /parley/msg or a mailbox would carry it.
 * Call `useMessengerStores()` at the top of a test file: it initialises crypto and closes and
 * removes the stores after each test.
 */
import { afterEach, beforeAll } from 'vitest';
import { initCrypto } from '../../../crypto';
import { makeTestStore, removeTempDir, type TestStore } from '../../store/store.test-util';
import type { Contact, Device, Store } from '../../store';
import { verifyCard } from '../contacts/card';
import { LocalIdentity } from '../identity/local-identity';
import { Messenger } from './messenger';

export interface Side {
  store: Store;
  local: LocalIdentity;
  messenger: Messenger;
  contact: Contact;
  device: Device;
  conversationId: number;
}

/** The stores made by `side`, in order (closed and removed after each test); a test that reopens one swaps it in here. */
export const stores: TestStore[] = [];

/** The tests' clock: every read moves it on by 1 ms; tests may jump it (`clock.now += …`). */
export const clock = { now: 1_700_000_000_000 };
export const now = (): number => clock.now++;

export function useMessengerStores(): void {
  beforeAll(async () => {
    await initCrypto();
  });
  afterEach(() => {
    for (const s of stores.splice(0)) {
      s.store.close();
      removeTempDir(s.dir);
    }
  });
}

/** A fresh identity in a fresh store (removed after the test). */
export async function side(name: string): Promise<{ store: Store; local: LocalIdentity }> {
  const t = await makeTestStore();
  stores.push(t);
  return { store: t.store, local: await LocalIdentity.create(t.store, name, now) };
}

/** Alice and Bob as accepted contacts of each other, each holding the other's card. */
export async function pair(): Promise<{ alice: Side; bob: Side }> {
  const a = await side('Alice');
  const b = await side('Bob');
  const link = (self: { store: Store; local: LocalIdentity }, other: LocalIdentity): Side => {
    const card = verifyCard(other.card());
    const contact = self.store.contacts.add({ identityKey: card.identityKey, displayName: card.displayName, requestState: 'accepted' });
    const { device } = self.store.devices.saveCard({ contactId: contact.id, peerId: card.peerId, card: card.encoded, cardCreatedAt: card.createdAt });
    const conversationId = self.store.conversations.getOrCreate(contact.id).id;
    const messenger = new Messenger(self.store, self.local, now, { accepted: () => {}, profile: () => {} });
    return { ...self, messenger, contact, device, conversationId };
  };
  return { alice: link(a, b.local), bob: link(b, a.local) };
}
