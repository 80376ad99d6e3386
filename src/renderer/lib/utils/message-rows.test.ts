import { describe, expect, it } from 'vitest';
import type { Message } from '../../../shared';
import { buildRows, dayKey, estimateRowHeight, RowCache } from './message-rows';

const id = (n: number) => n.toString(16).padStart(32, '0');
function msg(n: number, at: Date, direction: 'in' | 'out' = 'in'): Message {
  return { id: id(n), conversationId: id(999), direction, body: `m${n}`, sentAt: at.getTime(), state: 'delivered' };
}

describe('message rows', () => {
  it('puts a day separator before the first message of each local day', () => {
    const rows = buildRows([
      msg(1, new Date(2025, 2, 14, 9, 0)),
      msg(2, new Date(2025, 2, 14, 23, 59)),
      msg(3, new Date(2025, 2, 15, 0, 0)),
      msg(4, new Date(2025, 3, 1, 12, 0)),
    ]);
    expect(rows.map((r) => (r.kind === 'message' ? r.message.body : r.key))).toEqual([
      'day:2025-3-14',
      'm1',
      'm2',
      'day:2025-3-15',
      'm3',
      'day:2025-4-1',
      'm4',
    ]);
  });

  it('gives every row a unique key', () => {
    const rows = buildRows(Array.from({ length: 500 }, (_, i) => msg(i, new Date(2025, 0, 1 + Math.floor(i / 50)))));
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('inserts the new-messages marker before the first unseen message only', () => {
    const messages = [1, 2, 3].map((n) => msg(n, new Date(2025, 0, 1, 10, n)));
    const rows = buildRows(messages, { newMarkerBefore: id(2) });
    expect(rows.map((r) => r.key)).toEqual(['day:2025-1-1', id(1), 'new-marker', id(2), id(3)]);
    expect(buildRows(messages, { newMarkerBefore: id(77) }).some((r) => r.kind === 'new')).toBe(false);
  });

  it('opens with a beginning-of-history row once everything is loaded', () => {
    const messages = [msg(1, new Date(2025, 0, 1, 10, 0))];
    expect(buildRows(messages, { atStart: true })[0]).toEqual({ kind: 'start', key: 'start' });
    expect(buildRows(messages)[0]!.kind).toBe('day');
    expect(buildRows([], { atStart: true })).toEqual([]);
  });

  it('groups consecutive messages of one sender within five minutes', () => {
    const rows = buildRows([
      msg(1, new Date(2025, 0, 1, 10, 0), 'in'),
      msg(2, new Date(2025, 0, 1, 10, 1), 'in'),
      msg(3, new Date(2025, 0, 1, 10, 2), 'out'),
      msg(4, new Date(2025, 0, 1, 10, 30), 'out'),
    ]);
    expect(rows.filter((r) => r.kind === 'message').map((r) => (r.kind === 'message' ? r.continued : null))).toEqual([false, true, false, false]);
  });

  it('gives unchanged messages their previous row objects back, and changed ones new rows', () => {
    const cache = new RowCache();
    const older = msg(1, new Date(2025, 0, 1, 9, 0));
    const messages = [2, 3, 4].map((n) => msg(n, new Date(2025, 0, 1, 10, n)));
    const first = buildRows(messages, {}, cache);
    const delivered = { ...messages[2]!, state: 'read' as const };
    const second = buildRows([older, messages[0]!, messages[1]!, delivered], {}, cache);
    // A page of older messages arrived and the newest message was read.
    expect(second.map((r) => r.key)).toEqual(['day:2025-1-1', id(1), id(2), id(3), id(4)]);
    expect(second[2]).toBe(first[1]);
    expect(second[3]).toBe(first[2]);
    expect(second[4]).not.toBe(first[3]);
    expect(second[4]).toEqual({ ...first[3], message: delivered });
    // The day now starts at the older message: same key, new time, a new row.
    expect(second[0]).toEqual({ kind: 'day', key: 'day:2025-1-1', at: older.sentAt });
    // A message whose grouping changed gets a new row too.
    const regrouped = buildRows([messages[1]!], {}, cache)[1]!;
    expect(regrouped).not.toBe(first[2]);
    expect(regrouped).toMatchObject({ key: id(3), continued: false });
  });

  it('splits days at local midnight across a month end and a leap day', () => {
    const keys = buildRows([
      msg(1, new Date(2024, 1, 28, 23, 59, 59, 999)),
      msg(2, new Date(2024, 1, 29, 0, 0)),
      msg(3, new Date(2024, 1, 29, 23, 59)),
      msg(4, new Date(2024, 2, 1, 0, 0)),
    ])
      .filter((r) => r.kind === 'day')
      .map((r) => r.key);
    expect(keys).toEqual(['day:2024-2-28', 'day:2024-2-29', 'day:2024-3-1']);
  });

  it('estimates taller rows for longer text', () => {
    const [, short] = buildRows([msg(1, new Date(2025, 0, 1))]);
    const long = buildRows([{ ...msg(2, new Date(2025, 0, 1)), body: 'x'.repeat(2000) }])[1]!;
    expect(estimateRowHeight(long)).toBeGreaterThan(estimateRowHeight(short!));
    const lines = (n: number) => estimateRowHeight(buildRows([{ ...msg(3, new Date(2025, 0, 1)), body: 'x\n'.repeat(n) }])[1]!);
    expect(lines(3)).toBe(lines(2) + 20);
    expect(lines(5000)).toBe(lines(400));
    expect(dayKey(new Date(2024, 11, 31, 23, 0).getTime())).toBe('2024-12-31');
  });
});
