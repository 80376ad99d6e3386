/**
 * A small passphrase strength estimator: no dictionary download, just the patterns that make
 * guessing cheap. The passphrase is split into runs (letters, digits, other); each run is
 * priced by how an attacker would guess it (a common password or keyboard walk: a few bits;
 * a sequence or a repeat: a few bits; a word-like run of letters: less than its raw alphabet
 * would suggest; digits and symbols: their raw alphabet), and the bits are added up.
 *
 * It errs low on purpose: the database key is wrapped under Argon2id, so an offline attacker
 * with the file pays ~1 s per guess per core, and a "fair" passphrase (≥ 45 bits) still costs
 * centuries on a GPU farm. It is a hint for the user, never a security boundary.
 *
 * @example
 * ```ts
 * estimateStrength('correct horse battery staple').score; // 3 ("good")
 * ```
 */

export type StrengthScore = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  readonly score: StrengthScore;
  /** Estimated guessing entropy in bits (rounded). */
  readonly bits: number;
  readonly label: 'very weak' | 'weak' | 'fair' | 'good' | 'strong';
  /** Short advice, most useful first. */
  readonly feedback: readonly string[];
}

/** Passphrases shorter than this are never better than "weak", whatever their alphabet. */
export const MIN_LENGTH = 10;
/** Bit thresholds of scores 1–4. */
const THRESHOLDS = [28, 45, 60, 75] as const;
const LABELS = ['very weak', 'weak', 'fair', 'good', 'strong'] as const;

/** The most guessed passwords and keyboard walks (lower case, leetspeak undone). */
const COMMON = new Set([
  'password', 'passw', 'pass', 'passphrase', 'qwerty', 'qwertz', 'azerty', 'asdf', 'asdfgh', 'zxcv', 'zxcvbn', 'qwertyuiop',
  'letmein', 'welcome', 'iloveyou', 'admin', 'administrator', 'login', 'monkey', 'dragon', 'football', 'baseball',
  'master', 'sunshine', 'princess', 'shadow', 'superman', 'batman', 'trustno', 'secret', 'hello', 'freedom',
  'whatever', 'starwars', 'michael', 'charlie', 'jordan', 'hunter', 'killer', 'soccer', 'summer', 'winter',
  'computer', 'internet', 'changeme', 'default', 'test', 'guest', 'love', 'god', 'money', 'parley', 'messenger',
  'abc', 'qazwsx', 'access', 'flower', 'cheese', 'pokemon', 'cookie', 'matrix', 'mustang', 'orange', 'banana',
]);

const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };

interface Priced {
  bits: number;
  advice?: string;
}

function log2(n: number): number {
  return Math.log2(Math.max(1, n));
}

/** A run whose characters step by a constant -1, 0 or +1 code point: "aaaa", "abcd", "4321". */
function isSequenceOrRepeat(run: string): boolean {
  if (run.length < 3) return false;
  const step = run.charCodeAt(1) - run.charCodeAt(0);
  if (Math.abs(step) > 1) return false;
  for (let i = 2; i < run.length; i++) if (run.charCodeAt(i) - run.charCodeAt(i - 1) !== step) return false;
  return true;
}

/** A run that is a shorter unit repeated: "abab", "123123". */
function repeatedUnit(run: string): string | undefined {
  for (let size = 1; size <= run.length / 2; size++) {
    if (run.length % size !== 0) continue;
    const unit = run.slice(0, size);
    if (unit.repeat(run.length / size) === run) return unit;
  }
  return undefined;
}

function priceLetters(run: string, context: ReadonlySet<string>): Priced {
  const lower = run.toLowerCase();
  const caps = [...run].filter((c) => c !== c.toLowerCase()).length;
  // Capitalising the first letter is what everyone does: one bit. Other capitals: two each.
  const capBits = caps === 0 ? 0 : run[0] !== lower[0] && caps === 1 ? 1 : 2 * caps;
  if (COMMON.has(lower) || [...COMMON].some((w) => w.length >= 4 && lower.startsWith(w) && lower.length <= w.length + 2)) {
    return { bits: 6 + capBits, advice: 'Avoid common passwords and keyboard patterns.' };
  }
  if (context.has(lower)) return { bits: 4 + capBits, advice: 'Avoid your own name.' };
  if (isSequenceOrRepeat(lower)) return { bits: 5 + log2(run.length), advice: 'Avoid sequences and repeated letters.' };
  // Letters written by a person are mostly words: ~10 bits for a short one, ~1.5 bits per
  // extra letter (English carries about that much per character), capped by the raw alphabet.
  const alphabet = /^[a-z]*$/.test(lower) ? 26 : 60;
  const raw = run.length * log2(alphabet);
  const wordLike = run.length <= 3 ? raw : 10 + (run.length - 3) * 1.5;
  return { bits: Math.min(raw, wordLike) + capBits };
}

function priceDigits(run: string): Priced {
  if (/^(19|20)\d\d$/.test(run)) return { bits: 7, advice: 'Avoid years and dates.' };
  if (isSequenceOrRepeat(run)) return { bits: 4 + log2(run.length), advice: 'Avoid sequences like 1234.' };
  return { bits: run.length * log2(10) };
}

function priceOther(run: string): Priced {
  // A single space or hyphen between words is the expected separator: one bit.
  if (/^[\s\-_.]$/.test(run)) return { bits: 1 };
  if (isSequenceOrRepeat(run)) return { bits: 6 };
  // Non-ASCII characters come from a far larger alphabet, but people pick few of them.
  const unusual = [...run].some((c) => c.codePointAt(0)! > 0x7e);
  return { bits: run.length * (unusual ? 7 : 5) };
}

function undoLeet(text: string): { text: string; substitutions: number } {
  let substitutions = 0;
  const out = text.replace(/(?<=\p{L})[013457@$](?=\p{L})/gu, (c) => {
    substitutions++;
    return LEET[c] ?? c;
  });
  return { text: out, substitutions };
}

/**
 * Estimates how hard `passphrase` is to guess. `context` holds words an attacker would try
 * first for this user (their display name).
 */
export function estimateStrength(passphrase: string, context: readonly string[] = []): Strength {
  if (passphrase.length === 0) return { score: 0, bits: 0, label: LABELS[0], feedback: ['Enter a passphrase.'] };
  const contextWords = new Set(
    context.flatMap((c) => c.toLowerCase().split(/[^\p{L}\p{N}]+/u)).filter((w) => w.length >= 3),
  );
  const { text, substitutions } = undoLeet(passphrase);
  const feedback = new Set<string>();
  let bits = 0;
  const whole = text.toLowerCase();
  const unit = repeatedUnit(whole);
  const body = unit && unit.length < whole.length ? text.slice(0, unit.length) : text;
  if (body !== text) feedback.add('Avoid repeating the same part.');
  if (COMMON.has(whole.replace(/[^\p{L}]/gu, '')) && whole.replace(/[\p{L}]/gu, '').length <= 4) {
    feedback.add('This is one of the most common passwords.');
  }

  const runs = body.match(/\p{L}+|\p{N}+|[^\p{L}\p{N}]+/gu) ?? [];
  for (const run of runs) {
    const priced = /^\p{L}/u.test(run) ? priceLetters(run, contextWords) : /^\p{N}/u.test(run) ? priceDigits(run) : priceOther(run);
    bits += priced.bits;
    if (priced.advice) feedback.add(priced.advice);
  }
  // Which runs come in which order adds a little; leetspeak adds almost nothing (it is tried).
  bits += log2(runs.length) + substitutions;
  if (body !== text) bits += 1;

  let score = THRESHOLDS.filter((t) => bits >= t).length as StrengthScore;
  if (passphrase.length < MIN_LENGTH && score > 1) {
    score = 1;
    feedback.add(`Use at least ${MIN_LENGTH} characters.`);
  }
  if (score < 3) feedback.add('Add another word or two: several unrelated words are easy to remember and hard to guess.');
  return { score, bits: Math.round(bits), label: LABELS[score], feedback: [...feedback] };
}
