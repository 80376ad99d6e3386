/**
 * Turns a conversation's messages (oldest first) into the rows the virtual list draws: a day
 * separator before the first message of each local calendar day, and the "new messages"
 * marker before the first message the user has not seen yet.
 *
 * @example
 * ```ts
 * const cache = new RowCache(); // one per conversation: unchanged messages keep their rows
 * buildRows(messages, { newMarkerBefore: firstUnseenId }, cache);
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

type MessageRow = Extract<Row, { kind: 'message' }>;
type DayRow = Extract<Row, { kind: 'day' }>;

/**
 * The rows of earlier builds, by the message they were built from. Messages are immutable (a
 * state change replaces the object), so an unchanged message with the same grouping gets the
 * very same row object back: the virtual list then leaves that row's DOM alone instead of
 * re-rendering every visible row each time a page is prepended or a receipt comes in, and a
 * rebuild of 10,000 rows allocates only for what changed. Weak: rows go with their messages.
 */
export class RowCache {
  readonly #messages = new WeakMap<Message, MessageRow>();
  /** Day separators by the first message of their day. */
  readonly #days = new WeakMap<Message, DayRow>();

  messageRow(message: Message, continued: boolean): MessageRow {
    const cached = this.#messages.get(message);
    if (cached?.continued === continued) return cached;
    const row: MessageRow = { kind: 'message', key: message.id, message, continued };
    this.#messages.set(message, row);
    return row;
  }

  dayRow(first: Message, key: string): DayRow {
    const cached = this.#days.get(first);
    if (cached?.key === key) return cached;
    const row: DayRow = { kind: 'day', key, at: first.sentAt };
    this.#days.set(first, row);
    return row;
  }
}

const START_ROW: Row = Object.freeze({ kind: 'start', key: 'start' });
const NEW_ROW: Row = Object.freeze({ kind: 'new', key: 'new-marker' });

export function buildRows(messages: readonly Message[], options: RowOptions = {}, cache: RowCache = new RowCache()): Row[] {
  const rows: Row[] = options.atStart && messages.length > 0 ? [START_ROW] : [];
  // The local day the previous message fell in, as [start, end): messages come oldest first,
  // so a Date is made once per day rather than once per message (10,000 per rebuild).
  let dayStart = Number.POSITIVE_INFINITY;
  let dayEnd = Number.NEGATIVE_INFINITY;
  let previous: Message | undefined;
  for (const message of messages) {
    const at = message.sentAt;
    let continued = previous !== undefined && previous.direction === message.direction && at - previous.sentAt < GROUP_WINDOW_MS;
    if (at < dayStart || at >= dayEnd) {
      const d = new Date(at);
      const y = d.getFullYear();
      const m = d.getMonth();
      const day = d.getDate();
      dayStart = new Date(y, m, day).getTime();
      dayEnd = new Date(y, m, day + 1).getTime(); // not +24 h: days around a DST change differ
      rows.push(cache.dayRow(message, `day:${y}-${m + 1}-${day}`));
      continued = false;
    }
    if (message.id === options.newMarkerBefore) {
      rows.push(NEW_ROW);
      continued = false;
    }
    rows.push(cache.messageRow(message, continued));
    previous = message;
  }
  return rows;
}

/** Lines counted for an estimate; past this a message is tall enough to be measured anyway. */
const MAX_ESTIMATED_LINES = 400;

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
      // Called for every unmeasured row on each layout rebuild: count newlines without a regex.
      const body = row.message.body;
      let lines = Math.ceil(body.length / 45);
      for (let i = body.indexOf('\n'); i !== -1 && lines < MAX_ESTIMATED_LINES; i = body.indexOf('\n', i + 1)) lines++;
      return (row.continued ? 34 : 44) + Math.max(0, Math.min(MAX_ESTIMATED_LINES, lines) - 1) * 20;
    }
    default: {
      const unreachable: never = row;
      return unreachable;
    }
  }
}
