/**
 * The messages of conversations the user has open or had open recently. Each conversation's
 * history is a `$state.raw` array, oldest first, replaced immutably; older pages are fetched
 * through `messages.page` with `before` cursors as the user scrolls up (keyset paging: the
 * core never counts or offsets).
 */
import type { Message, MessagePath, MessageState } from '../../../shared';
import { buildRows, RowCache, type Row } from '../utils/message-rows';

/** Conversations kept in memory besides the open one: switching back is instant. */
export const MAX_CACHED_CONVERSATIONS = 6;

export class ConversationMessages {
  #messages = $state.raw<readonly Message[]>([]);
  // Id → position in #messages, kept in step with every new array (rebuilt when positions move,
  // extended by an append). Never read by a template or effect: no reactivity needed.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- never observed
  #indexById = new Map<string, number>();
  #cursor: string | undefined;
  #hasMore = $state(true);
  #loading = $state(false);
  #loaded = $state(false);
  #error = $state<string | undefined>(undefined);
  #newMarkerBefore = $state<string | undefined>(undefined);
  #unseen = $state(0);
  #atBottom = $state(true);
  #pendingUnread = 0;

  readonly #rowCache = new RowCache();

  readonly rows: readonly Row[] = $derived(
    buildRows(this.#messages, { newMarkerBefore: this.#newMarkerBefore, atStart: this.#loaded && !this.#hasMore }, this.#rowCache),
  );

  constructor(readonly conversationId: string) {}

  get messages(): readonly Message[] {
    return this.#messages;
  }
  get cursor(): string | undefined {
    return this.#cursor;
  }
  get hasMore(): boolean {
    return this.#hasMore;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get error(): string | undefined {
    return this.#error;
  }
  get newMarkerBefore(): string | undefined {
    return this.#newMarkerBefore;
  }
  /** Messages that arrived while the user was scrolled up. */
  get unseen(): number {
    return this.#unseen;
  }
  get atBottom(): boolean {
    return this.#atBottom;
  }

  has(id: string): boolean {
    return this.#indexById.has(id);
  }

  #set(messages: readonly Message[]): void {
    this.#messages = messages;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- see #indexById
    const index = new Map<string, number>();
    for (let i = 0; i < messages.length; i++) index.set(messages[i]!.id, i);
    this.#indexById = index;
  }

  startLoading(): void {
    this.#loading = true;
    this.#error = undefined;
  }

  failLoading(message: string): void {
    this.#loading = false;
    this.#error = message;
  }

  /** An older page (any order from the core); duplicates of what is loaded are skipped. */
  addOlderPage(page: readonly Message[], nextCursor: string | undefined): void {
    const fresh = page.filter((m) => !this.#indexById.has(m.id)).sort((a, b) => a.sentAt - b.sentAt || a.id.localeCompare(b.id));
    this.#set([...fresh, ...this.#messages]);
    this.#cursor = nextCursor;
    this.#hasMore = nextCursor !== undefined;
    this.#loading = false;
    this.#loaded = true;
    if (this.#pendingUnread > 0) {
      this.markUnreadFrom(this.#pendingUnread);
      this.#pendingUnread = 0;
    }
  }

  /**
   * Puts the "new messages" marker before the first of the last `unread` incoming messages.
   * Before the first page is in, it is remembered and applied with that page, so the list's
   * first layout already has the marker to scroll to.
   */
  markUnreadFrom(unread: number): void {
    if (unread <= 0) return;
    if (!this.#loaded) {
      this.#pendingUnread = unread;
      return;
    }
    const incoming = this.#messages.filter((m) => m.direction === 'in');
    this.#newMarkerBefore = incoming[Math.max(0, incoming.length - unread)]?.id;
  }

  /** A new message (received, or sent from here). Returns false for a duplicate. */
  append(message: Message): boolean {
    if (this.#indexById.has(message.id)) {
      this.replace(message);
      return false;
    }
    const last = this.#messages[this.#messages.length - 1];
    const next = [...this.#messages, message];
    // Clocks differ between peers: keep order by sentAt when one arrives "from the past".
    if (last && message.sentAt < last.sentAt) {
      next.sort((a, b) => a.sentAt - b.sentAt || a.id.localeCompare(b.id));
      this.#set(next);
    } else {
      // The common case: nothing moved, so the index gains one entry instead of being rebuilt.
      this.#messages = next;
      this.#indexById.set(message.id, next.length - 1);
    }
    if (message.direction === 'in' && !this.#atBottom) {
      this.#newMarkerBefore ??= message.id;
      this.#unseen++;
    }
    return true;
  }

  replace(message: Message): void {
    const index = this.#indexById.get(message.id);
    if (index === undefined) return;
    const next = this.#messages.slice();
    next[index] = message;
    this.#messages = next;
  }

  updateState(messageId: string, state: MessageState, path: MessagePath | undefined): void {
    const index = this.#indexById.get(messageId);
    const current = index === undefined ? undefined : this.#messages[index];
    if (!current || (current.state === state && (path === undefined || current.path === path))) return;
    this.replace({ ...current, state, ...(path ? { path } : {}) });
  }

  setAtBottom(atBottom: boolean): void {
    this.#atBottom = atBottom;
    if (atBottom) this.#unseen = 0;
  }

  /** Leaving the conversation: the marker has done its job. */
  clearMarker(): void {
    this.#newMarkerBefore = undefined;
    this.#unseen = 0;
  }
}

export class MessagesState {
  #open = $state.raw<ConversationMessages | undefined>(undefined);
  /** Most recently used last. */
  #cache: ConversationMessages[] = [];

  get open(): ConversationMessages | undefined {
    return this.#open;
  }

  /** The list for a conversation, created if needed, made the open one. */
  openConversation(conversationId: string): ConversationMessages {
    this.#open?.clearMarker();
    let list = this.#cache.find((c) => c.conversationId === conversationId);
    this.#cache = this.#cache.filter((c) => c !== list);
    list ??= new ConversationMessages(conversationId);
    this.#cache.push(list);
    if (this.#cache.length > MAX_CACHED_CONVERSATIONS) this.#cache.shift();
    this.#open = list;
    return list;
  }

  close(): void {
    this.#open?.clearMarker();
    this.#open = undefined;
  }

  /** The loaded list of a conversation, if it is cached. */
  get(conversationId: string): ConversationMessages | undefined {
    return this.#cache.find((c) => c.conversationId === conversationId);
  }

  /** After a reconnect: loaded history may be stale; drop everything but the open list. */
  dropCache(): void {
    this.#cache = this.#open ? [this.#open] : [];
  }

  forget(conversationId: string): void {
    this.#cache = this.#cache.filter((c) => c.conversationId !== conversationId);
  }
}
