/**
 * Where the user is (the route), which dialog is open, transient notices, and focus requests
 * that keyboard shortcuts raise for components to honour.
 */

export type Route =
  | { readonly name: 'home' }
  | { readonly name: 'chat'; readonly conversationId: string }
  | { readonly name: 'people' }
  | { readonly name: 'contact'; readonly contactId: string }
  | { readonly name: 'network' }
  | { readonly name: 'settings' };

export type Dialog = { readonly name: 'help' } | { readonly name: 'open-link'; readonly href: string } | undefined;

export interface Notice {
  readonly id: number;
  readonly kind: 'info' | 'error';
  readonly text: string;
}

/** How long an info notice stays; errors stay until dismissed (they may need reading). */
export const NOTICE_MS = 5000;
const MAX_NOTICES = 4;

export class UiState {
  #route = $state.raw<Route>({ name: 'home' });
  #dialog = $state.raw<Dialog>(undefined);
  #notices = $state.raw<readonly Notice[]>([]);
  #nextNotice = 1;
  /** Bumped to ask the view to focus the search box / composer (a counter, so repeats count). */
  #searchFocus = $state(0);
  #composerFocus = $state(0);
  /** Text a screen reader should announce (the latest incoming message in the open chat). */
  #announcement = $state('');

  get route(): Route {
    return this.#route;
  }
  get dialog(): Dialog {
    return this.#dialog;
  }
  get notices(): readonly Notice[] {
    return this.#notices;
  }
  get searchFocus(): number {
    return this.#searchFocus;
  }
  get composerFocus(): number {
    return this.#composerFocus;
  }
  get announcement(): string {
    return this.#announcement;
  }

  /** The open conversation, if the route is a chat. */
  get conversationId(): string | undefined {
    return this.#route.name === 'chat' ? this.#route.conversationId : undefined;
  }

  go(route: Route): void {
    this.#route = route;
  }

  openDialog(dialog: NonNullable<Dialog>): void {
    this.#dialog = dialog;
  }

  closeDialog(): void {
    this.#dialog = undefined;
  }

  notify(kind: Notice['kind'], text: string, schedule: (fn: () => void, ms: number) => unknown = setTimeout): void {
    const id = this.#nextNotice++;
    this.#notices = [...this.#notices.filter((n) => n.text !== text), { id, kind, text }].slice(-MAX_NOTICES);
    if (kind === 'info') schedule(() => this.dismiss(id), NOTICE_MS);
  }

  dismiss(id: number): void {
    this.#notices = this.#notices.filter((n) => n.id !== id);
  }

  requestSearchFocus(): void {
    this.#searchFocus++;
  }

  requestComposerFocus(): void {
    this.#composerFocus++;
  }

  announce(text: string): void {
    this.#announcement = text;
  }
}
