/**
 * Unsent text per conversation. Kept in memory only: nothing readable is written outside the
 * core's encrypted database (ARCHITECTURE.md §7), so drafts do not survive a restart.
 */
import { SvelteMap } from 'svelte/reactivity';

export class DraftsState {
  readonly #drafts = new SvelteMap<string, string>();

  get(conversationId: string): string {
    return this.#drafts.get(conversationId) ?? '';
  }

  has(conversationId: string): boolean {
    return (this.#drafts.get(conversationId) ?? '').trim() !== '';
  }

  set(conversationId: string, text: string): void {
    if (text === '') this.#drafts.delete(conversationId);
    else this.#drafts.set(conversationId, text);
  }
}
