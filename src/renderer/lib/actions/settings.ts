/** Settings, network status and the theme. */
import type { Settings } from '../../../shared';
import type { AppContext } from '../context';
import { reportError } from './report';

export async function updateSettings(ctx: AppContext, change: Partial<Settings>): Promise<void> {
  const result = await ctx.client.api['settings.update'](change);
  if (!result.ok) return reportError(ctx, result.error, 'Setting not saved');
  ctx.settings.set(result.value);
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
