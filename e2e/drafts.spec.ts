/**
 * Drafts kept per conversation (issue 4), the way Signal Desktop keeps them: a half-typed
 * message stays with its conversation when the user switches away, the conversation list says
 * "Draft: …" for it, it is still there after the peer restarts and is unlocked again, and
 * sending it clears it. The draft lives only in the peer's encrypted store (the byte scan in
 * test/integration/process/chat.test.ts looks for a draft canary in the data folders).
 */
import type { Page } from '@playwright/test';
import { ApiClient } from './fixtures/api-client';
import {
  acceptRequest,
  becomeContacts,
  conversationItem,
  expectUnlockScreen,
  messageRow,
  nearbyRow,
  NETWORK_TIMEOUT_MS,
  onboard,
  openChat,
  requestContact,
  unlock,
} from './fixtures/app';
import { expect, test } from './fixtures/test';

const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });

/** The draft the core holds for the conversation with `title`, read through its own API. */
async function savedDraft(url: string, title: string): Promise<string | undefined> {
  const api = await ApiClient.connect(url);
  try {
    return (await api.call('conversations.list')).find((c) => c.title === title)?.draft;
  } finally {
    api.close();
  }
}

test('drafts: kept per conversation, shown as "Draft:" in the list, restored after a restart, cleared by sending', async ({ parley }) => {
  const [alice, bob, carol] = await Promise.all([parley.launch('Alice'), parley.launch('Bob'), parley.launch('Carol')]);

  await test.step('Alice has two conversations: Bob and Carol', async () => {
    await becomeContacts(alice, bob);
    await onboard(carol);
    await nearbyRow(carol.page, 'Alice');
    await requestContact(carol, 'Alice');
    await acceptRequest(alice, 'Carol');
    await expect(conversationItem(alice.page, 'Carol')).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
  });

  await test.step('a two-line draft for Bob is saved while Alice pauses typing, without sending', async () => {
    await openChat(alice.page, 'Bob');
    const field = composer(alice.page);
    await field.pressSequentially('Half a thought for Bob');
    await field.press('Shift+Enter');
    await field.pressSequentially('and a second line');
    await expect(field).toHaveValue('Half a thought for Bob\nand a second line');
    // Shift+Enter made a line, not a message; the open conversation shows no "Draft:" for itself.
    await expect(messageRow(alice.page, 'Half a thought')).toHaveCount(0);
    await expect(conversationItem(alice.page, 'Bob')).not.toContainText('Draft:');
    // The pause in typing saved it in the core (no switch needed).
    await expect.poll(() => savedDraft(alice.peer.url, 'Bob')).toBe('Half a thought for Bob\nand a second line');
  });

  await test.step('switching to Carol: the list shows "Draft: …" for Bob; Carol has her own (empty) composer', async () => {
    await openChat(alice.page, 'Carol');
    await expect(composer(alice.page)).toHaveValue('');
    const bobRow = conversationItem(alice.page, 'Bob');
    await expect(bobRow).toContainText('Draft:');
    await expect(bobRow).toContainText('Half a thought for Bob');
    await expect(conversationItem(alice.page, 'Carol')).not.toContainText('Draft:');
    // A draft for Carol, saved at once by leaving her conversation (before any pause in typing).
    await composer(alice.page).fill('Carol, about Saturday');
    await openChat(alice.page, 'Bob');
    await expect(composer(alice.page)).toHaveValue('Half a thought for Bob\nand a second line');
    await expect(conversationItem(alice.page, 'Carol')).toContainText('Draft: Carol, about Saturday');
    await expect.poll(() => savedDraft(alice.peer.url, 'Carol')).toBe('Carol, about Saturday');
  });

  await test.step('Alice restarts her peer and unlocks: both drafts are back, in the list and in the composer', async () => {
    await alice.peer.stop('SIGTERM');
    await alice.peer.start();
    await parley.reopen(alice);
    await expectUnlockScreen(alice.page);
    await unlock(alice);
    await expect(conversationItem(alice.page, 'Bob')).toContainText('Draft: Half a thought for Bob');
    await expect(conversationItem(alice.page, 'Carol')).toContainText('Draft: Carol, about Saturday');
    await openChat(alice.page, 'Bob');
    await expect(composer(alice.page)).toHaveValue('Half a thought for Bob\nand a second line');
    await parley.screenshot(alice, 'draft-restored');
  });

  await test.step('Enter sends the draft: the composer empties and the draft is gone, in the list and in the core', async () => {
    const field = composer(alice.page);
    await field.press('Enter');
    await expect(field).toHaveValue('');
    await expect(messageRow(alice.page, 'and a second line')).toBeVisible();
    await openChat(alice.page, 'Carol');
    const bobRow = conversationItem(alice.page, 'Bob');
    await expect(bobRow).not.toContainText('Draft:');
    await expect(bobRow).toContainText('and a second line');
    expect(await savedDraft(alice.peer.url, 'Bob')).toBeUndefined();
    // A fresh page loads the list from the core: still no draft for Bob, Carol's still there.
    await parley.reopen(alice);
    await openChat(alice.page, 'Bob');
    await expect(composer(alice.page)).toHaveValue('');
    await expect(conversationItem(alice.page, 'Carol')).toContainText('Draft: Carol, about Saturday');
    await openChat(alice.page, 'Carol');
    await expect(composer(alice.page)).toHaveValue('Carol, about Saturday');
    await expect(conversationItem(alice.page, 'Bob')).not.toContainText('Draft:');
    // And Bob gets the message that was a draft.
    await openChat(bob.page, 'Alice');
    await expect(messageRow(bob.page, 'and a second line')).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
  });
});
