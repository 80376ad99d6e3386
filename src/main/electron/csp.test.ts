import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './csp';

function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (!name) continue;
    expect(map.has(name), `duplicate directive ${name}`).toBe(false);
    map.set(name, values);
  }
  return map;
}

describe('csp', () => {
  const csp = directives(CONTENT_SECURITY_POLICY);

  it('csp - nothing inline and nothing evaluated, for scripts or styles', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|wasm-unsafe-eval|strict-dynamic/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/'nonce-|'sha(256|384|512)-/);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
  });

  it('csp - default-src is none, so anything not listed loads nothing', () => {
    expect(csp.get('default-src')).toEqual(["'none'"]);
  });

  it('csp - the UI opens no network connection of any kind', () => {
    expect(csp.get('connect-src')).toEqual(["'none'"]);
    for (const [name, values] of csp) {
      for (const value of values) {
        expect(value, `${name} allows ${value}`).not.toMatch(/^(\*|https?:|wss?:|ftp:|file:|app:|.*\.\w+(:\d+)?$)/);
      }
    }
  });

  it('csp - no plugins, frames, workers, base rewriting, form posts or framing by others', () => {
    for (const name of ['object-src', 'frame-src', 'child-src', 'worker-src', 'base-uri', 'form-action', 'frame-ancestors']) {
      expect(csp.get(name), name).toEqual(["'none'"]);
    }
  });

  it('csp - images only from our files or data:/blob: (QR codes drawn in the page)', () => {
    expect(csp.get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
  });

  it('csp - every app:// response carries the policy and nosniff', () => {
    expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(SECURITY_HEADERS['X-Content-Type-Options']).toBe('nosniff');
  });
});
