/**
 * The application context: the API client and every state object, created once per page and
 * handed to views through Svelte's context (components never see it: they get props).
 */
import { getContext, setContext } from 'svelte';
import type { ApiClient } from './api';
import { ContactsState } from './state/contacts.svelte';
import { ConversationsState } from './state/conversations.svelte';
import { DraftsState } from './state/drafts.svelte';
import { MessagesState } from './state/messages.svelte';
import { NetworkState } from './state/network.svelte';
import { SessionState } from './state/session.svelte';
import { SettingsState } from './state/settings.svelte';
import { UiState } from './state/ui.svelte';

export interface AppContext {
  readonly client: ApiClient;
  readonly session: SessionState;
  readonly conversations: ConversationsState;
  readonly messages: MessagesState;
  readonly contacts: ContactsState;
  readonly network: NetworkState;
  readonly settings: SettingsState;
  readonly drafts: DraftsState;
  readonly ui: UiState;
}

export function createAppContext(client: ApiClient): AppContext {
  return {
    client,
    session: new SessionState(),
    conversations: new ConversationsState(),
    messages: new MessagesState(),
    contacts: new ContactsState(),
    network: new NetworkState(),
    settings: new SettingsState(),
    drafts: new DraftsState(),
    ui: new UiState(),
  };
}

const KEY = Symbol('parley.app');

export function provideApp(ctx: AppContext): void {
  setContext(KEY, ctx);
}

export function useApp(): AppContext {
  const ctx = getContext<AppContext | undefined>(KEY);
  if (!ctx) throw new Error('useApp() outside the app root');
  return ctx;
}
