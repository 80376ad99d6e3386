import { describe, expect, it } from 'vitest';
import {
  anchoredScrollTop,
  bottomScrollTop,
  computeOffsets,
  indexAt,
  resumOffsets,
  isAtBottom,
  takeAnchor,
  totalHeight,
  visibleRange,
} from './virtual-layout';

const heights = [10, 20, 30, 40];

describe('virtual-layout', () => {
  it('computeOffsets - builds prefix sums with the total at the end', () => {
    expect([...computeOffsets(4, (i) => heights[i]!)]).toEqual([0, 10, 30, 60, 100]);
    expect(totalHeight(computeOffsets(0, () => 5))).toBe(0);
  });

  it('computeOffsets - treats a negative height as zero', () => {
    expect([...computeOffsets(2, (i) => (i === 0 ? -5 : 7))]).toEqual([0, 0, 7]);
  });

  it('resumOffsets - equals a full rebuild after heights change from an index on', () => {
    const sizes = Float64Array.from({ length: 500 }, (_, i) => 20 + (i % 9));
    const offsets = computeOffsets(sizes.length, (i) => sizes[i]!);
    sizes[300] = 140;
    sizes[420] = 3;
    resumOffsets(offsets, sizes, 300);
    expect([...offsets]).toEqual([...computeOffsets(sizes.length, (i) => sizes[i]!)]);
    expect(() => resumOffsets(offsets, [1, 2], 0)).toThrow(RangeError);
  });

  it('indexAt - finds the row containing a y coordinate, clamped to the rows', () => {
    const offsets = computeOffsets(4, (i) => heights[i]!);
    expect(indexAt(offsets, -3)).toBe(0);
    expect(indexAt(offsets, 0)).toBe(0);
    expect(indexAt(offsets, 9.9)).toBe(0);
    expect(indexAt(offsets, 10)).toBe(1);
    expect(indexAt(offsets, 59)).toBe(2);
    expect(indexAt(offsets, 60)).toBe(3);
    expect(indexAt(offsets, 5000)).toBe(3);
  });

  it('visibleRange - covers the viewport plus overscan and nothing more', () => {
    const offsets = computeOffsets(1000, () => 50);
    expect(visibleRange(offsets, 5000, 500, 0)).toEqual({ start: 100, end: 111 });
    expect(visibleRange(offsets, 5000, 500, 100)).toEqual({ start: 98, end: 113 });
    expect(visibleRange(offsets, 0, 500, 100)).toEqual({ start: 0, end: 13 });
    expect(visibleRange(offsets, 49_800, 500, 100)).toEqual({ start: 994, end: 1000 });
    expect(visibleRange(computeOffsets(0, () => 1), 0, 500, 100)).toEqual({ start: 0, end: 0 });
  });

  it('visibleRange - stays small for 10,000 rows of mixed heights', () => {
    const offsets = computeOffsets(10_000, (i) => (i % 7 === 0 ? 200 : 40));
    const { start, end } = visibleRange(offsets, totalHeight(offsets) / 2, 800, 600);
    expect(end - start).toBeLessThan(60);
    expect(offsets[start]!).toBeLessThanOrEqual(totalHeight(offsets) / 2 - 600);
    expect(offsets[end]!).toBeGreaterThanOrEqual(totalHeight(offsets) / 2 + 800 + 600);
  });

  it('anchor - keeps the first visible row in place when older rows are prepended', () => {
    const keys = ['a', 'b', 'c', 'd'];
    const before = computeOffsets(4, (i) => heights[i]!);
    const anchor = takeAnchor(before, (i) => keys[i]!, 35)!;
    expect(anchor).toEqual({ key: 'c', delta: -5 });
    const after = ['x', 'y', ...keys];
    const afterHeights = [100, 200, ...heights];
    const offsets = computeOffsets(6, (i) => afterHeights[i]!);
    const top = anchoredScrollTop(offsets, (k) => after.indexOf(k), anchor);
    expect(top).toBe(335);
  });

  it('anchor - follows a re-measured row above the viewport', () => {
    const keys = ['a', 'b', 'c'];
    const anchor = takeAnchor(computeOffsets(3, () => 50), (i) => keys[i]!, 120)!;
    const remeasured = computeOffsets(3, (i) => (i === 0 ? 80 : 50));
    expect(anchoredScrollTop(remeasured, (k) => keys.indexOf(k), anchor)).toBe(150);
    expect(anchoredScrollTop(remeasured, () => undefined, anchor)).toBeUndefined();
  });

  it('bottom - scrolls to the end and detects being there', () => {
    const offsets = computeOffsets(4, (i) => heights[i]!);
    expect(bottomScrollTop(offsets, 30)).toBe(70);
    expect(bottomScrollTop(offsets, 300)).toBe(0);
    expect(isAtBottom(70, 30, 100)).toBe(true);
    expect(isAtBottom(0, 30, 100, 10)).toBe(false);
  });
});
