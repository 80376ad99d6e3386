/**
 * Unsent text per conversation as the composer edits it. The saved copy lives in the core's
 * encrypted database (command `drafts.set`) and comes back with the conversation list as
 * `Conversation.draft`, so a draft survives a restart while nothing readable is written
 * outside that database (ARCHITECTURE.md §7): no localStorage, no IndexedDB.
 *
 * This holds what was typed in this session, which wins over the saved copy (it is newer),
 * and which edits are not saved yet, with the timer of their debounced save
 * (actions/messages.ts `editDraft`).
 */
import { SvelteMap } from 'svelte/reactivity';

export class DraftsState {
  readonly #drafts = new SvelteMap<string, string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- never observed: no view shows it
  readonly #unsaved = new Set<string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- never observed, like #unsaved
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  /**
   * The text typed in this conversation in this session, '' when it was emptied, undefined when
   * nothing was typed there yet (the saved `Conversation.draft` applies then).
   */
  get(conversationId: string): string | undefined {
    return this.#drafts.get(conversationId);
  }

  /** Text typed in this session and not blank. */
  has(conversationId: string): boolean {
    return (this.#drafts.get(conversationId) ?? '').trim() !== '';
  }

  /** The composer's text changed: kept, and marked for saving. */
  edit(conversationId: string, text: string): void {
    this.#drafts.set(conversationId, text);
    this.#unsaved.add(conversationId);
  }

  /** Runs `save` once typing in this conversation has paused for `delayMs` (each call restarts it). */
  schedule(conversationId: string, delayMs: number, save: () => void): void {
    this.#cancel(conversationId);
    this.#timers.set(
      conversationId,
      setTimeout(() => {
        this.#timers.delete(conversationId);
        save();
      }, delayMs),
    );
  }

  /**
   * The text to save now, or undefined when nothing changed since the last save. Taking it
   * clears the mark and the pending timer: the caller saves it (or calls `saveFailed`).
   */
  takeUnsaved(conversationId: string): string | undefined {
    this.#cancel(conversationId);
    if (!this.#unsaved.delete(conversationId)) return undefined;
    return this.#drafts.get(conversationId) ?? '';
  }

  /** A save did not go through: the text counts as unsaved again, for the next save to retry. */
  saveFailed(conversationId: string): void {
    if (this.#drafts.has(conversationId)) this.#unsaved.add(conversationId);
  }

  #cancel(conversationId: string): void {
    const timer = this.#timers.get(conversationId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(conversationId);
  }
}
