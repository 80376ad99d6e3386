/**
 * Stored messages as the API shows them: the message DTO, the state-change event payload and
 * the page cursor. Shared by the peer's commands (send, page, retry) and the inbound path
 * (messaging/inbound.ts), so both announce a message in exactly the same shape.
 */
import { ApiFailure, type Message as ApiMessage } from '../../../shared';
import type { Message as StoredMessage } from '../../store';
import { messageApiId, toApiId } from '../ids';

export function messageDto(m: StoredMessage): ApiMessage {
  return {
    id: messageApiId(m.messageId),
    conversationId: toApiId(m.conversationId),
    direction: m.direction,
    body: m.body ?? '',
    sentAt: m.sentAt,
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {}),
    state: m.state,
    ...(m.path ? { path: m.path } : {}),
  };
}

export function stateEvent(message: StoredMessage) {
  return {
    messageId: messageApiId(message.messageId),
    conversationId: toApiId(message.conversationId),
    state: message.state,
    ...(message.path ? { path: message.path } : {}),
  };
}

export function encodeCursor(c: { sentAt: number; messageId: Uint8Array }): string {
  return `${c.sentAt}.${Buffer.from(c.messageId).toString('hex')}`;
}

export function decodeCursor(cursor: string): { sentAt: number; messageId: Uint8Array } {
  const m = /^(\d{1,16})\.([0-9a-f]{32})$/.exec(cursor);
  if (!m) throw new ApiFailure('INVALID_ARGUMENT', 'bad cursor');
  return { sentAt: Number(m[1]), messageId: new Uint8Array(Buffer.from(m[2] as string, 'hex')) };
}
