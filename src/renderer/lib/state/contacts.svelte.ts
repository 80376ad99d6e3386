/**
 * Contacts, contact requests (incoming ones make the badge), peers found on the LAN, and the
 * safety numbers fetched for contact pages.
 */
import type { Contact, ContactRequest, NearbyPeer, SafetyNumber } from '../../../shared';

export class ContactsState {
  #contacts = $state.raw<readonly Contact[]>([]);
  #requests = $state.raw<readonly ContactRequest[]>([]);
  #nearby = $state.raw<readonly NearbyPeer[]>([]);
  #safetyNumbers = $state.raw<Readonly<Record<string, SafetyNumber>>>({});

  readonly incoming = $derived(this.#requests.filter((r) => r.direction === 'incoming'));
  readonly outgoing = $derived(this.#requests.filter((r) => r.direction === 'outgoing'));
  readonly sorted = $derived([...this.#contacts].sort((a, b) => a.displayName.localeCompare(b.displayName)));

  get contacts(): readonly Contact[] {
    return this.#contacts;
  }
  get requests(): readonly ContactRequest[] {
    return this.#requests;
  }
  get nearby(): readonly NearbyPeer[] {
    return this.#nearby;
  }

  byId(id: string | undefined): Contact | undefined {
    return id === undefined ? undefined : this.#contacts.find((c) => c.id === id);
  }

  safetyNumber(contactId: string): SafetyNumber | undefined {
    return this.#safetyNumbers[contactId];
  }

  /** A pending outgoing request to this peer, if any (the Nearby row then says "Requested"). */
  outgoingTo(peerId: string): ContactRequest | undefined {
    return this.outgoing.find((r) => r.peerId === peerId);
  }

  replaceContacts(list: readonly Contact[]): void {
    this.#contacts = list;
  }

  upsertContact(contact: Contact): void {
    const exists = this.#contacts.some((c) => c.id === contact.id);
    this.#contacts = exists ? this.#contacts.map((c) => (c.id === contact.id ? contact : c)) : [...this.#contacts, contact];
    const known = this.#safetyNumbers[contact.id];
    if (known && known.verified !== contact.verified) this.#safetyNumbers = { ...this.#safetyNumbers, [contact.id]: { ...known, verified: contact.verified } };
  }

  setOnline(contactId: string, online: boolean): void {
    this.#contacts = this.#contacts.map((c) => (c.id === contactId ? { ...c, online } : c));
  }

  setKeyChanged(contactId: string): void {
    this.#contacts = this.#contacts.map((c) => (c.id === contactId ? { ...c, keyChanged: true, verified: false } : c));
    // The old safety number is no longer the one to compare.
    const { [contactId]: _dropped, ...rest } = this.#safetyNumbers;
    this.#safetyNumbers = rest;
  }

  replaceRequests(list: readonly ContactRequest[]): void {
    this.#requests = list;
  }

  upsertRequest(request: ContactRequest): void {
    this.#requests = [...this.#requests.filter((r) => r.id !== request.id), request];
  }

  removeRequest(id: string): void {
    this.#requests = this.#requests.filter((r) => r.id !== id);
  }

  replaceNearby(list: readonly NearbyPeer[]): void {
    this.#nearby = list;
  }

  setSafetyNumber(contactId: string, value: SafetyNumber): void {
    this.#safetyNumbers = { ...this.#safetyNumbers, [contactId]: value };
  }
}
