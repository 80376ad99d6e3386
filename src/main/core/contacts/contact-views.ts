/**
 * Contacts as the API shows them (the contact and request DTOs, the contact list), and the
 * store lookups that every part of the contact book shares: which contact a PeerId is a
 * device of, a contact by id or NOT_FOUND. Read-only; split from contact-book.ts so the
 * request, trust and introduction modules beside it show contacts in exactly the same shape.
 */
import { fingerprint, publicKey } from '../../../crypto';
import { ApiFailure, type Contact as ApiContact, type ContactRequest } from '../../../shared';
import type { Contact, Device, Store } from '../../store';
import { toApiId } from '../ids';

export const identityKeyOf = (bytes: Uint8Array) => publicKey('identity', bytes);

/** The contact `peerId` is a device of, with that device. */
export function contactOfPeer(store: Store, peerId: string): { device: Device; contact: Contact } | undefined {
  const device = store.devices.getByPeerId(peerId);
  const contact = device && store.contacts.get(device.contactId);
  return device && contact ? { device, contact } : undefined;
}

export function requireContact(store: Store, contactId: number): Contact {
  const contact = store.contacts.get(contactId);
  if (!contact) throw new ApiFailure('NOT_FOUND', 'no such contact');
  return contact;
}

/** Contact requests both ways, still unanswered. */
export function contactRequests(store: Store): ContactRequest[] {
  return store.contacts
    .list()
    .filter((c) => c.requestState === 'incoming' || c.requestState === 'outgoing')
    .flatMap((c) => {
      const device = store.devices.listByContact(c.id)[0];
      if (!device) return [];
      return [{
        id: toApiId(c.id),
        direction: c.requestState === 'incoming' ? ('incoming' as const) : ('outgoing' as const),
        peerId: device.peerId,
        displayName: c.displayName,
        fingerprint: fingerprint(identityKeyOf(c.identityKey)),
        createdAt: c.createdAt,
      }];
    });
}

/** `isConnected`: whether the network has a connection to a PeerId (ContactNetwork). */
export function isContactOnline(store: Store, isConnected: (peerId: string) => boolean, contactId: number): boolean {
  return store.devices.listByContact(contactId).some((d) => isConnected(d.peerId));
}

export function contactDto(store: Store, isConnected: (peerId: string) => boolean, contact: Contact): ApiContact {
  const conversation = store.conversations.getOrCreate(contact.id);
  return {
    id: toApiId(contact.id),
    displayName: contact.displayName,
    fingerprint: fingerprint(identityKeyOf(contact.identityKey)),
    verified: contact.verified,
    blocked: contact.blocked,
    keyChanged: contact.keyChanged,
    online: isContactOnline(store, isConnected, contact.id),
    conversationId: toApiId(conversation.id),
    createdAt: contact.createdAt,
  };
}

/** Contacts shown in the list: accepted ones and those we asked, blocked ones included. */
export function listContacts(store: Store, isConnected: (peerId: string) => boolean): ApiContact[] {
  return store.contacts
    .list({ includeBlocked: true })
    .filter((c) => c.requestState === 'accepted' || c.requestState === 'outgoing')
    .map((c) => contactDto(store, isConnected, c));
}
