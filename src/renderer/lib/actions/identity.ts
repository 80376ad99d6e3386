/** Onboarding, unlock and profile changes. Each returns the error for the form to show inline. */
import type { ApiError } from '../../../shared';
import type { AppContext } from '../context';
import { loadEverything } from './startup';
import { reportError } from './report';

export interface CreateIdentity {
  readonly displayName: string;
  /** Absent when the keychain protects the database key instead. */
  readonly passphrase?: string;
  readonly useKeychain?: boolean;
}

export async function createIdentity(ctx: AppContext, input: CreateIdentity): Promise<ApiError | undefined> {
  const result = await ctx.client.api['identity.create']({
    displayName: input.displayName,
    ...(input.useKeychain ? { useKeychain: true } : { passphrase: input.passphrase }),
  });
  if (!result.ok) return result.error;
  ctx.session.signedIn(result.value);
  await loadEverything(ctx);
  return undefined;
}

export async function unlock(ctx: AppContext, passphrase: string | undefined): Promise<ApiError | undefined> {
  const result = await ctx.client.api['identity.unlock'](passphrase === undefined ? {} : { passphrase });
  if (!result.ok) return result.error;
  ctx.session.signedIn(result.value);
  await loadEverything(ctx);
  return undefined;
}

export async function changePassphrase(ctx: AppContext, current: string, next: string): Promise<ApiError | undefined> {
  const result = await ctx.client.api['identity.changePassphrase']({ current, next });
  if (!result.ok) return result.error;
  ctx.ui.notify('info', 'Passphrase changed.');
  return undefined;
}

export async function setDisplayName(ctx: AppContext, displayName: string): Promise<boolean> {
  const result = await ctx.client.api['identity.setDisplayName']({ displayName });
  if (!result.ok) {
    reportError(ctx, result.error, 'Could not change your name');
    return false;
  }
  ctx.session.setProfile(result.value);
  ctx.ui.notify('info', 'Name saved.');
  return true;
}
