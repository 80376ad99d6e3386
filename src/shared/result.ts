/**
 * Results cross every transport (Electron IPC, the headless WebSocket) as plain data:
 * `{ ok: true, value } | { ok: false, error: { code, message } }`. Internal detail stays in the
 * core's log; the message is a short sentence a UI may show.
 */

/** Every error code a command can return. The UI switches on these, never on messages. */
export const API_ERROR_CODES = [
  'INVALID_ARGUMENT', // the arguments did not match the command's schema
  'UNKNOWN_COMMAND', // no command of that name
  'UNAUTHORIZED', // transport-level: wrong token, sender frame or origin
  'NO_IDENTITY', // no identity yet: create one first
  'ALREADY_EXISTS', // an identity (or contact) already exists
  'LOCKED', // the identity exists but is not unlocked
  'WRONG_PASSPHRASE',
  'NOT_FOUND', // no such contact, conversation, message or request
  'BLOCKED', // the contact is blocked
  'KEY_CHANGED', // the contact's identity key changed: accept the new safety number first
  'INVALID_INVITE', // an invite link that does not parse or verify
  'UNREACHABLE', // the peer could not be reached for an operation that needs it now
  'RATE_LIMITED',
  'TOO_LARGE',
  'INTERNAL', // a bug or an unexpected failure; details are in the core's log only
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiError {
  readonly code: ApiErrorCode;
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err<T = never>(code: ApiErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

/** An error a command handler throws on purpose; transports turn it into `err(code, message)`. */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === 'string' && (API_ERROR_CODES as readonly string[]).includes(value);
}
