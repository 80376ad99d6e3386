/**
 * The conversation list: ordered by last activity, filtered by the search box, with unread
 * counts. Replaced immutably (`$state.raw`): a list of thousands is swapped, never deep-proxied.
 */
import type { Contact, Conversation, Message } from '../../../shared';

/** Previews are cut where the contract cuts them. */
export const PREVIEW_CHARS = 200;

export class ConversationsState {
  #list = $state.raw<readonly Conversation[]>([]);
  #loaded = $state(false);
  #filter = $state('');

  readonly sorted = $derived([...this.#list].sort((a, b) => b.lastActivity - a.lastActivity || a.id.localeCompare(b.id)));
  readonly visible = $derived.by(() => {
    const needle = this.#filter.trim().toLocaleLowerCase();
    return needle === '' ? this.sorted : this.sorted.filter((c) => c.title.toLocaleLowerCase().includes(needle));
  });
  readonly unreadTotal = $derived(this.#list.reduce((sum, c) => sum + c.unreadCount, 0));

  get all(): readonly Conversation[] {
    return this.#list;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get filter(): string {
    return this.#filter;
  }

  byId(id: string | undefined): Conversation | undefined {
    return id === undefined ? undefined : this.#list.find((c) => c.id === id);
  }

  byContact(contactId: string): Conversation | undefined {
    return this.#list.find((c) => c.contactId === contactId);
  }

  setFilter(text: string): void {
    this.#filter = text;
  }

  replaceAll(list: readonly Conversation[]): void {
    this.#list = list;
    this.#loaded = true;
  }

  #update(id: string, change: (c: Conversation) => Conversation): void {
    this.#list = this.#list.map((c) => (c.id === id ? change(c) : c));
  }

  /** A message arrived or was sent: move the conversation up, update preview and unread. */
  applyMessage(message: Message, countAsUnread: boolean): boolean {
    if (!this.byId(message.conversationId)) return false;
    this.#update(message.conversationId, (c) => ({
      ...c,
      lastActivity: Math.max(c.lastActivity, message.receivedAt ?? message.sentAt),
      preview: message.body.slice(0, PREVIEW_CHARS),
      unreadCount: countAsUnread ? c.unreadCount + 1 : c.unreadCount,
    }));
    return true;
  }

  markRead(id: string): void {
    if (this.byId(id)?.unreadCount) this.#update(id, (c) => ({ ...c, unreadCount: 0 }));
  }

  /** Keeps the flags a conversation mirrors from its contact in step. */
  applyContact(contact: Contact): void {
    this.#list = this.#list.map((c) =>
      c.contactId === contact.id ? { ...c, title: contact.displayName, verified: contact.verified, keyChanged: contact.keyChanged } : c,
    );
  }

  setKeyChanged(contactId: string): void {
    this.#list = this.#list.map((c) => (c.contactId === contactId ? { ...c, keyChanged: true, verified: false } : c));
  }
}
