/**
 * Relays in the settings (issue 5): a person pastes the address of a real relay process, sees it
 * listed with its reservation, and the network panel shows the reservation on that relay. Bad
 * addresses are refused beside the field — one by the page's own check, one only the core can
 * refuse (an impossible IP) with the core's typed reason — and change nothing. Removing the
 * relay empties the list again.
 *
 * The relay is a separate process started the way an operator starts one
 * (test/integration/relay/relay-process.ts), listening on loopback only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Locator, type Page } from '@playwright/test';
import { killAllRelayProcesses, RelayProcess } from '../test/integration/relay/relay-process';
import { goTo, NETWORK_TIMEOUT_MS, onboard } from './fixtures/app';
import { expect, test } from './fixtures/test';

/** The Relays section of the settings (its heading names the region). */
const relaySettings = (page: Page): Locator => page.getByRole('region', { name: 'Relays', exact: true });
const relayField = (page: Page): Locator => relaySettings(page).getByLabel('Add a relay');
const relayList = (page: Page): Locator => relaySettings(page).getByRole('list', { name: 'Your relays' });

async function addRelay(page: Page, address: string): Promise<void> {
  await relayField(page).fill(address);
  await relaySettings(page).getByRole('button', { name: 'Add relay' }).click();
}

let relayDir: string | undefined;

test.afterEach(async () => {
  await killAllRelayProcesses();
  if (relayDir !== undefined) rmSync(relayDir, { recursive: true, force: true });
  relayDir = undefined;
});

test('relays in the settings: a bad address changes nothing; a real relay is listed and reserved on, then removed', async ({ parley }) => {
  relayDir = mkdtempSync(path.join(tmpdir(), 'parley-e2e-relay-'));
  const [relay, alice] = await Promise.all([RelayProcess.start({ dir: relayDir, via: 'node' }), parley.launch('Alice')]);
  const relayAddress = relay.addresses.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'));
  if (relayAddress === undefined) throw new Error(`the relay printed no loopback TCP address: ${relay.addresses.join(' ')}`);
  const relayPeerId = relayAddress.split('/p2p/').at(-1) as string;
  const { page } = alice;

  await test.step('onboarding, then the settings show an empty Relays section that says what a relay is for', async () => {
    await onboard(alice);
    await goTo(page, 'Settings');
    await expect(relaySettings(page)).toContainText('leave messages while you are offline');
    await expect(relaySettings(page)).toContainText('No relays');
    await expect(relayList(page)).toHaveCount(0);
  });

  await test.step('an address without /p2p/<peerId> is refused by the page, beside the field', async () => {
    await addRelay(page, '/ip4/127.0.0.1/tcp/4001');
    await expect(relaySettings(page).getByRole('alert')).toHaveText('A relay address must end in /p2p/ and the relay’s peer id.');
    await expect(relayField(page)).toHaveAttribute('aria-invalid', 'true');
    await expect(relayList(page)).toHaveCount(0);
    await parley.screenshot(alice, 'settings-relays-error');
  });

  await test.step('an address only the core can refuse shows the core’s reason and changes nothing', async () => {
    await addRelay(page, `/ip4/999.0.0.1/tcp/4001/p2p/${relayPeerId}`);
    await expect(relaySettings(page).getByRole('alert')).toHaveText('The relay was not accepted: not a multiaddr.');
    await expect(relayList(page)).toHaveCount(0);
    await goTo(page, 'Network');
    await expect(page.getByRole('region', { name: 'Relays (0)' })).toBeVisible();
    await goTo(page, 'Settings');
    await expect(relaySettings(page)).toContainText('No relays');
  });

  await test.step('the real relay is listed, and its reservation comes up', async () => {
    await addRelay(page, relayAddress);
    await expect(relayList(page).getByRole('listitem')).toHaveCount(1);
    await expect(relaySettings(page).getByRole('alert')).toHaveCount(0);
    await expect(relayField(page)).toHaveValue('');
    const row = relayList(page).getByRole('listitem');
    // The short form keeps the transport; the full address is one click (or Enter) away.
    await expect(row).toContainText('/ip4/127.0.0.1/tcp/');
    await expect(row).toContainText('reservation active', { timeout: NETWORK_TIMEOUT_MS });
    await row.getByText('/ip4/127.0.0.1/tcp/').first().click();
    await expect(row.getByText(relayAddress, { exact: true })).toBeVisible();
    await parley.screenshot(alice, 'settings-relays');
  });

  await test.step('the network panel shows the reservation on that relay', async () => {
    await goTo(page, 'Network');
    const relays = page.getByRole('region', { name: 'Relays (1)' });
    await expect(relays.getByRole('listitem')).toHaveText(`${relayAddress} — reservation active`);
  });

  await test.step('adding the same relay again is refused; removing it empties the list', async () => {
    await goTo(page, 'Settings');
    await addRelay(page, relayAddress);
    await expect(relaySettings(page).getByRole('alert')).toHaveText('That relay is already on the list.');
    await expect(relayList(page).getByRole('listitem')).toHaveCount(1);
    await relaySettings(page).getByRole('button', { name: /^Remove relay / }).press('Enter');
    await expect(relayList(page)).toHaveCount(0);
    await expect(relaySettings(page)).toContainText('No relays');
    await expect(relayField(page)).toBeFocused();
    await goTo(page, 'Network');
    await expect(page.getByRole('region', { name: 'Relays (0)' })).toBeVisible();
  });
});
