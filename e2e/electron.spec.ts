/**
 * The desktop app (project `electron`): the same first-contact story as two-peers.spec.ts, with
 * Alice in the Electron app (`_electron.launch`, IPC transport through the preload) and Bob in
 * Chromium on a headless peer. Where no Electron binary is installed every test here reports
 * itself skipped with the reason (fixtures/electron.ts).
 */
import {
  becomeContacts,
  chatHeader,
  deliveryState,
  expectDelivery,
  expectUnlockScreen,
  markVerified,
  messageRow,
  NETWORK_TIMEOUT_MS,
  openChat,
  openContact,
  readSafetyNumber,
  sendMessage,
  revealMessage,
  unlock,
  type Person,
} from './fixtures/app';
import { electronAvailability, launchDesktop, type DesktopApp } from './fixtures/electron';
import { foreignElements, LONG_WORD_MARKER, overflowFindings, overrideIsNeutralised, PAYLOADS } from './fixtures/hostile';
import { expect, passphraseFor, test } from './fixtures/test';

const electron = electronAvailability();

test.describe('desktop app', () => {
  test.skip(!electron.available, electron.available ? '' : electron.reason);

  let desktop: DesktopApp | undefined;
  test.afterEach(async () => {
    await desktop?.dispose();
    desktop = undefined;
  });

  test('desktop app and a headless peer: onboarding, request, safety numbers, delivered then read, quit and unlock', async ({ parley }, testInfo) => {
    if (!electron.available) return;
    desktop = await launchDesktop(electron.executablePath);
    const bob = await parley.launch('Bob');
    const alice: Person = { name: 'Alice', passphrase: passphraseFor('Alice'), page: desktop.page };

    await becomeContacts(alice, bob);
    await Promise.all([openContact(alice.page, 'Bob'), openContact(bob.page, 'Alice')]);
    expect(await readSafetyNumber(alice.page)).toBe(await readSafetyNumber(bob.page));
    await Promise.all([markVerified(alice.page), markVerified(bob.page)]);
    await alice.page.screenshot({ path: testInfo.outputPath('desktop-contact.png') });

    await alice.page.getByRole('button', { name: 'Open chat' }).click();
    const hello = await sendMessage(alice.page, 'Hello from the desktop');
    await expectDelivery(hello, 'Delivered');
    await expect(deliveryState(hello, 'Read')).toHaveCount(0);
    await openChat(bob.page, 'Alice');
    await expectDelivery(hello, 'Read');
    const reply = await sendMessage(bob.page, 'Hello from the browser');
    await expect(messageRow(alice.page, 'Hello from the browser')).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
    await expectDelivery(reply, 'Read');

    desktop = await desktop.relaunch();
    const again: Person = { ...alice, page: desktop.page };
    await expectUnlockScreen(again.page);
    await unlock(again);
    await openChat(again.page, 'Bob');
    await expect(chatHeader(again.page)).toContainText('Verified');
    for (const text of ['Hello from the desktop', 'Hello from the browser']) await expect(messageRow(again.page, text)).toBeVisible();
    await again.page.screenshot({ path: testInfo.outputPath('desktop-chat.png') });
  });

  test('hostile message text reaches the desktop app as text: nothing executes and the layout holds', async ({ parley }) => {
    if (!electron.available) return;
    desktop = await launchDesktop(electron.executablePath);
    const dialogs: string[] = [];
    desktop.page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss().catch(() => {});
    });
    const mallory = await parley.launch('Mallory');
    const alice: Person = { name: 'Alice', passphrase: passphraseFor('Alice'), page: desktop.page };
    await becomeContacts(mallory, alice);
    await Promise.all([openChat(mallory.page, 'Alice'), openChat(alice.page, 'Mallory')]);
    for (const { marker, body } of PAYLOADS) await sendMessage(mallory.page, body, marker);
    await expect(messageRow(alice.page, LONG_WORD_MARKER)).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });

    expect(await alice.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(await foreignElements(alice.page)).toEqual([]);
    await expect(await revealMessage(alice.page, 'p-script')).toContainText(`<script>window.__pwned = 'script'</script>`);
    await revealMessage(alice.page, 'p-bidi');
    expect(await overrideIsNeutralised(alice.page)).toBe(true);
    expect(await overflowFindings(alice.page)).toEqual([]);
    await revealMessage(alice.page, LONG_WORD_MARKER);
    expect(await overflowFindings(alice.page)).toEqual([]);
  });
});
