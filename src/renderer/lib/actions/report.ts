/**
 * How actions report failures: a notice in words a person understands (by error code), and
 * a LOCKED answer sends the user back to the unlock screen.
 */
import type { ApiError, Result } from '../../../shared';
import type { AppContext } from '../context';
import { errorText } from '../utils/error-text';

export function reportError(ctx: AppContext, error: ApiError, what?: string): void {
  if (error.code === 'LOCKED') ctx.session.lockedOut();
  ctx.ui.notify('error', what ? `${what}: ${errorText(error)}` : errorText(error));
}

/** The value of a result, or undefined after reporting its error. */
export function valueOr<T>(ctx: AppContext, result: Result<T>, what?: string): T | undefined {
  if (result.ok) return result.value;
  reportError(ctx, result.error, what);
  return undefined;
}
