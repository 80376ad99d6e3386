/**
 * The OS keychain for the database key (ARCHITECTURE.md §7), when the user chooses "protect with
 * this computer's keychain" instead of a passphrase: Electron `safeStorage` (Keychain on macOS,
 * DPAPI on Windows, libsecret/KWallet on Linux).
 *
 * On Linux, `safeStorage` falls back to a hard-coded password (`basic_text`) when no secret
 * service is running; that protects nothing, so we report the keychain as unavailable there and
 * the user must choose a passphrase.
 *
 * `safeStorage` takes strings: the key crosses as base64. The sync calls are deprecated in
 * Electron 45 in favour of async ones; `KeychainProtector` is synchronous, so we use them.
 */
import { safeStorage } from 'electron';
import type { KeychainProtector } from '../core/types';

export type SafeStorageLike = Pick<
  typeof safeStorage,
  'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'
>;

/** Linux backends that do not really protect anything. */
const INSECURE_LINUX_BACKENDS: ReadonlySet<string> = new Set(['basic_text', 'unknown']);

export function createKeychainProtector(
  storage: SafeStorageLike = safeStorage,
  platform: NodeJS.Platform = process.platform,
): KeychainProtector {
  const isAvailable = (): boolean => {
    try {
      if (!storage.isEncryptionAvailable()) return false;
      return platform !== 'linux' || !INSECURE_LINUX_BACKENDS.has(storage.getSelectedStorageBackend());
    } catch {
      return false;
    }
  };

  return {
    isAvailable,
    encrypt(plain) {
      // Never wrap the key under a keychain that protects nothing.
      if (!isAvailable()) throw new Error('the OS keychain is not available');
      return new Uint8Array(storage.encryptString(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('base64')));
    },
    decrypt(sealed) {
      if (!isAvailable()) throw new Error('the OS keychain is not available');
      const decoded = Buffer.from(storage.decryptString(Buffer.from(sealed)), 'base64');
      const key = new Uint8Array(decoded);
      decoded.fill(0);
      return key;
    },
  };
}
