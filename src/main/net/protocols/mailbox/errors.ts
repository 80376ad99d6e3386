/**
 * The relay refused a mailbox request. `code` is the relay's status (constants.ts
 * MAILBOX_STATUS); callers match on `name` and `code`, never on the message, which is fixed
 * per code and carries no ids or bytes.
 */
import type { MailboxStatus } from './constants';

export type MailboxErrorCode = Exclude<MailboxStatus, 'ok'>;

const MESSAGES: Record<MailboxErrorCode, string> = {
  tooLarge: 'The envelope is larger than the relay accepts',
  mailboxFull: 'The mailbox is full',
  depositorQuota: 'This peer has used its share of the relay',
  relayFull: 'The relay is full',
  rateLimited: 'Too many deposits; retry later',
  unauthorized: 'Not authorized for this mailbox',
  badRequest: 'The relay could not use the request',
  unavailable: 'The relay failed to store or read; retry later',
};

export class MailboxError extends Error {
  static override name = 'MailboxError';
  readonly code: MailboxErrorCode;

  constructor(code: MailboxErrorCode) {
    super(MESSAGES[code]);
    this.name = 'MailboxError';
    this.code = code;
  }
}

export function isMailboxError(value: unknown, code?: MailboxErrorCode): value is MailboxError {
  return value instanceof Error && value.name === 'MailboxError' && (code === undefined || (value as MailboxError).code === code);
}
