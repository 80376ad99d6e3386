/**
 * Loads Wycheproof known-answer files from the shared vectors folder at test time (they are
 * never copied into this repository) and runs every case through a per-primitive check.
 *
 * The folder is `PARLEY_VECTORS_DIR` or `<repo>/../shared/vectors/wycheproof`. A missing folder
 * or file is a failure with a message that names the path: a known-answer test that skips
 * itself when its vectors are absent proves nothing.
 *
 * @example
 * const file = loadWycheproof('hmac_sha256_test.json');
 * const run = runVectors(file, (test, group) => (matches(test) ? undefined : 'tag differs'));
 * expect(run.failures).toEqual([]);
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export type WycheproofResult = 'valid' | 'invalid' | 'acceptable';
const RESULTS: readonly WycheproofResult[] = ['valid', 'invalid', 'acceptable'];

export interface WycheproofTest {
  readonly tcId: number;
  readonly comment: string;
  readonly result: WycheproofResult;
  readonly flags: readonly string[];
}

export interface WycheproofGroup<T extends WycheproofTest> {
  readonly type: string;
  readonly tests: readonly T[];
}

export interface WycheproofFile<G extends WycheproofGroup<WycheproofTest>> {
  readonly algorithm: string;
  readonly schema?: string;
  readonly numberOfTests?: number;
  readonly testGroups: readonly G[];
}

/** All byte fields are hex strings, as in the JSON. */
export interface XdhTest extends WycheproofTest {
  readonly public: string;
  readonly private: string;
  readonly shared: string;
}
export interface XdhGroup extends WycheproofGroup<XdhTest> {
  readonly curve: string;
}

export interface EddsaTest extends WycheproofTest {
  readonly msg: string;
  readonly sig: string;
}
export interface EddsaGroup extends WycheproofGroup<EddsaTest> {
  readonly publicKey: { readonly pk: string; readonly curve: string };
}

export interface AeadTest extends WycheproofTest {
  readonly key: string;
  readonly iv: string;
  readonly aad: string;
  readonly msg: string;
  readonly ct: string;
  readonly tag: string;
}
export interface AeadGroup extends WycheproofGroup<AeadTest> {
  readonly ivSize: number;
  readonly keySize: number;
  readonly tagSize: number;
}

export interface HkdfTest extends WycheproofTest {
  readonly ikm: string;
  readonly salt: string;
  readonly info: string;
  readonly size: number;
  readonly okm: string;
}
export interface HkdfGroup extends WycheproofGroup<HkdfTest> {
  readonly keySize: number;
}

export interface MacTest extends WycheproofTest {
  readonly key: string;
  readonly msg: string;
  readonly tag: string;
}
export interface MacGroup extends WycheproofGroup<MacTest> {
  readonly keySize: number;
  /** In bits; the expected tag is the first tagSize / 8 bytes of the full MAC. */
  readonly tagSize: number;
}

export interface WycheproofFiles {
  'x25519_test.json': WycheproofFile<XdhGroup>;
  'ed25519_test.json': WycheproofFile<EddsaGroup>;
  'xchacha20_poly1305_test.json': WycheproofFile<AeadGroup>;
  'hkdf_sha256_test.json': WycheproofFile<HkdfGroup>;
  'hmac_sha256_test.json': WycheproofFile<MacGroup>;
}
export type WycheproofFileName = keyof WycheproofFiles;

/**
 * The fields each file's checks read, verified on load: a file in another schema version
 * (Wycheproof renamed `key` to `publicKey` in EdDSA groups, for one) fails here with the field
 * named, instead of as hundreds of confusing mismatches.
 */
const SHAPES: Record<WycheproofFileName, { group: Record<string, string>; test: Record<string, string> }> = {
  'x25519_test.json': { group: { curve: 'string' }, test: { public: 'string', private: 'string', shared: 'string' } },
  'ed25519_test.json': { group: { publicKey: 'object' }, test: { msg: 'string', sig: 'string' } },
  'xchacha20_poly1305_test.json': {
    group: { ivSize: 'number', keySize: 'number', tagSize: 'number' },
    test: { key: 'string', iv: 'string', aad: 'string', msg: 'string', ct: 'string', tag: 'string' },
  },
  'hkdf_sha256_test.json': {
    group: { keySize: 'number' },
    test: { ikm: 'string', salt: 'string', info: 'string', size: 'number', okm: 'string' },
  },
  'hmac_sha256_test.json': {
    group: { keySize: 'number', tagSize: 'number' },
    test: { key: 'string', msg: 'string', tag: 'string' },
  },
};

/** The Wycheproof folder: PARLEY_VECTORS_DIR, or the shared folder beside the repository. */
export function wycheproofDir(): string {
  const fromEnv = process.env.PARLEY_VECTORS_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  const repoRoot = path.resolve(import.meta.dirname, '..', '..');
  return path.resolve(repoRoot, '..', 'shared', 'vectors', 'wycheproof');
}

/** Reads and shape-checks one Wycheproof file; throws (never skips) when it is missing or malformed. */
export function loadWycheproof<N extends WycheproofFileName>(name: N, dir: string = wycheproofDir()): WycheproofFiles[N] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(
      `Wycheproof vectors folder not found: ${dir}. ` +
        'Set PARLEY_VECTORS_DIR or provide ../shared/vectors/wycheproof beside the repository.',
    );
  }
  const file = path.join(dir, name);
  if (!existsSync(file)) throw new Error(`Wycheproof vector file not found: ${file}`);

  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new Error(`Wycheproof vector file is not valid JSON: ${file}`, { cause });
  }
  checkShape(name, file, data);
  return data as WycheproofFiles[N];
}

function checkShape(name: WycheproofFileName, file: string, data: unknown): void {
  const fail = (what: string): never => {
    throw new Error(`Wycheproof vector file ${file} does not have the expected schema: ${what}`);
  };
  if (!isRecord(data) || !Array.isArray(data.testGroups)) return fail('no testGroups array');
  if (data.numberOfTests !== undefined && typeof data.numberOfTests !== 'number') fail('numberOfTests is not a number');
  const shape = SHAPES[name];
  data.testGroups.forEach((group: unknown, g) => {
    if (!isRecord(group) || !Array.isArray(group.tests)) return fail(`testGroups[${g}] has no tests array`);
    for (const [field, type] of Object.entries(shape.group)) {
      if (typeof group[field] !== type) fail(`testGroups[${g}].${field} is not a ${type}`);
    }
    group.tests.forEach((test: unknown, t) => {
      const where = `testGroups[${g}].tests[${t}]`;
      if (!isRecord(test)) return fail(`${where} is not an object`);
      if (typeof test.tcId !== 'number') fail(`${where}.tcId is not a number`);
      if (!RESULTS.includes(test.result as WycheproofResult)) fail(`${where}.result is not valid/invalid/acceptable`);
      if (!Array.isArray(test.flags)) fail(`${where}.flags is not an array`);
      for (const [field, type] of Object.entries(shape.test)) {
        if (typeof test[field] !== type) fail(`${where}.${field} is not a ${type}`);
      }
    });
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * A per-case check: returns undefined when the primitive behaved as the case demands, or a
 * short reason (no key bytes needed: the tcId identifies the case in the public file).
 */
export type CaseCheck<G extends WycheproofGroup<WycheproofTest>> = (
  test: G['tests'][number],
  group: G,
) => string | undefined;

export interface VectorRun {
  /** Cases checked, by their expected result. */
  readonly checked: Record<WycheproofResult, number>;
  readonly total: number;
  /** One line per failing case: `tcId 12 (valid, comment): reason`. Empty when all agree. */
  readonly failures: readonly string[];
}

/** Runs every case of every group; an exception inside a check is reported as that case's failure. */
export function runVectors<G extends WycheproofGroup<WycheproofTest>>(
  file: WycheproofFile<G>,
  check: CaseCheck<G>,
): VectorRun {
  const checked: Record<WycheproofResult, number> = { valid: 0, invalid: 0, acceptable: 0 };
  const failures: string[] = [];
  for (const group of file.testGroups) {
    for (const test of group.tests) {
      checked[test.result] += 1;
      let reason: string | undefined;
      try {
        reason = check(test, group);
      } catch (error) {
        reason = `check threw ${describeError(error)}`;
      }
      if (reason !== undefined) {
        const label = test.comment ? `${test.result}, ${test.comment}` : test.result;
        failures.push(`tcId ${test.tcId} (${label}): ${reason}`);
      }
    }
  }
  return { checked, total: checked.valid + checked.invalid + checked.acceptable, failures };
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Runs `fn` and reports whether it returned or threw, so a check can branch on both. */
export function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A thrown value as a short phrase for a failure line: the error's name, and its code if any. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `non-error ${typeof error}`;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} ${code}` : `${error.name}: ${error.message}`;
}
