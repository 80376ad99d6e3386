/**
 * The API names contacts, conversations and requests by 32-hex-character ids; the store by
 * integer row ids. The mapping is a fixed-width hex rendering: ids stay opaque to the UI and
 * need no second index.
 */
import { ApiFailure } from '../../shared';
import { toHex } from '../../crypto';

export function toApiId(rowId: number): string {
  return rowId.toString(16).padStart(32, '0');
}

export function fromApiId(id: string, what: string): number {
  const n = Number.parseInt(id, 16);
  if (!Number.isSafeInteger(n) || n < 1 || toApiId(n) !== id) throw new ApiFailure('NOT_FOUND', `no such ${what}`);
  return n;
}

/** Message ids are the 128-bit random ids themselves. */
export function messageApiId(messageId: Uint8Array): string {
  return toHex(messageId);
}

export function messageIdFromApi(id: string): Uint8Array {
  return Uint8Array.from(Buffer.from(id, 'hex'));
}
