import { describe, expect, it } from 'vitest';
import { matchShortcut, type KeyLike } from './shortcuts';

const press = (key: string, mods: Partial<KeyLike> = {}): KeyLike => ({ key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });

describe('shortcuts', () => {
  it('uses Ctrl on Linux/Windows and ⌘ on macOS', () => {
    expect(matchShortcut(press('k', { ctrlKey: true }), false)).toBe('search');
    expect(matchShortcut(press('K', { ctrlKey: true }), false)).toBe('search');
    expect(matchShortcut(press('k', { metaKey: true }), false)).toBeUndefined();
    expect(matchShortcut(press('k', { metaKey: true }), true)).toBe('search');
    expect(matchShortcut(press('e', { ctrlKey: true }), false)).toBe('focus-composer');
  });

  it('moves between conversations with Alt and the arrows', () => {
    expect(matchShortcut(press('ArrowUp', { altKey: true }), false)).toBe('previous-conversation');
    expect(matchShortcut(press('ArrowDown', { altKey: true }), false)).toBe('next-conversation');
    expect(matchShortcut(press('ArrowDown', { altKey: true, shiftKey: true }), false)).toBe('next-unread');
    expect(matchShortcut(press('ArrowDown'), false)).toBeUndefined();
  });

  it('opens help with Ctrl+/ or F1 and switches screens with Alt+digit', () => {
    expect(matchShortcut(press('/', { ctrlKey: true }), false)).toBe('help');
    expect(matchShortcut(press('F1'), false)).toBe('help');
    expect(matchShortcut(press('3', { altKey: true }), false)).toBe('go-network');
  });

  it('leaves ordinary typing alone', () => {
    for (const key of ['k', 'e', '/', '1', 'Enter']) expect(matchShortcut(press(key), false)).toBeUndefined();
    expect(matchShortcut(press('k', { ctrlKey: true, shiftKey: true }), false)).toBeUndefined();
  });
});
