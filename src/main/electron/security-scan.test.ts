// Static scan of src/ for settings and constructs that break the desktop security baseline
// (ARCHITECTURE.md §8). Cheap, and it catches a flag flipped "just to debug" anywhere, in any
// layer, including Svelte components. This file holds samples of what it forbids, so it is the
// one file not scanned.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../..');
const SCANNED = /\.(ts|mts|cts|js|mjs|cjs|svelte|html)$/;

const SELF = path.resolve(import.meta.filename);
const ANY = /./;
/** `{@html}` is a Svelte construct: in .ts files it can only be a comment or a string. */
const MARKUP = /\.(svelte|html)$/;

/**
 * The template part of a component: HTML comments, <script> and <style> blocks blanked out
 * (newlines kept, so line numbers still match), so a comment saying "never {@html}" is no finding.
 */
function templateOnly(source: string): string {
  return source.replace(/<!--[\s\S]*?-->|<script\b[\s\S]*?<\/script>|<style\b[\s\S]*?<\/style>/g, (block) =>
    block.replace(/[^\n]/g, ' '),
  );
}

const FORBIDDEN: ReadonlyArray<readonly [RegExp, string, RegExp]> = [
  [/\bsandbox\s*:\s*false\b/, 'the renderer must stay sandboxed', ANY],
  [/\bcontextIsolation\s*:\s*false\b/, 'context isolation must stay on', ANY],
  [/\bnodeIntegration\s*:\s*true\b/, 'no Node in the renderer', ANY],
  [/\bnodeIntegrationIn(Worker|SubFrames)\s*:\s*true\b/, 'no Node in workers or subframes', ANY],
  [/\bwebSecurity\s*:\s*false\b/, 'web security must stay on', ANY],
  [/\bwebviewTag\s*:\s*true\b/, 'no <webview>', ANY],
  [/\ballowRunningInsecureContent\s*:\s*true\b/, 'no insecure content', ANY],
  [/\{\s*@html\b/, 'text from peers is rendered as text, never as HTML', MARKUP],
];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
      return SCANNED.test(entry.name) && full !== SELF ? [full] : [];
    }),
  );
  return nested.flat();
}

describe('security scan', () => {
  it('scan - no file under src/ turns off a §8 protection or renders raw HTML', async () => {
    const files = await sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    const findings: string[] = [];
    for (const file of files) {
      const source = await readFile(file, 'utf8');
      const lines = source.split('\n');
      const templateLines = MARKUP.test(file) ? templateOnly(source).split('\n') : lines;
      lines.forEach((line, index) => {
        for (const [pattern, why, applies] of FORBIDDEN) {
          const scanned = applies === MARKUP ? (templateLines[index] ?? '') : line;
          if (applies.test(file) && pattern.test(scanned)) findings.push(`${path.relative(SRC, file)}:${index + 1}: ${why}: ${line.trim()}`);
        }
      });
    }
    expect(findings).toEqual([]);
  });

  it('scan - the patterns do catch what they are meant to', () => {
    const samples = [
      'webPreferences: { sandbox: false }',
      'contextIsolation:false,',
      'nodeIntegration : true',
      '{@html message.body}',
      '{ @html x }',
      'webSecurity: false',
    ];
    for (const sample of samples) expect(FORBIDDEN.some(([pattern]) => pattern.test(sample)), sample).toBe(true);
    expect(FORBIDDEN.some(([pattern]) => pattern.test('sandbox: true, contextIsolation: true, nodeIntegration: false'))).toBe(false);
    // In a component, the template counts; comments and script blocks do not.
    const component = '<!-- never {@html} -->\n<script>\n// {@html}\n</script>\n<p>{@html body}</p>\n';
    const lines = templateOnly(component).split('\n');
    expect(lines.map((line) => /\{\s*@html\b/.test(line))).toEqual([false, false, false, false, true, false]);
  });
});
