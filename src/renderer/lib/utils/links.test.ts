import { describe, expect, it } from 'vitest';
import { safeHttpsUrl, splitLinks } from './links';

const links = (text: string) => splitLinks(text).filter((s) => s.kind === 'link').map((s) => (s.kind === 'link' ? s.href : ''));

describe('links', () => {
  it('finds an https link and leaves sentence punctuation outside it', () => {
    expect(splitLinks('see https://example.org/a. ok')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a', href: 'https://example.org/a' },
      { kind: 'text', text: '. ok' },
    ]);
  });

  it('keeps balanced parentheses', () => {
    expect(links('(https://en.wikipedia.org/wiki/Foo_(bar))')).toEqual(['https://en.wikipedia.org/wiki/Foo_(bar)']);
  });

  it('never links javascript:, data:, file:, http: or bare domains', () => {
    const hostile = [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
      'http://example.org',
      'example.org',
      'xhttps://example.org',
      '<a href="javascript:alert(1)">https</a>',
    ];
    for (const text of hostile) expect(links(text), text).toEqual([]);
  });

  it('refuses credentials that disguise the host', () => {
    expect(links('https://paypal.com@evil.example/')).toEqual([]);
    expect(safeHttpsUrl('https://user:pw@example.org')).toBeUndefined();
  });

  it('does not run a link across bidi controls or quotes', () => {
    expect(links('https://good.example\u202e/moc.live')).toEqual(['https://good.example/']);
    expect(links('"https://a.example/x"')).toEqual(['https://a.example/x']);
  });

  it('accepts an upper-case scheme and normalises it', () => {
    expect(links('HTTPS://Example.ORG/Path')).toEqual(['https://example.org/Path']);
  });

  it('keeps all text: the segments join back to the input', () => {
    const text = 'a https://x.example/1, b https://y.example/2) c';
    expect(splitLinks(text).map((s) => s.text).join('')).toBe(text);
  });

  it('leaves very long links as text', () => {
    expect(links(`https://example.org/${'a'.repeat(5000)}`)).toEqual([]);
  });
});
