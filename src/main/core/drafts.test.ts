import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BODY_CHARS, type CoreApi, type Result } from '../../shared';
import { openStore } from '../store';
import { addContactWithDevice, fastTestWrapper, makeTestStore, type TestStore } from '../store/store.test-util';
import { startCore } from './core';
import { dispatchCommand } from './dispatch';
import { clearDraft, draftField, saveDraft } from './drafts';
import { toApiId } from './ids';

let t: TestStore;
let conversationRowId: number;
let conversationId: string;

beforeEach(async () => {
  t = await makeTestStore();
  conversationRowId = addContactWithDevice(t.store).conversation.id;
  conversationId = toApiId(conversationRowId);
});

afterEach(() => t.cleanup());

const stored = (): string | undefined => t.store.conversations.get(conversationRowId)?.draft;

/** The command as core.ts wires it, behind the real dispatcher (validation, typed errors). */
function dispatch(args: unknown): Promise<Result<unknown>> {
  const api = {
    'drafts.set': async ({ conversationId: id, text }: { conversationId: string; text: string }) => {
      saveDraft(t.store, id, text);
      return {};
    },
  } as unknown as CoreApi;
  return dispatchCommand(api, 'drafts.set', args, (_command, error) => {
    throw error;
  });
}

describe('drafts', () => {
  it('drafts - a saved draft is read back, replaced, and cleared by empty or blank text', () => {
    saveDraft(t.store, conversationId, 'half a thou');
    expect(stored()).toBe('half a thou');
    saveDraft(t.store, conversationId, 'half a thought\nwith a second line');
    expect(stored()).toBe('half a thought\nwith a second line');
    saveDraft(t.store, conversationId, '  \n ');
    expect(stored()).toBeUndefined();
    saveDraft(t.store, conversationId, 'again');
    saveDraft(t.store, conversationId, '');
    expect(stored()).toBeUndefined();
  });

  it('drafts - a draft survives closing and reopening the store', async () => {
    saveDraft(t.store, conversationId, 'still here after a restart');
    t.store.close();
    const reopened = await openStore(t.dir, fastTestWrapper());
    try {
      expect(reopened.conversations.get(conversationRowId)?.draft).toBe('still here after a restart');
      expect(reopened.conversations.list().find((c) => c.id === conversationRowId)?.draft).toBe('still here after a restart');
    } finally {
      reopened.close();
    }
  });

  it('drafts - a clear rolled back with its transaction (a failed send) keeps the draft', () => {
    saveDraft(t.store, conversationId, 'not sent yet');
    expect(() =>
      t.store.transaction(() => {
        clearDraft(t.store, conversationRowId);
        throw new Error('send failed');
      }),
    ).toThrow('send failed');
    expect(stored()).toBe('not sent yet');
    t.store.transaction(() => clearDraft(t.store, conversationRowId));
    expect(stored()).toBeUndefined();
  });

  it('drafts - removing the contact removes the conversation and its draft', () => {
    const contactId = t.store.conversations.get(conversationRowId)?.contactId ?? 0;
    saveDraft(t.store, conversationId, 'to someone who goes away');
    expect(t.store.contacts.remove(contactId)).toBe(true);
    expect(t.store.conversations.get(conversationRowId)).toBeUndefined();
    expect(() => saveDraft(t.store, conversationId, 'x')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('drafts - a conversation of a contact request not yet accepted has no draft (NOT_FOUND)', () => {
    const contact = t.store.contacts.add({ identityKey: new Uint8Array(32).fill(7), displayName: 'Stranger', requestState: 'incoming' });
    const hidden = toApiId(t.store.conversations.getOrCreate(contact.id).id);
    expect(() => saveDraft(t.store, hidden, 'hello?')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('drafts - the DTO field carries a draft whole, and leaves out one beyond the contract bound', () => {
    expect(draftField(undefined)).toEqual({});
    expect(draftField('x'.repeat(MAX_MESSAGE_BODY_CHARS))).toEqual({ draft: 'x'.repeat(MAX_MESSAGE_BODY_CHARS) });
    expect(draftField('x'.repeat(MAX_MESSAGE_BODY_CHARS + 1))).toEqual({});
  });
});

describe('drafts.set through the dispatcher', () => {
  it('drafts.set - saves, and the longest draft the contract allows fits the store (3-byte characters)', async () => {
    expect(await dispatch({ conversationId, text: 'typed, not sent' })).toEqual({ ok: true, value: {} });
    expect(stored()).toBe('typed, not sent');
    const longest = '€'.repeat(MAX_MESSAGE_BODY_CHARS);
    expect(await dispatch({ conversationId, text: longest })).toEqual({ ok: true, value: {} });
    expect(stored()).toBe(longest);
  });

  it('drafts.set - wrong types, missing or unknown fields, too long, broken text are INVALID_ARGUMENT and change nothing', async () => {
    saveDraft(t.store, conversationId, 'keep me');
    const bad: unknown[] = [
      null,
      'text',
      { conversationId, text: 42 },
      { conversationId: 42, text: 'x' },
      { conversationId: 'not-an-id', text: 'x' },
      { conversationId },
      { text: 'x' },
      { conversationId, text: 'x', extra: true },
      { conversationId, text: 'x'.repeat(MAX_MESSAGE_BODY_CHARS + 1) },
      { conversationId, text: 'half a pair \ud83d' },
    ];
    for (const args of bad) {
      const result = await dispatch(args);
      expect(result.ok, JSON.stringify(args).slice(0, 80)).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('INVALID_ARGUMENT');
        expect(result.error.message).not.toContain('xxxx');
      }
    }
    expect(stored()).toBe('keep me');
  });

  it('drafts.set - an unknown conversation is NOT_FOUND', async () => {
    const result = await dispatch({ conversationId: toApiId(conversationRowId + 1000), text: 'to nobody' });
    expect(result).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'no such conversation' } });
  });

  it('drafts.set - before an identity exists the real core answers NO_IDENTITY', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-drafts-core-'));
    const log = { info: () => {}, warn: () => {}, error: () => {} };
    const core = await startCore({ dataDir: dir, listen: [], lan: false, log });
    try {
      const result = await dispatchCommand(core.api, 'drafts.set', { conversationId, text: 'early' });
      expect(result).toMatchObject({ ok: false, error: { code: 'NO_IDENTITY' } });
    } finally {
      await core.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
