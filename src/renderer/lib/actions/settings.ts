/** Settings, network status and the theme. */
import type { ApiError, Settings } from '../../../shared';
import type { AppContext } from '../context';
import { reportError } from './report';

export async function updateSettings(ctx: AppContext, change: Partial<Settings>): Promise<void> {
  const result = await ctx.client.api['settings.update'](change);
  if (!result.ok) return reportError(ctx, result.error, 'Setting not saved');
  ctx.settings.set(result.value);
}

/**
 * Replaces the relay list (the core checks it again, stores it and applies it at once: new
 * reservations, our card re-sent to contacts). A refusal is returned for the caller to show
 * beside the field; nothing changes then. The network status follows, so the reservation
 * column shows the new list.
 */
export async function setRelays(ctx: AppContext, relays: readonly string[]): Promise<ApiError | undefined> {
  const result = await ctx.client.api['settings.update']({ relays: [...relays] });
  if (!result.ok) {
    if (result.error.code === 'LOCKED') ctx.session.lockedOut();
    return result.error;
  }
  ctx.settings.set(result.value);
  await refreshNetwork(ctx);
  return undefined;
}

export async function refreshNetwork(ctx: AppContext): Promise<void> {
  const result = await ctx.client.api['network.status']({});
  if (result.ok) ctx.network.set(result.value);
}

/** `light`/`dark` set on <html>; `system` removes it so the CSS media query decides. */
export function applyTheme(theme: Settings['theme'], root: HTMLElement = document.documentElement): void {
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}
