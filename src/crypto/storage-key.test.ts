import sodiumModule from 'libsodium-wrappers-sumo';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { equalBytes } from './bytes';
import { CryptoError, type CryptoErrorCode } from './errors';
import { sodium, initCrypto } from './sodium';
import {
  DEFAULT_PWHASH_PARAMS,
  MAX_PWHASH_PARAMS,
  MIN_PWHASH_PARAMS,
  WRAPPED_STORAGE_KEY_BYTES,
  generateStorageKey,
  rewrapStorageKey,
  unwrapStorageKey,
  wrapStorageKey,
} from './storage-key';
import type { StorageKey } from './keys';

// Argon2id at MODERATE costs ~0.5 s here: this suite runs 13 derivations at MODERATE and one at
// INTERACTIVE. Every test that expects a refusal before derivation asserts it with a spy.

// Blob offsets (see storage-key.ts).
const VERSION = 0;
const ALG = 1;
const OPS = 2;
const MEM = 6;
const SALT = 10;
const NONCE = 26;
const CIPHERTEXT = 50;
const TAG = 82;

// "é" precomposed (U+00E9); the NFKC test types it decomposed.
const PASSPHRASE = 'correct horse battery staplé';

let key: StorageKey;
let blob: Uint8Array;

beforeAll(async () => {
  await initCrypto();
  key = generateStorageKey();
  blob = wrapStorageKey(key, PASSPHRASE);
});

afterEach(() => {
  vi.restoreAllMocks();
});

function flipped(at: number, mask = 0x01): Uint8Array {
  const copy = blob.slice();
  copy[at] = (copy[at] as number) ^ mask;
  return copy;
}

function withU32(at: number, value: number): Uint8Array {
  const copy = blob.slice();
  new DataView(copy.buffer).setUint32(at, value);
  return copy;
}

function codeOf(fn: () => unknown): CryptoErrorCode | 'no error' | 'not a CryptoError' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof CryptoError ? e.code : 'not a CryptoError';
  }
}

/** Runs `fn` and returns its error code and how many Argon2id derivations it ran. */
function codeAndDerivations(fn: () => unknown): [ReturnType<typeof codeOf>, number] {
  const spy = vi.spyOn(sodiumModule, 'crypto_pwhash');
  const code = codeOf(fn);
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  return [code, calls];
}

describe('storage key', () => {
  it('storage key - the named limits are libsodium MODERATE and SENSITIVE', () => {
    const s = sodium();
    expect(DEFAULT_PWHASH_PARAMS).toEqual({ opsLimit: s.crypto_pwhash_OPSLIMIT_MODERATE, memLimit: s.crypto_pwhash_MEMLIMIT_MODERATE });
    expect(MIN_PWHASH_PARAMS).toEqual(DEFAULT_PWHASH_PARAMS);
    expect(MAX_PWHASH_PARAMS).toEqual({ opsLimit: s.crypto_pwhash_OPSLIMIT_SENSITIVE, memLimit: s.crypto_pwhash_MEMLIMIT_SENSITIVE });
    // The algorithm byte in the header is libsodium's id.
    expect(blob[ALG]).toBe(s.crypto_pwhash_ALG_ARGON2ID13);
  });

  it('storage key - a generated key is 32 fresh random bytes', () => {
    const other = generateStorageKey();
    expect(key.expose()).toHaveLength(32);
    expect(equalBytes(key.expose(), other.expose())).toBe(false);
  });

  it('storage key - the blob stores version, algorithm and the default parameters in its header', () => {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    expect(blob).toHaveLength(WRAPPED_STORAGE_KEY_BYTES);
    expect(blob[VERSION]).toBe(1);
    expect(view.getUint32(OPS)).toBe(DEFAULT_PWHASH_PARAMS.opsLimit);
    expect(view.getUint32(MEM)).toBe(DEFAULT_PWHASH_PARAMS.memLimit);
  });

  it('storage key - unwrapping with the right passphrase returns the same key', () => {
    const unwrapped = unwrapStorageKey(blob, PASSPHRASE);
    expect(unwrapped.kind).toBe('storage');
    expect(equalBytes(unwrapped.expose(), key.expose())).toBe(true);
  });

  it('storage key - the passphrase is NFKC-normalized, so a decomposed accent unlocks too', () => {
    const decomposed = PASSPHRASE.replace('é', 'e\u0301');
    expect(decomposed).not.toBe(PASSPHRASE);
    expect(equalBytes(unwrapStorageKey(blob, decomposed).expose(), key.expose())).toBe(true);
  });

  it('storage key - a wrong passphrase fails with WRONG_PASSPHRASE', () => {
    expect(codeOf(() => unwrapStorageKey(blob, 'correct horse battery staple'))).toBe('WRONG_PASSPHRASE');
  });

  it('storage key - the wrapped blob never contains the key bytes', () => {
    const k = key.expose();
    // No 8-byte window of the key appears anywhere in the blob.
    for (let i = 0; i + 8 <= k.length; i++) {
      const window = k.subarray(i, i + 8);
      for (let j = 0; j + 8 <= blob.length; j++) {
        expect(equalBytes(blob.subarray(j, j + 8), window)).toBe(false);
      }
    }
  });

  describe('an altered byte fails with a typed error', () => {
    it('storage key - an altered version byte fails with UNSUPPORTED_VERSION before deriving', () => {
      expect(codeAndDerivations(() => unwrapStorageKey(flipped(VERSION), PASSPHRASE))).toEqual(['UNSUPPORTED_VERSION', 0]);
    });

    it('storage key - an altered algorithm byte fails with UNSUPPORTED_VERSION before deriving', () => {
      expect(codeAndDerivations(() => unwrapStorageKey(flipped(ALG), PASSPHRASE))).toEqual(['UNSUPPORTED_VERSION', 0]);
    });

    it('storage key - an altered opsLimit byte fails before deriving', () => {
      // 3 → 252 passes: above the ceiling.
      expect(codeAndDerivations(() => unwrapStorageKey(flipped(OPS + 3, 0xff), PASSPHRASE))).toEqual(['TOO_LARGE', 0]);
    });

    it('storage key - an altered memLimit bit that leaves the KEK unchanged still fails with WRONG_PASSPHRASE', () => {
      // Argon2id uses memLimit / 1024, so this edit derives the same KEK: only the AD catches it.
      expect(codeAndDerivations(() => unwrapStorageKey(flipped(MEM + 3), PASSPHRASE))).toEqual(['WRONG_PASSPHRASE', 1]);
    });

    it('storage key - an altered salt byte fails with WRONG_PASSPHRASE', () => {
      expect(codeOf(() => unwrapStorageKey(flipped(SALT + 7), PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    });

    it('storage key - an altered nonce byte fails with WRONG_PASSPHRASE', () => {
      expect(codeOf(() => unwrapStorageKey(flipped(NONCE + 11), PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    });

    it('storage key - an altered ciphertext byte fails with WRONG_PASSPHRASE', () => {
      expect(codeOf(() => unwrapStorageKey(flipped(CIPHERTEXT + 5), PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    });

    it('storage key - an altered tag byte fails with WRONG_PASSPHRASE', () => {
      expect(codeOf(() => unwrapStorageKey(flipped(TAG + 15), PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    });
  });

  it('storage key - a truncated or extended blob fails with MALFORMED before deriving', () => {
    for (const length of [0, 1, 10, CIPHERTEXT, WRAPPED_STORAGE_KEY_BYTES - 1]) {
      expect(codeAndDerivations(() => unwrapStorageKey(blob.subarray(0, length), PASSPHRASE))).toEqual(['MALFORMED', 0]);
    }
    const extended = new Uint8Array(WRAPPED_STORAGE_KEY_BYTES + 1);
    extended.set(blob);
    expect(codeAndDerivations(() => unwrapStorageKey(extended, PASSPHRASE))).toEqual(['MALFORMED', 0]);
  });

  it('storage key - a genuine blob downgraded to INTERACTIVE parameters is refused with MALFORMED before deriving', () => {
    // Built by hand exactly as wrapStorageKey would, but at libsodium INTERACTIVE: without the
    // floor this blob would unwrap.
    const s = sodium();
    const header = blob.slice(0, CIPHERTEXT);
    const view = new DataView(header.buffer);
    view.setUint32(OPS, s.crypto_pwhash_OPSLIMIT_INTERACTIVE);
    view.setUint32(MEM, s.crypto_pwhash_MEMLIMIT_INTERACTIVE);
    const kek = s.crypto_pwhash(
      32,
      PASSPHRASE,
      header.subarray(SALT, NONCE),
      s.crypto_pwhash_OPSLIMIT_INTERACTIVE,
      s.crypto_pwhash_MEMLIMIT_INTERACTIVE,
      s.crypto_pwhash_ALG_ARGON2ID13,
    );
    const sealed = s.crypto_aead_xchacha20poly1305_ietf_encrypt(key.expose(), header, null, header.subarray(NONCE, CIPHERTEXT), kek);
    const downgraded = new Uint8Array([...header, ...sealed]);
    expect(codeAndDerivations(() => unwrapStorageKey(downgraded, PASSPHRASE))).toEqual(['MALFORMED', 0]);
  });

  it('storage key - a lowered opsLimit or memLimit alone is refused with MALFORMED before deriving', () => {
    expect(codeAndDerivations(() => unwrapStorageKey(withU32(OPS, MIN_PWHASH_PARAMS.opsLimit - 1), PASSPHRASE))).toEqual(['MALFORMED', 0]);
    expect(codeAndDerivations(() => unwrapStorageKey(withU32(MEM, MIN_PWHASH_PARAMS.memLimit - 1024), PASSPHRASE))).toEqual(['MALFORMED', 0]);
  });

  it('storage key - parameters above the ceiling are refused with TOO_LARGE before deriving', () => {
    expect(codeAndDerivations(() => unwrapStorageKey(withU32(MEM, 0xffff_fc00), PASSPHRASE))).toEqual(['TOO_LARGE', 0]);
    expect(codeAndDerivations(() => unwrapStorageKey(withU32(MEM, MAX_PWHASH_PARAMS.memLimit + 1024), PASSPHRASE))).toEqual(['TOO_LARGE', 0]);
    expect(codeAndDerivations(() => unwrapStorageKey(withU32(OPS, MAX_PWHASH_PARAMS.opsLimit + 1), PASSPHRASE))).toEqual(['TOO_LARGE', 0]);
  });

  it('storage key - wrapping refuses parameters outside the accepted range', () => {
    const weak = { opsLimit: 1, memLimit: DEFAULT_PWHASH_PARAMS.memLimit };
    const huge = { opsLimit: DEFAULT_PWHASH_PARAMS.opsLimit, memLimit: 2 * MAX_PWHASH_PARAMS.memLimit };
    expect(codeAndDerivations(() => wrapStorageKey(key, PASSPHRASE, weak))).toEqual(['MALFORMED', 0]);
    expect(codeAndDerivations(() => wrapStorageKey(key, PASSPHRASE, huge))).toEqual(['TOO_LARGE', 0]);
    expect(codeAndDerivations(() => rewrapStorageKey(blob, PASSPHRASE, 'new', weak))).toEqual(['MALFORMED', 0]);
  });

  it('storage key - a passphrase change keeps the key and retires the old passphrase', () => {
    const rewrapped = rewrapStorageKey(blob, PASSPHRASE, 'a new passphrase');
    expect(equalBytes(unwrapStorageKey(rewrapped, 'a new passphrase').expose(), key.expose())).toBe(true);
    expect(codeOf(() => unwrapStorageKey(rewrapped, PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    // A fresh salt and nonce, not the old ones reused.
    expect(equalBytes(rewrapped.subarray(SALT, NONCE), blob.subarray(SALT, NONCE))).toBe(false);
    expect(equalBytes(rewrapped.subarray(NONCE, CIPHERTEXT), blob.subarray(NONCE, CIPHERTEXT))).toBe(false);
  });

  it('storage key - error messages carry neither the passphrase nor key bytes', () => {
    const e = (() => {
      try {
        unwrapStorageKey(flipped(VERSION), PASSPHRASE);
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected a failure');
    })();
    expect(e.message).not.toContain('horse');
    expect(e.message).not.toMatch(/[0-9a-f]{16}/);
  });
});
