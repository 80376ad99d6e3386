import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { uiContentType } from '../ui-files';
import { contentSecurityPolicy, resolveStaticPath } from './static-files';

const ROOT = path.resolve('/srv/parley/ui');

describe('resolveStaticPath', () => {
  it('maps / to index.html and plain paths to files under the root', () => {
    expect(resolveStaticPath(ROOT, '/')).toBe(path.join(ROOT, 'index.html'));
    expect(resolveStaticPath(ROOT, '/?x=1#y')).toBe(path.join(ROOT, 'index.html'));
    expect(resolveStaticPath(ROOT, '/assets/app-1a2b.js')).toBe(path.join(ROOT, 'assets', 'app-1a2b.js'));
    expect(resolveStaticPath(ROOT, '/assets/na%C3%AFve.png')).toBe(path.join(ROOT, 'assets', 'naïve.png'));
  });

  it.each([
    '',
    '*',
    'assets/app.js',
    'http://127.0.0.1/index.html',
    '/..',
    '/../ui-evil.txt',
    '/assets/../../etc/passwd',
    '/./index.html',
    '/%2e%2e/x',
    '/%2E%2e/x',
    '/..%2fx',
    '/..%2Fx',
    '/%2fetc/passwd',
    '/..%5cx',
    '/..\\x',
    '/assets\\app.js',
    '/%00',
    '/index.html%00.js',
    '/a%0ab',
    '/%',
    '/%E0%A4%A',
    '//etc/passwd',
    '/assets//app.js',
    '/assets/',
    '/.git/config',
    '/assets/.hidden',
    `/${'a'.repeat(2000)}`,
  ])('refuses %j', (target) => {
    expect(resolveStaticPath(ROOT, target)).toBeUndefined();
  });
});

describe('static files - headers', () => {
  it('names content types from the shared UI allow-list and has none for other files', () => {
    expect(uiContentType('a/index.HTML')).toBe('text/html; charset=utf-8');
    expect(uiContentType('a/b.woff2')).toBe('font/woff2');
    expect(uiContentType('a/b.exe')).toBeUndefined();
    expect(uiContentType('a/Makefile')).toBeUndefined();
  });

  it('allows only this port in connect-src and nothing inline', () => {
    const csp = contentSecurityPolicy(4242);
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:4242 ws://localhost:4242;");
    expect(csp).not.toMatch(/unsafe|\*|http:/);
  });
});
