/**
 * How the random storage key is protected on disk (ARCHITECTURE.md §7). The store never sees a
 * passphrase or a keychain directly: it hands the key to a KeyWrapper and writes what comes
 * back into the key file, tagged with the wrapper's kind.
 *
 * Two kinds exist: `passphrase` (Argon2id, here) and `keychain` (the OS keychain through
 * Electron's safeStorage, implemented in src/main/electron, which alone may import electron).
 * The interface is asynchronous because safeStorage's supported API is (encryptStringAsync).
 */
import { isCryptoError } from '../../crypto/errors';
import type { StorageKey } from '../../crypto/keys';
import { DEFAULT_PWHASH_PARAMS, unwrapStorageKey, wrapStorageKey, type PwhashParams } from '../../crypto/storage-key';
import { StoreError } from './errors';

export type KeyWrapperKind = 'passphrase' | 'keychain';

/** The byte written into the key file for each kind. Never reuse a number. */
export const KEY_WRAPPER_IDS: Readonly<Record<KeyWrapperKind, number>> = { passphrase: 1, keychain: 2 };

export interface KeyWrapper {
  readonly kind: KeyWrapperKind;
  /** The wrapped form of `key`. Must not keep or log the key. */
  wrap(key: StorageKey): Promise<Uint8Array>;
  /**
   * The key back from `wrap`'s output. Throws StoreError: WRONG_PASSPHRASE (passphrase
   * wrappers), KEY_UNAVAILABLE (the keychain refused or is gone), CORRUPT (the blob does not
   * parse), UNSUPPORTED_VERSION (written by a newer build).
   */
  unwrap(blob: Uint8Array): Promise<StorageKey>;
}

/**
 * Argon2id wrapping by src/crypto/storage-key.ts. Parameters default to libsodium's MODERATE
 * (~0.5–1 s per derivation here); they travel in the blob, so raising them later keeps old
 * key files readable. initCrypto() must have resolved (createStore/openStore see to it).
 */
export function passphraseKeyWrapper(passphrase: string, params: PwhashParams = DEFAULT_PWHASH_PARAMS): KeyWrapper {
  if (typeof passphrase !== 'string') throw new StoreError('INVALID_INPUT', 'passphrase');
  return {
    kind: 'passphrase',
    wrap: async (key) => wrapStorageKey(key, passphrase, params),
    unwrap: async (blob) => {
      try {
        return unwrapStorageKey(blob, passphrase);
      } catch (error) {
        throw fromCryptoError(error);
      }
    },
  };
}

function fromCryptoError(error: unknown): unknown {
  if (isCryptoError(error, 'WRONG_PASSPHRASE')) return new StoreError('WRONG_PASSPHRASE');
  if (isCryptoError(error, 'UNSUPPORTED_VERSION')) return new StoreError('UNSUPPORTED_VERSION', 'key file');
  // MALFORMED (truncated, trailing bytes, parameters below the floor) and TOO_LARGE (above the
  // ceiling): no passphrase will open this file, so it must not read as a typo to the user.
  if (isCryptoError(error)) return new StoreError('CORRUPT', 'key file');
  return error;
}
