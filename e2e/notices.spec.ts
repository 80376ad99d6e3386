/**
 * Toasts (notices) never cover the composer or what is being typed: they stack inside the
 * top right of the conversation history, are announced politely, and Escape dismisses them
 * with focus moving to the next toast or back where it came from.
 */
import { becomeContacts, goTo, openChat } from './fixtures/app';
import { expect, test } from './fixtures/test';

test('toasts stay clear of the composer', async ({ parley }) => {
  const [alice, bob] = await Promise.all([parley.launch('Alice'), parley.launch('Bob')]);
  await becomeContacts(alice, bob);
  const page = alice.page;
  await goTo(page, 'Settings');
  const region = page.getByRole('status', { name: 'Notifications' });
  await page.getByLabel('Display name').fill('Al\tice');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(region.locator('.notice')).toHaveCount(1);
  await page.getByLabel('Display name').fill('Alicia');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(region.locator('.notice')).toHaveCount(2);
  await parley.screenshot(alice, 'toasts-settings');
  await openChat(page, 'Bob');
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill('a long draft '.repeat(40));
  const boxes = await region.locator('.notice').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
  const form = await page.locator('form.composer').evaluate((e) => e.getBoundingClientRect().toJSON());
  const history = await page.locator('section[aria-label="Conversation"] > div.history').evaluate((e) => e.getBoundingClientRect().toJSON());
  expect(boxes.length).toBeGreaterThan(0);
  for (const b of boxes) {
    expect(b.bottom <= form.top || b.top >= form.bottom, 'toast clear of composer').toBe(true);
    expect(b.top >= history.top && b.bottom <= history.bottom && b.right <= history.right, 'inside the history').toBe(true);
  }
  await parley.screenshot(alice, 'toasts-chat');
  await expect(region).toHaveAttribute('aria-live', 'polite');
  const dismiss = region.getByRole('button', { name: 'Dismiss notification' });
  await dismiss.first().focus();
  await page.keyboard.press('Escape');
  await expect(region.locator('.notice')).toHaveCount(1);
  await expect(dismiss.first()).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(region.locator('.notice')).toHaveCount(0);
  await expect(composer).toBeFocused();
});
