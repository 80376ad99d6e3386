/**
 * Turns a conversation's messages (oldest first) into the rows the virtual list draws: a day
 * separator before the first message of each local calendar day, and the "new messages"
 * marker before the first message the user has not seen yet.
 *
 * @example
 * ```ts
 * buildRows(messages, { newMarkerBefore: firstUnseenId });
 * // [{ kind: 'day', key: 'day:2025-3-14', … }, { kind: 'message', key: id, message }, …]
 * ```
 */
import type { Message } from '../../../shared';

export type Row =
  | { readonly kind: 'start'; readonly key: 'start' }
  | { readonly kind: 'day'; readonly key: string; readonly at: number }
  | { readonly kind: 'new'; readonly key: 'new-marker' }
  | { readonly kind: 'message'; readonly key: string; readonly message: Message; readonly continued: boolean };

export interface RowOptions {
  /** Id of the first unseen message; the marker goes right before it. */
  readonly newMarkerBefore?: string | undefined;
  /** The whole history is loaded: a first row says this is the beginning. */
  readonly atStart?: boolean;
}

/** Messages from the same sender within this span are grouped visually (less repeated chrome). */
export const GROUP_WINDOW_MS = 5 * 60_000;

/** The local calendar day of a timestamp, as a stable key. */
export function dayKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function buildRows(messages: readonly Message[], options: RowOptions = {}): Row[] {
  const rows: Row[] = options.atStart && messages.length > 0 ? [{ kind: 'start', key: 'start' }] : [];
  let previousDay = '';
  let previous: Message | undefined;
  for (const message of messages) {
    const day = dayKey(message.sentAt);
    let continued = previous !== undefined && previous.direction === message.direction && message.sentAt - previous.sentAt < GROUP_WINDOW_MS;
    if (day !== previousDay) {
      rows.push({ kind: 'day', key: `day:${day}`, at: message.sentAt });
      previousDay = day;
      continued = false;
    }
    if (message.id === options.newMarkerBefore) {
      rows.push({ kind: 'new', key: 'new-marker' });
      continued = false;
    }
    rows.push({ kind: 'message', key: message.id, message, continued });
    previous = message;
  }
  return rows;
}

/** A row's height before it is measured: close guesses keep the scrollbar from jumping. */
export function estimateRowHeight(row: Row): number {
  switch (row.kind) {
    case 'start':
      return 56;
    case 'day':
      return 40;
    case 'new':
      return 32;
    case 'message': {
      // ~45 characters per line at the default width, 20 px per line, plus bubble chrome.
      const lines = Math.min(400, Math.ceil(row.message.body.length / 45) + (row.message.body.match(/\n/g)?.length ?? 0));
      return (row.continued ? 34 : 44) + Math.max(0, lines - 1) * 20;
    }
    default: {
      const unreachable: never = row;
      return unreachable;
    }
  }
}
