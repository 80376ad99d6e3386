/**
 * Figures of issue 4, measured in Chromium against real peers and printed as JSON (stdout and
 * test-results/…/figures.json); nothing here is asserted. Not part of `npm test`; run with
 *
 *   scripts/in-netns.sh npx playwright test --project figures
 *
 * - unlock → conversation list rendered (from the Unlock form's submit to the first frame that
 *   has the conversation in the sidebar; includes Argon2id and starting libp2p), three runs;
 * - opening a conversation that holds 10,000 stored messages (click → first frame with the newest
 *   message in the DOM, and the frame after, when it is on screen), cold (first open after an
 *   unlock) and warm (again, from another screen);
 * - frame times while scrolling that conversation upwards (steady and fast; older pages load as it
 *   goes), then back down through what was loaded, with long tasks (each three runs in a row);
 * - renderer memory with it open: JS heap and DOM nodes (CDP), and the renderer process's RSS.
 *
 * The 10,000 messages are sent through the real core API of two real peers (5,000 each way,
 * interleaved, bodies of varied length), delivered, receipted and read before anything is
 * measured, so no network work overlaps a measurement.
 */
import { writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { becomeContacts, conversationItem, expectUnlockScreen, goTo, messageRow, nextFrames, submitPassphrase } from './fixtures/app';
import { ApiClient } from './fixtures/api-client';
import { armProbe, frameStats, memory, pageRendererPid, readProbe, round, scrollRun, type Probe } from './fixtures/measure';
import { test, type Side } from './fixtures/test';

const EACH_WAY = 5_000;
const BATCH = 250;
const UNLOCK_RUNS = 3;
/**
 * Scroll runs of each kind, back to back, each continuing upwards from where the last stopped:
 * one run on a loaded 2-core machine is noise-prone (a GC or another process lands in it).
 */
const SCROLL_RUNS = 3;
const SEED_TIMEOUT_MS = 480_000;

/** Deterministic, varied bodies: a few words to a few lines, like a real chat. */
function body(from: string, index: number): string {
  const words = ['sure', 'see you at eight', 'the train is late again', 'did you get the photos?', 'haha', 'ok', 'let me check and get back to you', 'I think the meeting moved to Thursday', 'thanks!'];
  const pick = (k: number): string => words[(index * 7 + k * 13) % words.length]!;
  const length = [1, 1, 2, 3, 1, 5, 8, 2, 1, 14][index % 10]!;
  const text = Array.from({ length }, (_, k) => pick(k)).join(index % 17 === 0 ? '\n' : ' ');
  return `${from} ${index}: ${text}`;
}

/** Resolves when `count` distinct messages reached `state` (or later), by the core's own events. */
function waitForStates(api: ApiClient, ids: () => ReadonlySet<string>, states: readonly string[], count: number): Promise<void> {
  const seen = new Set<string>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`only ${seen.size}/${count} messages reached ${states.join('/')}`));
    }, SEED_TIMEOUT_MS);
    const off = api.on('message.stateChanged', (event) => {
      if (!states.includes(event.state) || !ids().has(event.messageId)) return;
      seen.add(event.messageId);
      if (seen.size >= count) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}

async function sendAll(api: ApiClient, conversationId: string, from: string, sent: Set<string>): Promise<void> {
  for (let start = 0; start < EACH_WAY; start += BATCH) {
    const stored = await Promise.all(
      Array.from({ length: Math.min(BATCH, EACH_WAY - start) }, (_, i) => api.call('messages.send', { conversationId, body: body(from, start + i) })),
    );
    for (const message of stored) sent.add(message.id);
  }
}

/** Sends 5,000 messages each way and waits until all are delivered, then read. Returns the newest body. */
async function seed(alice: Side, bob: Side): Promise<{ newest: string; seconds: number }> {
  const started = Date.now();
  const [a, b] = await Promise.all([ApiClient.connect(alice.peer.url), ApiClient.connect(bob.peer.url)]);
  try {
    const [conversationA] = await a.call('conversations.list');
    const [conversationB] = await b.call('conversations.list');
    if (!conversationA || !conversationB) throw new Error('no conversation to seed');
    const sentA = new Set<string>();
    const sentB = new Set<string>();
    const delivered = Promise.all([
      waitForStates(a, () => sentA, ['delivered', 'read'], EACH_WAY),
      waitForStates(b, () => sentB, ['delivered', 'read'], EACH_WAY),
    ]);
    await Promise.all([sendAll(a, conversationA.id, 'Alice', sentA), sendAll(b, conversationB.id, 'Bob', sentB)]);
    await delivered;
    const read = Promise.all([waitForStates(a, () => sentA, ['read'], EACH_WAY), waitForStates(b, () => sentB, ['read'], EACH_WAY)]);
    await Promise.all([a.call('messages.markRead', { conversationId: conversationA.id }), b.call('messages.markRead', { conversationId: conversationB.id })]);
    await read;
    const page = await a.call('messages.page', { conversationId: conversationA.id, limit: 1 });
    const newest = page.messages[0]?.body;
    if (newest === undefined) throw new Error('the seeded conversation is empty');
    return { newest, seconds: (Date.now() - started) / 1000 };
  } finally {
    a.close();
    b.close();
  }
}

async function openConversationTimed(page: Page, newest: string): Promise<{ domMs: number; paintedMs: number }> {
  await armProbe(page, 'click', newest);
  await conversationItem(page, 'Bob').click();
  await messageRow(page, newest.slice(0, 40)).first().waitFor();
  await page.waitForFunction(() => (window as unknown as { __probe: Probe }).__probe.painted > 0);
  const probe = await readProbe(page);
  return { domMs: round(probe.newest - probe.start), paintedMs: round(probe.painted - probe.start) };
}

test('@figures a 10,000-message conversation: unlock, open, scroll, memory', async ({ parley, browser }, testInfo) => {
  const [alice, bob] = await Promise.all([parley.launch('Alice'), parley.launch('Bob')]);
  await becomeContacts(alice, bob);
  // The pages stay away while the history is seeded: only the cores work.
  await Promise.all([alice.page.goto('about:blank'), bob.context.close()]);
  const seeded = await seed(alice, bob);

  const unlocks: Record<string, number>[] = [];
  const opens: Record<string, number>[] = [];
  for (let run = 1; run <= UNLOCK_RUNS; run++) {
    await alice.peer.stop();
    await alice.peer.start();
    await parley.reopen(alice);
    await expectUnlockScreen(alice.page);
    await armProbe(alice.page, 'submit', seeded.newest);
    await submitPassphrase(alice.page, alice.passphrase);
    await conversationItem(alice.page, 'Bob').waitFor({ timeout: 60_000 });
    await alice.page.waitForFunction(() => (window as unknown as { __probe: Probe }).__probe.list > 0);
    const probe = await readProbe(alice.page);
    unlocks.push({ run, toMainScreenMs: round(probe.main - probe.start), toConversationListMs: round(probe.list - probe.start) });
    const cold = await openConversationTimed(alice.page, seeded.newest);
    await goTo(alice.page, 'People');
    const warm = await openConversationTimed(alice.page, seeded.newest);
    opens.push({ run, coldDomMs: cold.domMs, coldPaintedMs: cold.paintedMs, warmDomMs: warm.domMs, warmPaintedMs: warm.paintedMs });
  }
  await parley.screenshot(alice, 'figures-conversation-10k');

  const cdp = await alice.page.context().newCDPSession(alice.page);
  await cdp.send('Performance.enable');
  const rendererPid = await pageRendererPid(alice.page, cdp, await browser.newBrowserCDPSession());
  await nextFrames(alice.page);
  const memoryOpen = await memory(alice.page, cdp, rendererPid);
  // PARLEY_FIGURES_TRACE=1: a Chromium performance trace of the scroll runs
  // (test-results/…/scroll-trace.json, opens in DevTools' Performance panel), for finding what a
  // long frame did. Off by default: tracing slows the page a little.
  const tracing = process.env.PARLEY_FIGURES_TRACE === '1';
  // PARLEY_FIGURES_CPU_SLOWDOWN=4: the scroll runs with Chromium's CPU throttling (4× slower), so
  // what the list costs per frame shows even when this machine happens to be idle.
  const slowdown = Number(process.env.PARLEY_FIGURES_CPU_SLOWDOWN ?? 1);
  if (!Number.isFinite(slowdown) || slowdown < 1) throw new Error('PARLEY_FIGURES_CPU_SLOWDOWN must be a number ≥ 1');
  if (slowdown > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: slowdown });
  if (tracing) await browser.startTracing(alice.page, { path: testInfo.outputPath('scroll-trace.json'), screenshots: false });
  const steady: Record<string, number | boolean>[] = [];
  for (let run = 0; run < SCROLL_RUNS; run++) steady.push(frameStats(await scrollRun(alice.page, 40, 600)));
  const fast: Record<string, number | boolean>[] = [];
  for (let run = 0; run < SCROLL_RUNS; run++) fast.push(frameStats(await scrollRun(alice.page, 400, 300)));
  // Back down through the history loaded by now (all 10,000 once the fast runs reached the top):
  // rows rendered and measured as they come into view, with no page loads in between.
  const down: Record<string, number | boolean>[] = [];
  for (let run = 0; run < SCROLL_RUNS; run++) down.push(frameStats(await scrollRun(alice.page, -120, 400)));
  if (tracing) await browser.stopTracing();
  if (slowdown > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await parley.screenshot(alice, 'figures-conversation-10k-scrolled');
  const memoryScrolled = await memory(alice.page, cdp, rendererPid);

  const figures = {
    machine: { cpus: (await import('node:os')).cpus().length, chromium: browser.version() },
    history: { messages: EACH_WAY * 2, seededInSeconds: Math.round(seeded.seconds) },
    unlockToConversationList: unlocks,
    openConversation10k: opens,
    scrollFrameTimes: { cpuSlowdown: slowdown, steady, fast, down },
    rendererMemory: { conversationOpen: memoryOpen, afterScrolling: memoryScrolled },
  };
  const json = JSON.stringify(figures, null, 2);
  writeFileSync(testInfo.outputPath('figures.json'), json);
  console.log(`\nFIGURES ${json}`);
});
