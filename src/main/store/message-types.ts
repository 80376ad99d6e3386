/**
 * The shapes of messages as the store takes and returns them (message-repo.ts has the rules).
 */

export const MESSAGE_KINDS = ['text', 'delivery_receipt', 'read_receipt'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
export const DIRECTIONS = ['in', 'out'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const MESSAGE_STATES = ['queued', 'sent', 'delivered', 'read', 'failed'] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];
export const PATHS = ['lan', 'direct', 'relayed', 'mailbox'] as const;
export type MessagePath = (typeof PATHS)[number];

export interface Message {
  readonly messageId: Uint8Array;
  readonly conversationId: number;
  readonly kind: MessageKind;
  readonly direction: Direction;
  /** The device an incoming message came from; undefined for ours (and if the device was removed). */
  readonly senderDeviceId: number | undefined;
  /** The sender's sequence number in this conversation (text messages). */
  readonly senderSeq: number | undefined;
  /** Text messages only. */
  readonly body: string | undefined;
  /** Receipts only: the ids of the messages acknowledged. */
  readonly refs: readonly Uint8Array[] | undefined;
  readonly sentAt: number;
  /** Incoming only: our clock at receipt. */
  readonly receivedAt: number | undefined;
  readonly state: MessageState;
  readonly path: MessagePath | undefined;
  readonly stateChangedAt: number;
}

export interface MessageContent {
  readonly kind: MessageKind;
  /** kind 'text' */
  readonly body?: string;
  /** receipts */
  readonly refs?: readonly Uint8Array[];
}

export interface IncomingMessage extends MessageContent {
  readonly messageId: Uint8Array;
  readonly conversationId: number;
  readonly senderDeviceId: number;
  /** Required for text. */
  readonly senderSeq?: number;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly path: MessagePath;
  /** Text only: the digest of the envelope that brought it, so a resent copy is recognised. */
  readonly envelopeDigest?: Uint8Array;
}

export interface OutgoingMessage extends MessageContent {
  readonly messageId: Uint8Array;
  readonly conversationId: number;
  readonly sentAt: number;
}

/** A position in a conversation's timeline: pages continue strictly before it. */
export interface MessageCursor {
  readonly sentAt: number;
  readonly messageId: Uint8Array;
}

export interface MessagePage {
  readonly messages: Message[];
  /** Pass as `before` for the next (older) page; undefined when this page reached the start. */
  readonly next: MessageCursor | undefined;
}

export interface ReadMessage {
  readonly messageId: Uint8Array;
  readonly senderDeviceId: number | undefined;
}
