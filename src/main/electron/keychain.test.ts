import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ safeStorage: {} }));
const { createKeychainProtector } = await import('./keychain');
type Storage = NonNullable<Parameters<typeof createKeychainProtector>[0]>;

/** A stand-in for safeStorage: "encrypts" by reversing and tagging, so a mix-up shows. */
function fakeStorage(overrides: Partial<Record<keyof Storage, unknown>> = {}): Storage {
  return {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => 'gnome_libsecret',
    encryptString: (plain: string) => Buffer.from(`sealed:${[...plain].reverse().join('')}`),
    decryptString: (sealed: Buffer) => {
      const text = sealed.toString();
      if (!text.startsWith('sealed:')) throw new Error('cannot decrypt');
      return [...text.slice('sealed:'.length)].reverse().join('');
    },
    ...overrides,
  } as Storage;
}

const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

describe('keychain', () => {
  it('keychain - a key sealed by the OS keychain comes back byte for byte, and is not stored in the clear', () => {
    const keychain = createKeychainProtector(fakeStorage(), 'linux');
    expect(keychain.isAvailable()).toBe(true);
    const sealed = keychain.encrypt(KEY);
    expect(Buffer.from(sealed).includes(Buffer.from(KEY))).toBe(false);
    expect(Buffer.from(sealed).includes(Buffer.from(Buffer.from(KEY).toString('base64')))).toBe(false);
    expect(keychain.decrypt(sealed)).toEqual(KEY);
  });

  it('keychain - a key that is a view into a larger buffer is sealed alone', () => {
    const backing = new Uint8Array(64).fill(0xee);
    backing.set(KEY, 16);
    const keychain = createKeychainProtector(fakeStorage(), 'darwin');
    expect(keychain.decrypt(keychain.encrypt(backing.subarray(16, 48)))).toEqual(KEY);
  });

  it('keychain - on Linux without a secret service (basic_text), the keychain counts as unavailable and seals nothing', () => {
    for (const backend of ['basic_text', 'unknown']) {
      const keychain = createKeychainProtector(fakeStorage({ getSelectedStorageBackend: () => backend }), 'linux');
      expect(keychain.isAvailable(), backend).toBe(false);
      expect(() => keychain.encrypt(KEY)).toThrow(/not available/);
    }
    // Elsewhere the Linux backend is irrelevant.
    expect(createKeychainProtector(fakeStorage({ getSelectedStorageBackend: () => 'basic_text' }), 'win32').isAvailable()).toBe(true);
  });

  it('keychain - unavailable encryption, or a throwing probe, means unavailable', () => {
    expect(createKeychainProtector(fakeStorage({ isEncryptionAvailable: () => false }), 'darwin').isAvailable()).toBe(false);
    const throwing = fakeStorage({
      isEncryptionAvailable: () => {
        throw new Error('not ready');
      },
    });
    expect(createKeychainProtector(throwing, 'darwin').isAvailable()).toBe(false);
  });

  it('keychain - data the keychain cannot open is an error, not a wrong key', () => {
    const keychain = createKeychainProtector(fakeStorage(), 'darwin');
    expect(() => keychain.decrypt(new Uint8Array([1, 2, 3]))).toThrow();
  });
});
