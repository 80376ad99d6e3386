/**
 * Two people, two real headless peers, two Chromium pages (issue 4, "End-to-end tests"): the
 * whole first-contact story through the UI, waiting at every step for what the screen shows
 * (Signal Desktop's style: named milestones, never sleeps). A third peer that reinstalls
 * Parley — same device, new identity key — must stop the conversation with the key-change notice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  becomeContacts,
  chatHeader,
  contactButton,
  conversationItem,
  deliveryState,
  expectDelivery,
  expectUnlockScreen,
  goTo,
  markVerified,
  messageRow,
  NETWORK_TIMEOUT_MS,
  nearbyRow,
  openChat,
  openContact,
  readSafetyNumber,
  requestContact,
  sendMessage,
  submitPassphrase,
  unlock,
} from './fixtures/app';
import { reinstallWithSameDevice } from './fixtures/reinstall';
import { expect, test } from './fixtures/test';

test('two peers: onboarding, nearby, request, safety numbers, delivered then read both ways, restart and unlock', async ({ parley }, testInfo) => {
  const [alice, bob] = await Promise.all([parley.launch('Alice'), parley.launch('Bob')]);

  await test.step('onboarding on both, each sees the other under Nearby, request and accept', async () => {
    await expect(alice.page.getByRole('heading', { name: 'Welcome to Parley' })).toBeVisible();
    await parley.screenshot(alice, 'onboarding');
    await becomeContacts(alice, bob, () => parley.screenshot(bob, 'request-incoming-bob'));
    await nearbyRow(alice.page, 'Bob');
    await parley.screenshot(alice, 'people-nearby-alice');
  });

  await test.step('the safety numbers on both pages are equal; both mark each other verified', async () => {
    await Promise.all([openContact(alice.page, 'Bob'), openContact(bob.page, 'Alice')]);
    const [seenByAlice, seenByBob] = await Promise.all([readSafetyNumber(alice.page), readSafetyNumber(bob.page)]);
    expect(seenByAlice).toBe(seenByBob);
    await parley.screenshot(alice, 'contact-safety-number');
    await Promise.all([markVerified(alice.page), markVerified(bob.page)]);
  });

  await test.step('Alice → Bob: delivered while Bob looks elsewhere, read once he opens the chat', async () => {
    // Bob stays on Alice's contact page: the message reaches his peer but nobody reads it.
    await alice.page.getByRole('button', { name: 'Open chat' }).click();
    await expect(chatHeader(alice.page)).toContainText('Verified');
    const row = await sendMessage(alice.page, 'Hello Bob, it is Alice');
    await expectDelivery(row, 'Delivered');
    await expect(deliveryState(row, 'Read')).toHaveCount(0);
    await row.screenshot({ path: testInfo.outputPath('message-delivered.png') });
    await expect(conversationItem(bob.page, 'Alice')).toContainText(/\b1\s*unread/, { timeout: NETWORK_TIMEOUT_MS });
    await openChat(bob.page, 'Alice');
    await expect(messageRow(bob.page, 'Hello Bob, it is Alice')).toBeVisible();
    await expectDelivery(row, 'Read');
    await row.screenshot({ path: testInfo.outputPath('message-read.png') });
  });

  await test.step('Bob → Alice: delivered while Alice is on another screen, then read', async () => {
    await goTo(alice.page, 'People');
    const row = await sendMessage(bob.page, 'Hi Alice! Safety numbers match.');
    await expectDelivery(row, 'Delivered');
    await expect(deliveryState(row, 'Read')).toHaveCount(0);
    await openChat(alice.page, 'Bob');
    await expect(messageRow(alice.page, 'Hi Alice! Safety numbers match.')).toBeVisible();
    await expectDelivery(row, 'Read');
    await parley.screenshot(alice, 'chat-alice');
  });

  await test.step('Bob quits; Alice writes meanwhile; Bob restarts and unlocks in the UI', async () => {
    await bob.peer.stop('SIGTERM');
    await expect(chatHeader(alice.page)).toContainText('Offline', { timeout: NETWORK_TIMEOUT_MS });
    const meanwhile = await sendMessage(alice.page, 'Sent while you were away');
    await expectDelivery(meanwhile, 'Pending');

    await bob.peer.start();
    await parley.reopen(bob);
    await expectUnlockScreen(bob.page);
    await submitPassphrase(bob.page, 'not the passphrase');
    await expect(bob.page.getByRole('alert')).toContainText('That passphrase is not right');
    await parley.screenshot(bob, 'unlock-wrong-passphrase');
    await unlock(bob);

    // History is intact, and what was sent meanwhile arrives.
    await expect(conversationItem(bob.page, 'Alice')).toBeVisible();
    await openChat(bob.page, 'Alice');
    for (const text of ['Hello Bob, it is Alice', 'Hi Alice! Safety numbers match.']) await expect(messageRow(bob.page, text)).toBeVisible();
    await expect(messageRow(bob.page, 'Sent while you were away')).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
    await expectDelivery(meanwhile, 'Read');
    await expect(chatHeader(bob.page)).toContainText('Verified');

    // The sessions carry on after the restart, both ways.
    const reply = await sendMessage(bob.page, 'Back again');
    await expect(messageRow(alice.page, 'Back again')).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
    await expectDelivery(reply, 'Read');
    await parley.screenshot(bob, 'chat-bob-after-restart');
  });
});

test('a contact who reinstalls (same device, new identity key) triggers the blocking key-change notice', async ({ parley }) => {
  const [alice, carol] = await Promise.all([parley.launch('Alice'), parley.launch('Carol')]);
  await becomeContacts(carol, alice);
  await openChat(alice.page, 'Carol');
  await expect(chatHeader(alice.page)).toContainText('Not verified');

  await test.step('Carol reinstalls: a new identity on the same device key (same PeerId)', async () => {
    await carol.peer.stop('SIGTERM');
    const fresh = mkdtempSync(path.join(tmpdir(), 'parley-e2e-carol-reinstalled-'));
    await reinstallWithSameDevice({ from: carol.peer.dir, to: fresh, passphrase: carol.passphrase, displayName: 'Carol' });
    carol.peer.useDataFolder(fresh);
    await carol.peer.start();
    await parley.reopen(carol);
    await expectUnlockScreen(carol.page);
    await unlock(carol);
    // The reinstalled Carol knows nobody; she finds Alice nearby and asks again.
    await expect(contactButton(carol.page, 'Alice')).toHaveCount(0);
    await requestContact(carol, 'Alice');
  });

  await test.step('Alice sees the notice; sending is blocked until she accepts the new safety number', async () => {
    const notice = alice.page.getByRole('alert').filter({ hasText: 'safety number has changed' });
    await expect(notice).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
    await expect(notice).toContainText('Carol’s safety number has changed');
    await expect(chatHeader(alice.page)).toContainText('Safety number changed');
    await expect(alice.page.getByRole('textbox', { name: 'Message' })).toBeDisabled();
    await expect(alice.page.getByText('Accept the new safety number above to send messages.')).toBeVisible();
    await parley.screenshot(alice, 'key-change-notice');

    await notice.getByRole('button', { name: 'Accept new safety number' }).click();
    await expect(notice).toHaveCount(0);
    await expect(alice.page.getByRole('textbox', { name: 'Message' })).toBeEnabled();
  });

  await test.step('after accepting, Alice and the reinstalled Carol talk again', async () => {
    // Accepting re-introduces Alice to the new identity, which answers Carol's pending request.
    await expect(conversationItem(carol.page, 'Alice')).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
    const welcome = await sendMessage(alice.page, 'Welcome back, Carol');
    await openChat(carol.page, 'Alice');
    await expect(messageRow(carol.page, 'Welcome back, Carol')).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
    await expectDelivery(welcome, 'Read');
  });
});
