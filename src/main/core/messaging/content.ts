/**
 * The plaintext inside every ratchet message: what a Parley message says. Receipts and
 * profile updates are messages too, so they are end-to-end encrypted like text
 * (ARCHITECTURE.md §6).
 *
 *   version (1) ‖ kind (1) ‖ message id (16) ‖ sent at (u64 ms) ‖ kind-specific body
 */
import { ByteReader, ByteWriter, CryptoError, fromUtf8, utf8 } from '../../../crypto';
import { MAX_MESSAGE_BODY_CHARS } from '../../../shared';
import { INVITE_SECRET_BYTES, MAX_CARD_BYTES } from '../contacts/card';

const CONTENT_VERSION = 1;
export const MESSAGE_ID_BYTES = 16; // 128-bit random ids: collisions are never a concern
/** Receipts name at most this many messages; the outbox batches more into several. */
export const MAX_RECEIPT_IDS = 512;
const MAX_BODY_BYTES = MAX_MESSAGE_BODY_CHARS * 3;

const KIND = { text: 1, delivered: 2, read: 3, profile: 4, introduce: 5 } as const;

export type Content =
  /** `seq`: the sender's per-conversation sequence number (1, 2, …), for order per sender. */
  | { readonly kind: 'text'; readonly id: Uint8Array; readonly sentAt: number; readonly seq: number; readonly body: string }
  /** E2E delivery receipt: these message ids were stored by the recipient. */
  | { readonly kind: 'delivered'; readonly id: Uint8Array; readonly sentAt: number; readonly ids: readonly Uint8Array[] }
  /** E2E read receipt: these message ids were shown to the recipient. */
  | { readonly kind: 'read'; readonly id: Uint8Array; readonly sentAt: number; readonly ids: readonly Uint8Array[] }
  /** A fresh signed contact card: display name, relays or prekeys changed. */
  | { readonly kind: 'profile'; readonly id: Uint8Array; readonly sentAt: number; readonly card: Uint8Array }
  /**
   * First contact: the sender's card, and the invite secret if it came through an invite link
   * (accepted at once) or none (a contact request the user must accept).
   */
  | {
      readonly kind: 'introduce';
      readonly id: Uint8Array;
      readonly sentAt: number;
      readonly card: Uint8Array;
      readonly inviteSecret?: Uint8Array;
    };

export function encodeContent(content: Content): Uint8Array {
  const w = new ByteWriter(64).u8(CONTENT_VERSION).u8(KIND[content.kind]).raw(content.id).u64(content.sentAt);
  switch (content.kind) {
    case 'text':
      return w.u64(content.seq).bytes(utf8(content.body)).finish();
    case 'delivered':
    case 'read':
      if (content.ids.length > MAX_RECEIPT_IDS) throw new RangeError('too many receipt ids');
      w.u16(content.ids.length);
      for (const id of content.ids) w.raw(id);
      return w.finish();
    case 'profile':
      return w.bytes(content.card).finish();
    case 'introduce':
      w.bytes(content.card);
      if (content.inviteSecret) w.u8(1).raw(content.inviteSecret);
      else w.u8(0);
      return w.finish();
    default: {
      const unreachable: never = content;
      return unreachable;
    }
  }
}

/** Parses a decrypted plaintext; CryptoError MALFORMED / UNSUPPORTED_VERSION for anything else. */
export function decodeContent(bytes: Uint8Array): Content {
  const r = new ByteReader(bytes);
  if (r.u8() !== CONTENT_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'message content');
  const kind = r.u8();
  const id = r.raw(MESSAGE_ID_BYTES);
  const sentAt = r.u64();
  let content: Content;
  switch (kind) {
    case KIND.text: {
      const seq = r.u64();
      if (seq < 1) throw new CryptoError('MALFORMED', 'sequence number');
      const body = fromUtf8(r.bytes(MAX_BODY_BYTES));
      if (body.length > MAX_MESSAGE_BODY_CHARS) throw new CryptoError('MALFORMED', 'message body too long');
      content = { kind: 'text', id, sentAt, seq, body };
      break;
    }
    case KIND.delivered:
    case KIND.read: {
      const count = r.u16();
      if (count > MAX_RECEIPT_IDS) throw new CryptoError('MALFORMED', 'too many receipt ids');
      const ids = Array.from({ length: count }, () => r.raw(MESSAGE_ID_BYTES));
      content = { kind: kind === KIND.delivered ? 'delivered' : 'read', id, sentAt, ids };
      break;
    }
    case KIND.profile:
      content = { kind: 'profile', id, sentAt, card: r.bytes(MAX_CARD_BYTES) };
      break;
    case KIND.introduce: {
      const card = r.bytes(MAX_CARD_BYTES);
      const hasSecret = r.u8();
      if (hasSecret > 1) throw new CryptoError('MALFORMED', 'invite secret flag');
      content = hasSecret === 1
        ? { kind: 'introduce', id, sentAt, card, inviteSecret: r.raw(INVITE_SECRET_BYTES) }
        : { kind: 'introduce', id, sentAt, card };
      break;
    }
    default:
      throw new CryptoError('MALFORMED', 'unknown content kind');
  }
  r.end();
  return content;
}
