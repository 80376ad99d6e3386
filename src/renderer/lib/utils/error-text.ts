/**
 * What to tell a person for each error code. The UI switches on codes, never on the core's
 * message text (which is for logs and may change).
 */
import type { ApiError, ApiErrorCode } from '../../../shared';

const TEXT: Readonly<Record<ApiErrorCode, string>> = {
  INVALID_ARGUMENT: 'That input is not valid.',
  UNKNOWN_COMMAND: 'This version of the app and the Parley peer do not match. Restart Parley.',
  UNAUTHORIZED: 'This page is not allowed to talk to Parley. Open the address printed by the Parley peer again.',
  NO_IDENTITY: 'There is no Parley account on this device yet.',
  ALREADY_EXISTS: 'That already exists.',
  LOCKED: 'Parley is locked. Unlock it with your passphrase.',
  WRONG_PASSPHRASE: 'That passphrase is not right. Check it and try again.',
  NOT_FOUND: 'That no longer exists.',
  BLOCKED: 'You have blocked this contact. Unblock them to send messages.',
  KEY_CHANGED: 'This contact’s safety number changed. Review and accept it before sending.',
  INVALID_INVITE: 'That invite link is not valid. Ask for a new one.',
  UNREACHABLE: 'Could not reach the other device. It may be offline.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  TOO_LARGE: 'That is too large to send.',
  INTERNAL: 'Something went wrong inside Parley. Try again.',
};

export function errorText(error: ApiError): string {
  return TEXT[error.code] ?? TEXT.INTERNAL;
}
