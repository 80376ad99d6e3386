/**
 * Wycheproof known-answer tests for every primitive the library builds on (ARCHITECTURE.md §4,
 * §9). Each file's cases are read from the shared vectors folder at test time; one test per
 * file runs them all and lists the tcIds that disagree.
 *
 * valid: exactly the expected output. invalid: refused (a throw, `false`, or a different
 * output, whichever the primitive gives). acceptable: either, but a produced output must match.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { concatBytes, equalBytes, fromHex } from './bytes';
import { isCryptoError } from './errors';
import { HKDF_MAX_BYTES, hkdf, hmacSha256 } from './hkdf';
import { SecretKey, dh, isSmallOrderX25519, publicKey, type RatchetPublicKey } from './keys';
import { initCrypto, sodium } from './sodium';
import {
  attempt,
  describeError,
  loadWycheproof,
  runVectors,
  wycheproofDir,
  type AeadGroup,
  type CaseCheck,
  type EddsaGroup,
  type HkdfGroup,
  type MacGroup,
  type WycheproofFile,
  type WycheproofFileName,
  type WycheproofFiles,
  type WycheproofGroup,
  type WycheproofTest,
  type XdhGroup,
} from './test-vectors.test-util';

beforeAll(async () => {
  await initCrypto();
});

/**
 * X25519 through the library's dh(). libsodium refuses a small-order peer key (and any all-zero
 * result), so the cases whose expected secret is all zero must be refused with INVALID_KEY, and
 * publicKey() must already refuse those keys on arrival. Every other case must match.
 */
const checkX25519: CaseCheck<XdhGroup> = (test, group) => {
  if (group.curve !== 'curve25519') return `unexpected curve ${group.curve}`;
  const peer = fromHex(test.public);
  const expected = fromHex(test.shared);
  // Cast, not publicKey(): dh() itself must refuse hostile keys, whatever validated them.
  const shared = attempt(() => dh(new SecretKey('ratchet', fromHex(test.private)), peer as RatchetPublicKey));
  const validated = attempt(() => publicKey('ratchet', peer));

  if (expected.every((b) => b === 0)) {
    if (shared.ok) return 'dh() returned an all-zero shared secret instead of refusing the key';
    if (!isCryptoError(shared.error, 'INVALID_KEY')) return `dh() threw ${describeError(shared.error)}, not INVALID_KEY`;
    if (!isSmallOrderX25519(peer)) return 'isSmallOrderX25519() misses a key whose shared secret is zero';
    if (validated.ok) return 'publicKey() accepted a key whose shared secret is zero';
    if (!isCryptoError(validated.error, 'INVALID_KEY')) return `publicKey() threw ${describeError(validated.error)}`;
    return undefined;
  }
  switch (test.result) {
    case 'valid':
      if (!validated.ok) return `publicKey() refused a valid peer key: ${describeError(validated.error)}`;
      if (!shared.ok) return `dh() threw ${describeError(shared.error)}`;
      return equalBytes(shared.value, expected) ? undefined : 'shared secret differs';
    case 'acceptable':
      if (!shared.ok) return isCryptoError(shared.error, 'INVALID_KEY') ? undefined : `dh() threw ${describeError(shared.error)}`;
      return equalBytes(shared.value, expected) ? undefined : 'shared secret differs';
    case 'invalid':
      return shared.ok && equalBytes(shared.value, expected) ? 'dh() produced the shared secret of an invalid case' : undefined;
  }
};

const SIGNATURE_BYTES = 64;

/**
 * Ed25519 verify, as identity.ts calls it. The wrappers throw on a signature that is not 64
 * bytes long; any other refusal must be a plain `false`, so a throw cannot hide a test bug.
 */
const checkEd25519: CaseCheck<EddsaGroup> = (test, group) => {
  const sig = fromHex(test.sig);
  const verified = attempt(() => sodium().crypto_sign_verify_detached(sig, fromHex(test.msg), fromHex(group.publicKey.pk)));
  if (!verified.ok) {
    if (sig.length !== SIGNATURE_BYTES && test.result !== 'valid') return undefined;
    return `verify threw ${describeError(verified.error)} for a ${sig.length}-byte signature`;
  }
  switch (test.result) {
    case 'valid':
      return verified.value === true ? undefined : 'valid signature was rejected';
    case 'invalid':
      return verified.value === false ? undefined : 'invalid signature verified';
    case 'acceptable':
      return undefined;
  }
};

/**
 * XChaCha20-Poly1305 (IETF) both ways: encrypt must give ct ‖ tag exactly and decrypt must
 * return the message; a forged ciphertext must fail to decrypt; a key or nonce of the wrong
 * length must make both directions throw.
 */
const checkXChaCha: CaseCheck<AeadGroup> = (test, group) => {
  const s = sodium();
  const [key, nonce, aad, msg] = [fromHex(test.key), fromHex(test.iv), fromHex(test.aad), fromHex(test.msg)];
  const sealed = concatBytes(fromHex(test.ct), fromHex(test.tag));
  if (group.tagSize !== 8 * s.crypto_aead_xchacha20poly1305_ietf_ABYTES) return `unexpected tag size ${group.tagSize}`;
  const encrypted = attempt(() => s.crypto_aead_xchacha20poly1305_ietf_encrypt(msg, aad, null, nonce, key));
  const decrypted = attempt(() => s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, aad, nonce, key));

  const wrongLength =
    key.length !== s.crypto_aead_xchacha20poly1305_ietf_KEYBYTES ||
    nonce.length !== s.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (wrongLength && test.result !== 'valid') {
    if (encrypted.ok) return `encrypt accepted a ${key.length}-byte key and ${nonce.length}-byte nonce`;
    if (decrypted.ok) return `decrypt accepted a ${key.length}-byte key and ${nonce.length}-byte nonce`;
    return undefined;
  }
  switch (test.result) {
    case 'valid':
      if (!encrypted.ok) return `encrypt threw ${describeError(encrypted.error)}`;
      if (!equalBytes(encrypted.value, sealed)) return 'ciphertext or tag differs';
      if (!decrypted.ok) return `decrypt refused a valid ciphertext: ${describeError(decrypted.error)}`;
      return equalBytes(decrypted.value, msg) ? undefined : 'decrypted message differs';
    case 'invalid':
      if (decrypted.ok) return 'decrypt accepted a forged ciphertext';
      return encrypted.ok && equalBytes(encrypted.value, sealed) ? 'encrypt produced the forged ciphertext' : undefined;
    case 'acceptable':
      if (encrypted.ok && !equalBytes(encrypted.value, sealed)) return 'ciphertext or tag differs';
      return decrypted.ok && !equalBytes(decrypted.value, msg) ? 'decrypted message differs' : undefined;
  }
};

/** HKDF-SHA-256 through hkdf.ts; an output longer than 255 · 32 bytes must throw TOO_LARGE. */
const checkHkdf: CaseCheck<HkdfGroup> = (test) => {
  const okm = fromHex(test.okm);
  const out = attempt(() => hkdf(fromHex(test.salt), fromHex(test.ikm), fromHex(test.info), test.size));
  if (test.size > HKDF_MAX_BYTES) {
    if (test.result === 'valid') return `a valid case asks for ${test.size} bytes, above the RFC 5869 limit`;
    if (out.ok) return `hkdf() produced ${test.size} bytes, above the RFC 5869 limit`;
    return isCryptoError(out.error, 'TOO_LARGE') ? undefined : `hkdf() threw ${describeError(out.error)}, not TOO_LARGE`;
  }
  if (!out.ok) return test.result === 'valid' ? `hkdf() threw ${describeError(out.error)}` : undefined;
  if (out.value.length !== test.size) return `hkdf() returned ${out.value.length} bytes, not ${test.size}`;
  const matches = equalBytes(out.value, okm);
  if (test.result === 'invalid') return matches ? 'hkdf() produced the output of an invalid case' : undefined;
  return matches ? undefined : 'output key material differs';
};

/**
 * HMAC-SHA-256 through hkdf.ts. Truncated tags (tagSize < 256) are the prefix of the full MAC.
 * The message is also fed as two parts, so libsodium's one-shot path (32-byte key, one part)
 * and the streaming path are both checked on every case.
 */
const checkHmac: CaseCheck<MacGroup> = (test, group) => {
  const [key, msg, tag] = [fromHex(test.key), fromHex(test.msg), fromHex(test.tag)];
  if (tag.length * 8 !== group.tagSize) return `tag is ${tag.length} bytes but the group's tagSize is ${group.tagSize} bits`;
  const full = hmacSha256(key, msg);
  const half = Math.floor(msg.length / 2);
  if (!equalBytes(hmacSha256(key, msg.subarray(0, half), msg.subarray(half)), full)) {
    return 'HMAC over two parts differs from HMAC over the whole message';
  }
  const matches = equalBytes(full.subarray(0, tag.length), tag);
  switch (test.result) {
    case 'valid':
      return matches ? undefined : 'tag differs';
    case 'invalid':
      return matches ? 'a modified tag matched' : undefined;
    case 'acceptable':
      return undefined;
  }
};

type AnyCheck = CaseCheck<WycheproofGroup<WycheproofTest>>;
const CHECKS: { [N in WycheproofFileName]: CaseCheck<WycheproofFiles[N]['testGroups'][number]> } = {
  'x25519_test.json': checkX25519,
  'ed25519_test.json': checkEd25519,
  'xchacha20_poly1305_test.json': checkXChaCha,
  'hkdf_sha256_test.json': checkHkdf,
  'hmac_sha256_test.json': checkHmac,
};

/** Every case agrees; the run covered the whole file and not zero cases. */
function expectEveryCaseAgrees(name: WycheproofFileName): void {
  const file = loadWycheproof(name) as WycheproofFile<WycheproofGroup<WycheproofTest>>;
  const run = runVectors(file, CHECKS[name] as AnyCheck);
  expect(run.failures, `${name}: cases that disagree`).toEqual([]);
  expect(run.total, `${name}: cases checked`).toBeGreaterThan(0);
  if (file.numberOfTests !== undefined) expect(run.total, `${name}: numberOfTests`).toBe(file.numberOfTests);
}

describe('Wycheproof', () => {
  it('x25519 - dh() matches every shared secret and refuses with INVALID_KEY every all-zero one', () => {
    expectEveryCaseAgrees('x25519_test.json');
  });

  it('ed25519 - verify accepts every valid signature and rejects every invalid one', () => {
    expectEveryCaseAgrees('ed25519_test.json');
  });

  it('xchacha20-poly1305 - encrypts and decrypts every valid case and rejects every forgery', () => {
    expectEveryCaseAgrees('xchacha20_poly1305_test.json');
  });

  it('xchacha20-poly1305 - refuses keys and nonces of the wrong length in both directions', () => {
    const s = sodium();
    const file = loadWycheproof('xchacha20_poly1305_test.json');
    const test = file.testGroups.flatMap((g) => g.tests).find((t) => t.result === 'valid' && t.msg.length > 0);
    if (!test) throw new Error('no valid case with a message in xchacha20_poly1305_test.json');
    const [key, nonce, aad, msg] = [fromHex(test.key), fromHex(test.iv), fromHex(test.aad), fromHex(test.msg)];
    const sealed = concatBytes(fromHex(test.ct), fromHex(test.tag));
    const encrypt = (k: Uint8Array, n: Uint8Array) => () => s.crypto_aead_xchacha20poly1305_ietf_encrypt(msg, aad, null, n, k);
    const decrypt = (k: Uint8Array, n: Uint8Array) => () => s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, aad, n, k);

    // Control: the right lengths work, so the throws below are about length alone.
    expect(encrypt(key, nonce)()).toEqual(sealed);
    expect(decrypt(key, nonce)()).toEqual(msg);
    for (const length of [0, 16, 31, 33, 64]) {
      const badKey = new Uint8Array(length).fill(7);
      badKey.set(key.subarray(0, length));
      expect(encrypt(badKey, nonce), `${length}-byte key`).toThrow();
      expect(decrypt(badKey, nonce), `${length}-byte key`).toThrow();
    }
    for (const length of [0, 12, 23, 25, 32]) {
      const badNonce = new Uint8Array(length).fill(7);
      badNonce.set(nonce.subarray(0, length));
      expect(encrypt(key, badNonce), `${length}-byte nonce`).toThrow();
      expect(decrypt(key, badNonce), `${length}-byte nonce`).toThrow();
    }
  });

  it('hkdf - matches every Wycheproof HKDF-SHA-256 case and refuses oversized output with TOO_LARGE', () => {
    expectEveryCaseAgrees('hkdf_sha256_test.json');
  });

  it('hmac - matches every Wycheproof HMAC-SHA-256 tag, truncated ones included, and rejects modified tags', () => {
    expectEveryCaseAgrees('hmac_sha256_test.json');
  });
});

/** The checks themselves must be able to fail: feed each one a doctored copy of its file. */
describe('Wycheproof harness', () => {
  /** Field holding each file's expected output, in the first valid case. */
  const OUTPUT_FIELD: Record<WycheproofFileName, string> = {
    'x25519_test.json': 'shared',
    'ed25519_test.json': 'sig',
    'xchacha20_poly1305_test.json': 'tag',
    'hkdf_sha256_test.json': 'okm',
    'hmac_sha256_test.json': 'tag',
  };
  const names = Object.keys(OUTPUT_FIELD) as WycheproofFileName[];

  function doctored(name: WycheproofFileName, edit: (test: Record<string, unknown>) => void) {
    const file = structuredClone(loadWycheproof(name)) as WycheproofFile<WycheproofGroup<WycheproofTest>>;
    const first = file.testGroups.flatMap((g) => g.tests).find((t) => t.result === 'valid' && !t.flags.includes('SizeTooLarge'));
    if (!first) throw new Error(`no valid case in ${name}`);
    edit(first as unknown as Record<string, unknown>);
    return { run: runVectors(file, CHECKS[name] as AnyCheck), tcId: first.tcId };
  }

  it.each(names)('vectors - a changed expected output in %s is reported as a failing case', (name) => {
    const { run, tcId } = doctored(name, (test) => {
      const hex = test[OUTPUT_FIELD[name]] as string;
      // Flip the low bit of the first byte: same length, different value.
      test[OUTPUT_FIELD[name]] = ((parseInt(hex.slice(0, 2), 16) ^ 1).toString(16).padStart(2, '0')) + hex.slice(2);
    });
    expect(run.failures).toHaveLength(1);
    expect(run.failures[0]).toMatch(new RegExp(`^tcId ${tcId} `));
  });

  it.each(names)('vectors - a valid case of %s relabelled invalid is reported as a failing case', (name) => {
    const { run, tcId } = doctored(name, (test) => {
      test.result = 'invalid';
    });
    expect(run.failures).toHaveLength(1);
    expect(run.failures[0]).toMatch(new RegExp(`^tcId ${tcId} `));
  });

  it('vectors - a missing folder fails with a message naming it, instead of skipping', () => {
    expect(() => loadWycheproof('x25519_test.json', '/nonexistent/parley-vectors')).toThrow(
      /Wycheproof vectors folder not found: \/nonexistent\/parley-vectors/,
    );
  });

  it('vectors - a missing file fails with a message naming it, instead of skipping', () => {
    // This source folder exists but holds no vector files.
    expect(() => loadWycheproof('x25519_test.json', import.meta.dirname)).toThrow(/Wycheproof vector file not found: .*x25519_test\.json/);
  });

  it('vectors - the folder is PARLEY_VECTORS_DIR when set, else ../shared/vectors/wycheproof beside the repo', () => {
    try {
      vi.stubEnv('PARLEY_VECTORS_DIR', '');
      expect(wycheproofDir()).toBe(path.resolve(import.meta.dirname, '../../../shared/vectors/wycheproof'));
      vi.stubEnv('PARLEY_VECTORS_DIR', '/nonexistent/parley-vectors');
      expect(wycheproofDir()).toBe('/nonexistent/parley-vectors');
      expect(() => loadWycheproof('hkdf_sha256_test.json')).toThrow(/not found: \/nonexistent\/parley-vectors/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
