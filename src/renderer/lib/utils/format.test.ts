import { describe, expect, it } from 'vitest';
import { formatDay, safetyNumberGroups, shortPeerId } from './format';

describe('format', () => {
  it('splits the 60-digit safety number into 12 groups of 5', () => {
    const digits = '012345678901234567890123456789012345678901234567890123456789';
    const groups = safetyNumberGroups(digits);
    expect(groups).toHaveLength(12);
    expect(groups.every((g) => g.length === 5)).toBe(true);
    expect(groups.join('')).toBe(digits);
  });

  it('labels today and yesterday by name', () => {
    const now = new Date(2025, 5, 10, 12, 0).getTime();
    expect(formatDay(new Date(2025, 5, 10, 0, 1).getTime(), now)).toBe('Today');
    expect(formatDay(new Date(2025, 5, 9, 23, 59).getTime(), now)).toBe('Yesterday');
    expect(formatDay(new Date(2024, 5, 9).getTime(), now)).toMatch(/2024/);
  });

  it('shortens long peer ids', () => {
    expect(shortPeerId('12D3KooWAbcdefghijklmnopqrstuvwxyz123456')).toBe('12D3KooW…123456');
    expect(shortPeerId('short')).toBe('short');
  });
});
