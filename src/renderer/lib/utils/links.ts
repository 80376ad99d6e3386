/**
 * Finds links in message text. Only `https:` URLs become links, and only when written out in
 * full (`https://…`): no `javascript:`, `data:`, `file:`, `http:` or bare domains. A link is
 * never followed on click: the UI shows the full address and asks first.
 *
 * @example
 * ```ts
 * splitLinks('see https://example.org/a.');
 * // [{ kind: 'text', text: 'see ' }, { kind: 'link', text: 'https://example.org/a', href: 'https://example.org/a' }, { kind: 'text', text: '.' }]
 * ```
 */

export type Segment = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'link'; readonly text: string; readonly href: string };

/** Longest URL turned into a link; longer ones stay text (nobody types them, attackers do). */
export const MAX_LINK_CHARS = 2048;

/**
 * A candidate: `https://` then anything up to whitespace or a character that never belongs in
 * a URL written in prose. The scheme is matched case-insensitively.
 */
// eslint-disable-next-line no-control-regex -- control characters end a URL on purpose
const CANDIDATE = /https:\/\/[^\s<>"'`\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]+/giu;
/** Punctuation that ends a sentence rather than a URL. */
const TRAILING = /[.,;:!?)\]}'"»”’]+$/u;

/**
 * The URL if `raw` is a safe https: link to show, else undefined: it must parse, keep the
 * https: scheme, have a host, and carry no user:password@ part (used to disguise the host).
 */
export function safeHttpsUrl(raw: string): URL | undefined {
  if (raw.length > MAX_LINK_CHARS) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  return url;
}

/** Balanced closing parentheses stay part of the URL (Wikipedia-style links). */
function trimTrailing(candidate: string): string {
  let url = candidate.replace(TRAILING, '');
  const rest = candidate.slice(url.length);
  for (const ch of rest) {
    if (ch === ')' && (url.match(/\(/g)?.length ?? 0) > (url.match(/\)/g)?.length ?? 0)) url += ch;
    else break;
  }
  return url;
}

export function splitLinks(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    // Only at a word boundary: "xhttps://" is not a link.
    if (start > 0 && /[\p{L}\p{N}_]/u.test(text[start - 1]!)) continue;
    const candidate = trimTrailing(match[0]);
    const url = safeHttpsUrl(candidate);
    if (!url) continue;
    if (start > last) segments.push({ kind: 'text', text: text.slice(last, start) });
    segments.push({ kind: 'link', text: candidate, href: url.href });
    last = start + candidate.length;
  }
  if (last < text.length) segments.push({ kind: 'text', text: text.slice(last) });
  return segments;
}
