/**
 * Start-up and resynchronisation: ask who we are, load every list once unlocked, and load it
 * again after the connection comes back (events are not replayed across a reconnect).
 */
import type { AppContext } from '../context';
import { handleEvent } from './events';
import { loadNewest } from './messages';
import { valueOr } from './report';

export async function loadEverything(ctx: AppContext): Promise<void> {
  const api = ctx.client.api;
  const [conversations, contacts, requests, nearby, settings, network] = await Promise.all([
    api['conversations.list']({}),
    api['contacts.list']({}),
    api['contacts.requests']({}),
    api['nearby.list']({}),
    api['settings.get']({}),
    api['network.status']({}),
  ]);
  const c = valueOr(ctx, conversations, 'Could not load conversations');
  if (c) ctx.conversations.replaceAll(c);
  const k = valueOr(ctx, contacts, 'Could not load contacts');
  if (k) ctx.contacts.replaceContacts(k);
  const r = valueOr(ctx, requests);
  if (r) ctx.contacts.replaceRequests(r);
  const n = valueOr(ctx, nearby);
  if (n) ctx.contacts.replaceNearby(n);
  const s = valueOr(ctx, settings);
  if (s) ctx.settings.set(s);
  // Network status is informative; a failure here is not worth a notice.
  if (network.ok) ctx.network.set(network.value);
}

export async function refreshStatus(ctx: AppContext): Promise<void> {
  const status = await ctx.client.api['identity.status']({});
  if (!status.ok) {
    ctx.session.unreachable();
    return;
  }
  ctx.session.applyStatus(status.value);
  if (status.value.state === 'unlocked') await loadEverything(ctx);
}

/** Wires events and connection changes, then asks the core who we are. */
export function start(ctx: AppContext): () => void {
  const offEvents = ctx.client.onEvent((...event) => handleEvent(ctx, ...event));
  ctx.session.setConnection(ctx.client.connection);
  const offConnection = ctx.client.onConnectionChange((state) => {
    const wasDown = ctx.session.connection !== 'open';
    ctx.session.setConnection(state);
    if (state === 'open' && wasDown) void resync(ctx);
  });
  void refreshStatus(ctx);
  return () => {
    offEvents();
    offConnection();
  };
}

async function resync(ctx: AppContext): Promise<void> {
  ctx.messages.dropCache();
  await refreshStatus(ctx);
  const open = ctx.messages.open;
  if (open && ctx.session.phase === 'ready') await loadNewest(ctx, open.conversationId);
}
