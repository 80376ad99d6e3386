import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_UI_PATH_CHARS, resolveUiPath, UI_CONTENT_TYPES, uiContentType } from './ui-files';

const ROOT = path.resolve('/srv/parley/renderer');

describe('ui files', () => {
  it('ui files - maps / to index.html and asset paths to files under the root', () => {
    expect(resolveUiPath(ROOT, '/')).toBe(path.join(ROOT, 'index.html'));
    expect(resolveUiPath(ROOT, '/assets/index-abc.js')).toBe(path.join(ROOT, 'assets', 'index-abc.js'));
    expect(resolveUiPath(ROOT, '/assets/na%C3%AFve.png')).toBe(path.join(ROOT, 'assets', 'naïve.png'));
  });

  it.each([
    '',
    'index.html',
    '/..',
    '/../renderer-evil.html',
    '/assets/../../etc/passwd',
    '/./index.html',
    '/%2e%2e/x',
    '/..%2Fx',
    '/..%5cx',
    '/assets\\app.js',
    '/%00',
    '/a%0ab',
    '/%',
    '/%252e%252e/x',
    '/%E0%A4%A',
    '//etc/passwd',
    '/assets/',
    '/.env',
    '/assets/.hidden.js',
    `/${'a'.repeat(MAX_UI_PATH_CHARS)}`,
  ])('ui files - refuses the path %j', (pathname) => {
    expect(resolveUiPath(ROOT, pathname)).toBeUndefined();
  });

  it('ui files - never resolves outside the root, whatever the path', () => {
    for (const pathname of ['/a/../../x', '/a/./../../../x', '/assets/..', '/assets/../index.html']) {
      const resolved = resolveUiPath(ROOT, pathname);
      expect(resolved === undefined || resolved.startsWith(ROOT + path.sep), pathname).toBe(true);
    }
  });

  it('ui files - types come from the allow-list, case-insensitively; other files have none', () => {
    expect(uiContentType('a/INDEX.HTML')).toBe('text/html; charset=utf-8');
    expect(uiContentType('a/index-abc.js')).toBe('text/javascript; charset=utf-8');
    expect(uiContentType('a/index-abc.css')).toBe('text/css; charset=utf-8');
    for (const file of ['a/index-abc.js.map', 'a/notes.txt', 'a/tool.exe', 'a/Makefile', 'a/constructor', 'a/x.__proto__', 'a/x.toString']) {
      expect(uiContentType(file), file).toBeUndefined();
    }
    for (const type of Object.values(UI_CONTENT_TYPES)) expect(type).toMatch(/^[a-z]+\/[a-z0-9.+-]+(; charset=utf-8)?$/);
  });
});
