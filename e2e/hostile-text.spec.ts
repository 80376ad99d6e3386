/**
 * Hostile message text from one real peer to another (issue 4: "text from peers is rendered as
 * text, links only as explicit, confirmed https: links; long words and right-to-left override
 * characters do not break the layout"). Every payload travels the whole way — composer, core,
 * ratchet, libp2p, the other core, the other UI — and is then checked on both pages:
 *
 * - nothing executes: `window.__pwned` stays unset, no JavaScript dialog opens;
 * - nothing from the payload becomes markup: inside a message's text the only elements are
 *   `https:` links, and the CSP never had to block anything (a violation would mean markup
 *   reached the DOM and only the CSP stopped it);
 * - the layout holds: no horizontal overflow of the page, the history or any bubble; the
 *   composer stays on screen; a bidi override shows its characters in logical order.
 *
 * The issue asks for "100 KB words". The API caps a message at 20,000 UTF-16 units
 * (MAX_MESSAGE_BODY_CHARS, src/shared/schemas.ts), so the longest word that can arrive from a
 * peer is 20,000 characters: that is what is sent. A 100,000-character word is typed into the
 * composer too, where the UI must refuse it (counter and a disabled Send) rather than send it.
 */
import { MAX_MESSAGE_BODY_CHARS } from '../src/shared';
import { becomeContacts, messageRow, NETWORK_TIMEOUT_MS, openChat, revealMessage, sendMessage } from './fixtures/app';
import { foreignElements, LONG_WORD_MARKER, LONGEST_WORD, overflowFindings, overrideIsNeutralised, PAYLOADS, RLO } from './fixtures/hostile';
import { cspViolations, expect, test, type Side } from './fixtures/test';

async function expectNothingRan(side: Side): Promise<void> {
  expect(await side.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), `${side.name}: window.__pwned`).toBeUndefined();
  expect(side.dialogs, `${side.name}: JavaScript dialogs`).toEqual([]);
  expect(await foreignElements(side.page), `${side.name}: elements from payloads`).toEqual([]);
  expect(await cspViolations(side.page), `${side.name}: CSP violations`).toEqual([]);
}

test('hostile message text is shown as text: nothing executes and the layout holds', async ({ parley }) => {
  const [mallory, bob] = await Promise.all([parley.launch('Mallory'), parley.launch('Bob')]);
  await becomeContacts(mallory, bob);
  await Promise.all([openChat(mallory.page, 'Bob'), openChat(bob.page, 'Mallory')]);

  await test.step('every payload goes from Mallory to Bob and arrives as its literal text', async () => {
    for (const { marker, body } of PAYLOADS) await sendMessage(mallory.page, body, marker);
    // Bob has the chat open at the bottom: the last one in view means all arrived.
    await expect(messageRow(bob.page, LONG_WORD_MARKER)).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
    for (const side of [bob, mallory]) {
      await expect(await revealMessage(side.page, 'p-script')).toContainText(`<script>window.__pwned = 'script'</script>`);
      await expect(await revealMessage(side.page, 'p-img')).toContainText(`<img src=x onerror="window.__pwned = 'img'; alert('img')">`);
      await expect(await revealMessage(side.page, 'p-entities')).toContainText('&lt;b&gt;bold?&lt;/b&gt; &#60;script&#62; &amp;');
    }
    // Compared here, not by toContainText: a failure message must not print 20,000 characters.
    expect((await messageRow(bob.page, LONG_WORD_MARKER).locator('.text').textContent()) === LONGEST_WORD, 'the long word arrives whole').toBe(true);
  });

  await test.step('nothing executed, no markup from the payloads, on either side', async () => {
    for (const side of [bob, mallory]) await expectNothingRan(side);
  });

  await test.step('only the plain https: link is a link, and it asks before opening', async () => {
    const links = (await revealMessage(bob.page, 'p-links')).getByRole('link');
    await expect(links).toHaveCount(1);
    await expect(links).toHaveAttribute('href', 'https://example.org/ok');
    await expect((await revealMessage(bob.page, 'p-jslink')).getByRole('link')).toHaveCount(0);
    const pages = bob.context.pages().length;
    await links.click();
    const confirm = bob.page.getByRole('dialog', { name: 'Open this link?' });
    await expect(confirm).toContainText('example.org');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toHaveCount(0);
    expect(bob.context.pages()).toHaveLength(pages);
  });

  await test.step('bidi overrides are neutralised and the layout holds on both sides', async () => {
    const bidi = await revealMessage(bob.page, 'p-bidi');
    expect.soft(await bidi.locator('.text').textContent(), 'override characters are dropped for display').not.toContain(RLO);
    expect(await overrideIsNeutralised(bob.page), 'the override characters are drawn in logical order').toBe(true);
    for (const side of [bob, mallory]) {
      for (const marker of ['p-bidi', LONG_WORD_MARKER]) {
        await revealMessage(side.page, marker);
        expect(await overflowFindings(side.page), `${side.name}, around ${marker.slice(0, 12)}`).toEqual([]);
      }
    }
    await revealMessage(bob.page, LONG_WORD_MARKER);
    await parley.screenshot(bob, 'hostile-long-word');
    await revealMessage(bob.page, 'p-script');
    await parley.screenshot(bob, 'hostile-markup');
  });

  await test.step('a 100,000-character word cannot be sent: the composer counts and refuses', async () => {
    const composer = mallory.page.getByRole('textbox', { name: 'Message' });
    const hundredK = 'X'.repeat(100_000);
    await composer.fill(hundredK);
    await expect(composer).toHaveAttribute('aria-invalid', 'true');
    await expect(mallory.page.getByRole('button', { name: 'Send message' })).toBeDisabled();
    await expect(mallory.page.getByText(`${(100_000).toLocaleString('en-US')} / ${MAX_MESSAGE_BODY_CHARS.toLocaleString('en-US')}`)).toBeVisible();
    await composer.press('Enter');
    expect((await composer.inputValue()) === hundredK, 'the text stays in the composer, unsent').toBe(true);
    expect(await overflowFindings(mallory.page)).toEqual([]);
  });
});

/**
 * The API and composer accept 20,000 UTF-16 units (MAX_MESSAGE_BODY_CHARS); in three-byte
 * characters (CJK, for example) that is 60,000 bytes of UTF-8, which the store and the
 * envelope must carry end to end (this once failed at the store's old 32 KiB limit).
 */
test('the longest message in three-byte characters (20,000 × 漢) is delivered', async ({ parley }) => {
  const [alice, bob] = await Promise.all([parley.launch('Alice'), parley.launch('Bob')]);
  await becomeContacts(alice, bob);
  await Promise.all([openChat(alice.page, 'Bob'), openChat(bob.page, 'Alice')]);
  const composer = alice.page.getByRole('textbox', { name: 'Message' });
  await composer.fill('漢'.repeat(MAX_MESSAGE_BODY_CHARS));
  await composer.press('Enter');
  // Whichever comes first: the message in Alice's history, or the refusal notice.
  const sent = messageRow(alice.page, '漢'.repeat(40));
  const refused = alice.page.getByText('Not sent:');
  await expect(sent.or(refused).first()).toBeVisible();
  expect(await refused.count(), 'Alice sees "Not sent"').toBe(0);
  await expect(messageRow(bob.page, '漢'.repeat(40))).toBeVisible({ timeout: NETWORK_TIMEOUT_MS });
});
