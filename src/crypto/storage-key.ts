/**
 * The database key and its passphrase wrapping (ARCHITECTURE.md §7).
 *
 * The key that encrypts the libsql database is random. On disk it exists only wrapped:
 * KEK = Argon2id(passphrase, salt) and the storage key sealed under it with XChaCha20-Poly1305.
 * The Argon2id parameters travel with the blob, so they can be raised later without breaking
 * files written earlier, and are checked against a floor and a ceiling before any derivation.
 *
 * Blob (98 bytes, integers big-endian):
 *
 *   version u8 │ algorithm u8 │ opsLimit u32 │ memLimit u32 │ salt 16 │ nonce 24 │ sealed key 32+16
 *   └──────────────────────── header: the AEAD's associated data ────────────────┘
 *
 * Every header byte is authenticated, so an edit that leaves the derived KEK unchanged (e.g. the
 * low bits of memLimit, which Argon2id rounds down to whole KiB) still fails to unwrap.
 */
import { ByteReader, ByteWriter, utf8 } from './bytes';
import { CryptoError } from './errors';
import { SYMMETRIC_KEY_BYTES, SecretKey, type StorageKey } from './keys';
import { randomBytes } from './random';
import { sodium } from './sodium';

export interface PwhashParams {
  /** Argon2id passes over memory (libsodium `opslimit`). */
  readonly opsLimit: number;
  /** Argon2id memory in bytes (libsodium `memlimit`). */
  readonly memLimit: number;
}

const FORMAT_VERSION = 1;
/** Argon2id v1.3; the same number as libsodium's crypto_pwhash_ALG_ARGON2ID13. */
const ALG_ARGON2ID13 = 2;

/**
 * libsodium's MODERATE limits (crypto_pwhash_argon2id_{OPS,MEM}LIMIT_MODERATE): 3 passes over
 * 256 MiB. The default and the floor. Measured here (Node 20, WebAssembly, 2 cores): ~0.5 s per
 * derivation, which the user pays once per unlock, while every offline passphrase guess costs an
 * attacker the same 256 MiB and half-second. INTERACTIVE (64 MiB) is libsodium's advice for
 * online logins, not for a key file an attacker can copy and attack at leisure.
 */
export const PWHASH_MODERATE: PwhashParams = { opsLimit: 3, memLimit: 256 * 1024 * 1024 };

/**
 * Below this a file is refused. Files this build writes never go below it; a file that does was
 * edited or made elsewhere, and accepting it would let whoever controls the file (a sync
 * service, a restored backup, malware with write access) decide how cheap each guess of the
 * passphrase is once the file is rewritten with those parameters.
 */
export const MIN_PWHASH_PARAMS: PwhashParams = PWHASH_MODERATE;

/**
 * Above this a file is refused before deriving: a crafted file must not make unlock allocate
 * gigabytes or spin for minutes. libsodium's SENSITIVE limits (4 passes over 1 GiB) leave room
 * to raise the default later; measured here ~5.3 s. WebAssembly memory never shrinks, so even
 * this ceiling leaves the process with a 1 GiB heap until it exits.
 */
export const MAX_PWHASH_PARAMS: PwhashParams = { opsLimit: 4, memLimit: 1024 * 1024 * 1024 };

export const DEFAULT_PWHASH_PARAMS: PwhashParams = PWHASH_MODERATE;

const SALT_BYTES = 16; // crypto_pwhash_SALTBYTES
const NONCE_BYTES = 24; // XChaCha20: a random nonce never collides in practice
const TAG_BYTES = 16; // Poly1305
const HEADER_BYTES = 1 + 1 + 4 + 4 + SALT_BYTES + NONCE_BYTES;
export const WRAPPED_STORAGE_KEY_BYTES = HEADER_BYTES + SYMMETRIC_KEY_BYTES + TAG_BYTES;

/** A fresh random database key. */
export function generateStorageKey(): StorageKey {
  return new SecretKey('storage', randomBytes(SYMMETRIC_KEY_BYTES));
}

/** Wraps `key` under `passphrase`; a fresh salt and nonce each time. */
export function wrapStorageKey(
  key: StorageKey,
  passphrase: string,
  params: PwhashParams = DEFAULT_PWHASH_PARAMS,
): Uint8Array {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const header = new ByteWriter(HEADER_BYTES)
    .u8(FORMAT_VERSION)
    .u8(ALG_ARGON2ID13)
    .u32(params.opsLimit)
    .u32(params.memLimit)
    .raw(salt)
    .raw(nonce)
    .finish();
  const kek = deriveKek(passphrase, salt, params);
  try {
    const sealed = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(key.expose(), header, null, nonce, kek);
    return new ByteWriter(WRAPPED_STORAGE_KEY_BYTES).raw(header).raw(sealed).finish();
  } finally {
    sodium().memzero(kek);
  }
}

/**
 * Unwraps a blob made by wrapStorageKey.
 *
 * - WRONG_PASSPHRASE: the passphrase is wrong or an authenticated byte was altered; the two
 *   cannot be told apart, by design of the AEAD.
 * - MALFORMED: the blob does not parse (truncated, trailing bytes), or its parameters are below
 *   MIN_PWHASH_PARAMS: a downgraded file is a tampered file, and no passphrase will open it,
 *   so the caller must not invite the user to retry.
 * - TOO_LARGE: parameters above MAX_PWHASH_PARAMS, refused like every other cap in the library.
 * - UNSUPPORTED_VERSION: a format version or algorithm this build does not know.
 *
 * Every header check runs before Argon2id, so a refused file costs no derivation.
 */
export function unwrapStorageKey(blob: Uint8Array, passphrase: string): StorageKey {
  const r = new ByteReader(blob);
  if (r.u8() !== FORMAT_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'wrapped storage key');
  if (r.u8() !== ALG_ARGON2ID13) throw new CryptoError('UNSUPPORTED_VERSION', 'key derivation algorithm');
  const params: PwhashParams = { opsLimit: r.u32(), memLimit: r.u32() };
  const salt = r.raw(SALT_BYTES);
  const nonce = r.raw(NONCE_BYTES);
  const sealed = r.raw(SYMMETRIC_KEY_BYTES + TAG_BYTES);
  r.end();
  checkParams(params);

  const header = blob.subarray(0, HEADER_BYTES);
  const kek = deriveKek(passphrase, salt, params);
  let plain: Uint8Array;
  try {
    plain = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, header, nonce, kek);
  } catch {
    throw new CryptoError('WRONG_PASSPHRASE');
  } finally {
    sodium().memzero(kek);
  }
  return new SecretKey('storage', plain);
}

/** Passphrase change: the same storage key under a new passphrase, salt, nonce and `params`. */
export function rewrapStorageKey(
  blob: Uint8Array,
  oldPassphrase: string,
  newPassphrase: string,
  params: PwhashParams = DEFAULT_PWHASH_PARAMS,
): Uint8Array {
  checkParams(params);
  const key = unwrapStorageKey(blob, oldPassphrase);
  try {
    return wrapStorageKey(key, newPassphrase, params);
  } finally {
    key.wipe();
  }
}

function checkParams({ opsLimit, memLimit }: PwhashParams): void {
  if (!Number.isInteger(opsLimit) || !Number.isInteger(memLimit)) {
    throw new CryptoError('MALFORMED', 'key derivation parameters');
  }
  if (opsLimit < MIN_PWHASH_PARAMS.opsLimit || memLimit < MIN_PWHASH_PARAMS.memLimit) {
    throw new CryptoError('MALFORMED', 'key derivation parameters below the minimum');
  }
  if (opsLimit > MAX_PWHASH_PARAMS.opsLimit || memLimit > MAX_PWHASH_PARAMS.memLimit) {
    throw new CryptoError('TOO_LARGE', 'key derivation parameters above the maximum');
  }
}

/**
 * KEK = Argon2id(NFKC(passphrase)). NFKC because the same passphrase reaches us as different
 * code points depending on platform and input method: macOS text fields can hand over
 * decomposed "e + ◌́" where Windows sends "é", CJK input methods type full-width digits and
 * letters. Without one normal form a user could not unlock on another device (or after an OS
 * update) with the passphrase they typed. NFKC also folds compatibility variants (ligatures,
 * full-width forms) that users cannot tell apart on screen; the entropy lost is negligible.
 */
function deriveKek(passphrase: string, salt: Uint8Array, params: PwhashParams): Uint8Array {
  const s = sodium();
  const password = utf8(passphrase.normalize('NFKC'));
  try {
    return s.crypto_pwhash(
      SYMMETRIC_KEY_BYTES,
      password,
      salt,
      params.opsLimit,
      params.memLimit,
      s.crypto_pwhash_ALG_ARGON2ID13,
    );
  } finally {
    s.memzero(password);
  }
}
