/**
 * Text from peers, made safe to lay out. Rendering is always as text (Svelte escapes it; no
 * `{@html}` anywhere), so what remains are characters that change how *surrounding* text is
 * drawn: bidi embeddings/overrides/isolates that a message leaves open (the "RLO" trick that
 * makes `gpj.exe` read `exe.jpg`), and control characters. Each such text is also rendered in
 * an element with `dir="auto"` and `unicode-bidi: isolate`, so even a balanced override stays
 * inside its own box.
 *
 * @example
 * ```ts
 * balanceBidi('\u202Egnp.exe');      // '\u202Egnp.exe\u202C' — the override is closed
 * displayText('\u202Egnp.exe');      // 'gnp.exe' — and for display it is dropped
 * ```
 */

const LRE = 0x202a;
const RLE = 0x202b;
const PDF = 0x202c;
const LRO = 0x202d;
const RLO = 0x202e;
const LRI = 0x2066;
const RLI = 0x2067;
const FSI = 0x2068;
const PDI = 0x2069;

/** Unicode 15 caps nesting at 125; anything deeper is refused by renderers anyway. */
const MAX_DEPTH = 125;

/**
 * Closes every embedding, override and isolate the text opens and drops closers that match
 * nothing, following the pairing rules of UAX #9 (a PDI closes the innermost open isolate and
 * every embedding opened inside it; a PDF closes an embedding only within the current isolate).
 */
export function balanceBidi(text: string): string {
  // Fast path: the vast majority of messages contain none of these characters.
  if (!/[\u202a-\u202e\u2066-\u2069]/.test(text)) return text;
  const stack: ('e' | 'i')[] = [];
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === LRE || c === RLE || c === LRO || c === RLO) {
      if (stack.length >= MAX_DEPTH) continue;
      stack.push('e');
      out += ch;
    } else if (c === LRI || c === RLI || c === FSI) {
      if (stack.length >= MAX_DEPTH) continue;
      stack.push('i');
      out += ch;
    } else if (c === PDF) {
      if (stack[stack.length - 1] === 'e') {
        stack.pop();
        out += ch;
      }
    } else if (c === PDI) {
      if (!stack.includes('i')) continue;
      while (stack.length > 0) {
        const top = stack.pop();
        if (top === 'i') break;
        out += String.fromCodePoint(PDF);
      }
      out += ch;
    } else {
      out += ch;
    }
  }
  while (stack.length > 0) out += String.fromCodePoint(stack.pop() === 'i' ? PDI : PDF);
  return out;
}

/**
 * Message text for display: C0/C1 controls other than newline and tab removed (they render as
 * boxes or, worse, nothing), CRLF normalised, the bidi embeddings and overrides U+202A–U+202E
 * removed — an override reverses text *inside* its own box too ("invoice\u202Efdp.exe" reads
 * "invoiceexe.pdf"), and Unicode recommends isolates for every legitimate use since 6.3 — and
 * the isolates that remain balanced.
 */
export function displayText(text: string): string {
  return balanceBidi(
    text
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/g, ''),
  );
}

/**
 * A single-line label (display names, previews): also folds line breaks and tabs into
 * spaces, so a name cannot push a list row onto several lines.
 */
export function displayLabel(text: string): string {
  return displayText(text).replace(/[\n\t\u2028\u2029]+/g, ' ');
}

/**
 * Text for places outside the page's own layout (notifications, the window title): every bidi
 * control and control character removed rather than balanced, whitespace collapsed, cut to
 * `maxChars` code points.
 */
export function plainLabel(text: string, maxChars: number): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ').replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length > maxChars ? `${chars.slice(0, maxChars - 1).join('')}…` : flat;
}
