import { describe, expect, it } from 'vitest';
import { COMMANDS, COMMAND_NAMES, EVENTS, isCommandName, parseCommandArgs } from './api';
import { MAX_MESSAGE_BODY_CHARS } from './schemas';

const ID = '0123456789abcdef0123456789abcdef';

describe('api contract', () => {
  it('api - every command has request and response schemas and a dotted area.verb name', () => {
    expect(COMMAND_NAMES.length).toBeGreaterThan(20);
    for (const name of COMMAND_NAMES) {
      expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
      expect(COMMANDS[name].request).toBeDefined();
      expect(COMMANDS[name].response).toBeDefined();
    }
    for (const name of Object.keys(EVENTS)) expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
  });

  it('api - unknown commands are recognised as such, including inherited property names', () => {
    expect(isCommandName('messages.send')).toBe(true);
    for (const name of ['messages.delete', '__proto__', 'constructor', 'toString', '', 42, null]) {
      expect(isCommandName(name)).toBe(false);
    }
  });

  it('api - valid arguments pass and come back typed', () => {
    const parsed = parseCommandArgs('messages.send', { conversationId: ID, body: 'hello' });
    expect(parsed).toEqual({ ok: true, value: { conversationId: ID, body: 'hello' } });
    expect(parseCommandArgs('contacts.list', undefined)).toEqual({ ok: true, value: {} });
  });

  it('api - wrong types, missing fields, unknown fields and __proto__ keys are INVALID_ARGUMENT', () => {
    const bad: unknown[] = [
      null,
      'string',
      [],
      { conversationId: 42, body: 'x' },
      { conversationId: ID },
      { conversationId: ID, body: 'x', extra: true },
      JSON.parse(`{"conversationId":"${ID}","body":"x","__proto__":{"polluted":true}}`),
      { conversationId: 'not-hex', body: 'x' },
      { conversationId: ID, body: '   ' },
      { conversationId: ID, body: 'broken \ud83d paste' },
    ];
    for (const args of bad) {
      const parsed = parseCommandArgs('messages.send', args);
      expect(parsed.ok, JSON.stringify(args)).toBe(false);
      if (!parsed.ok) expect(parsed.error.code).toBe('INVALID_ARGUMENT');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A whole surrogate pair (an emoji) is a valid character, not a broken one.
    expect(parseCommandArgs('messages.send', { conversationId: ID, body: 'ok \ud83d\ude00' }).ok).toBe(true);
  });

  it('api - huge strings are refused before they reach the core, and the error does not echo them', () => {
    const huge = 'x'.repeat(MAX_MESSAGE_BODY_CHARS + 1);
    const parsed = parseCommandArgs('messages.send', { conversationId: ID, body: huge });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe('INVALID_ARGUMENT');
      expect(parsed.error.message.length).toBeLessThan(250);
    }
    expect(parseCommandArgs('identity.create', { displayName: 'n'.repeat(65) }).ok).toBe(false);
    expect(parseCommandArgs('identity.create', { displayName: 'bad\u0000name' }).ok).toBe(false);
    expect(parseCommandArgs('contacts.addFromInvite', { link: 'https://evil.example/' }).ok).toBe(false);
  });
});
