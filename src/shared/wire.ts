/**
 * Frames of the headless WebSocket transport (the Electron transport carries the same request
 * and result objects over IPC). Everything arriving is validated here before dispatch.
 */
import { z } from 'zod';
import type { Result } from './result';

/** One request frame is a command and its arguments: the largest argument is a message body. */
export const MAX_WS_FRAME_BYTES = 256 * 1024;

export const RequestFrame = z.strictObject({
  type: z.literal('request'),
  /** Chosen by the client to match the response; bounded so it can be echoed safely. */
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  command: z.string().max(64),
  args: z.unknown().optional(),
});

export type RequestFrame = z.infer<typeof RequestFrame>;

export interface ResponseFrame {
  readonly type: 'response';
  readonly id: number;
  readonly result: Result<unknown>;
}

export interface EventFrame {
  readonly type: 'event';
  readonly event: string;
  readonly payload: unknown;
}

export type ServerFrame = ResponseFrame | EventFrame;
