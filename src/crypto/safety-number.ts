/**
 * Safety numbers (ARCHITECTURE.md §3): what two users compare, aloud or by scanning a QR code,
 * to know that no one sits between them. The construction is Signal's NumericFingerprintGenerator
 * (libsignal rust/protocol/src/fingerprint.rs) with the identity key as its own identifier:
 *
 *   fingerprint(key) = H^5200, where H_1 = SHA-512(0x0000 ‖ key ‖ key), H_i = SHA-512(H_{i-1} ‖ key)
 *   half(key)        = first 30 bytes → six 5-byte big-endian integers, each mod 100000, 5 digits
 *   digits           = the two halves sorted, so both sides show the same 60 digits
 *   QR payload       = version ‖ my fingerprint[0..32] ‖ their fingerprint[0..32]
 *
 * Parley has no phone number or account id: the Ed25519 identity key is the identity, so
 * Signal's stable identifier is empty and the key alone is hashed.
 */
import { concatBytes, equalBytes } from './bytes';
import { CryptoError } from './errors';
import type { IdentityPublicKey } from './keys';
import { sodium } from './sodium';

/**
 * Signal's value. Iterating makes each guess cost 5200 hashes: an attacker searching for a key
 * pair whose displayed half (30 digits ≈ 99.7 bits) matches a victim's pays ≈ 2^12.3 more per
 * candidate, > 112 bits of work in libsignal's estimate, while one computation costs us ~20 ms.
 */
export const SAFETY_NUMBER_ITERATIONS = 5200;
/** libsignal's fingerprint hash version (0x0000), the first bytes hashed. */
const HASH_VERSION = new Uint8Array([0, 0]);
/** The QR payload's format; a scanner refuses any other. */
export const SAFETY_NUMBER_QR_VERSION = 1;
/** Bytes of each fingerprint in the QR payload (libsignal's ScannableFingerprint takes 32). */
const SCANNABLE_BYTES = 32;
export const SAFETY_NUMBER_QR_BYTES = 1 + 2 * SCANNABLE_BYTES;
/** Each party's half: six 5-byte chunks of the fingerprint, each shown as 5 digits. */
const DISPLAY_CHUNKS = 6;
const DISPLAY_CHUNK_BYTES = 5;
const GROUP_DIGITS = 5;
export const SAFETY_NUMBER_DIGITS = 2 * DISPLAY_CHUNKS * GROUP_DIGITS;

export interface SafetyNumber {
  /** 60 digits, the same on both sides. */
  readonly digits: string;
  /** What my QR code shows: version ‖ my fingerprint ‖ theirs. */
  readonly qrPayload: Uint8Array;
}

export function safetyNumber(local: IdentityPublicKey, remote: IdentityPublicKey): SafetyNumber {
  const mine = iteratedFingerprint(local);
  const theirs = iteratedFingerprint(remote);
  const localHalf = displayHalf(mine);
  const remoteHalf = displayHalf(theirs);
  return {
    digits: localHalf < remoteHalf ? localHalf + remoteHalf : remoteHalf + localHalf,
    qrPayload: concatBytes(
      Uint8Array.of(SAFETY_NUMBER_QR_VERSION),
      mine.subarray(0, SCANNABLE_BYTES),
      theirs.subarray(0, SCANNABLE_BYTES),
    ),
  };
}

/**
 * True only for the payload the other side shows: its "local" is my remote and its "remote" my
 * local. My own payload, another version or length, or any other key gives false.
 */
export function verifyScannedSafetyNumber(
  mine: { readonly local: IdentityPublicKey; readonly remote: IdentityPublicKey },
  scanned: Uint8Array,
): boolean {
  if (scanned.length !== SAFETY_NUMBER_QR_BYTES || scanned[0] !== SAFETY_NUMBER_QR_VERSION) return false;
  const theirLocal = scanned.subarray(1, 1 + SCANNABLE_BYTES);
  const theirRemote = scanned.subarray(1 + SCANNABLE_BYTES);
  const myLocal = iteratedFingerprint(mine.local).subarray(0, SCANNABLE_BYTES);
  const myRemote = iteratedFingerprint(mine.remote).subarray(0, SCANNABLE_BYTES);
  // Both compared, no early exit: the result alone says whether it matched.
  const remoteMatches = equalBytes(theirLocal, myRemote);
  const localMatches = equalBytes(theirRemote, myLocal);
  return remoteMatches && localMatches;
}

/** "12345 67890 …": 12 groups of 5, for display. MALFORMED unless given exactly 60 digits. */
export function formatSafetyNumber(digits: string): string {
  if (digits.length !== SAFETY_NUMBER_DIGITS || !/^[0-9]+$/.test(digits)) {
    throw new CryptoError('MALFORMED', 'safety number digits');
  }
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += GROUP_DIGITS) groups.push(digits.slice(i, i + GROUP_DIGITS));
  return groups.join(' ');
}

/**
 * The 64-byte iterated SHA-512 of one party's key. `stableId` is empty in Parley; it exists so
 * the test can check this construction against libsignal's published vector (which uses phone
 * numbers and 33-byte keys). Not part of the library's API.
 *
 * @internal
 */
export function iteratedFingerprint(key: Uint8Array, stableId: Uint8Array = new Uint8Array(0)): Uint8Array {
  const s = sodium();
  let digest = s.crypto_hash_sha512(concatBytes(HASH_VERSION, key, stableId, key));
  // One buffer reused for every later round: previous digest ‖ key.
  const round = new Uint8Array(digest.length + key.length);
  round.set(key, digest.length);
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) {
    round.set(digest, 0);
    digest = s.crypto_hash_sha512(round);
  }
  return digest;
}

/**
 * The 30 displayed digits of one fingerprint (libsignal `get_encoded_string`).
 *
 * @internal
 */
export function displayHalf(fingerprint: Uint8Array): string {
  if (fingerprint.length < DISPLAY_CHUNKS * DISPLAY_CHUNK_BYTES) throw new CryptoError('MALFORMED', 'fingerprint length');
  let out = '';
  for (let chunk = 0; chunk < DISPLAY_CHUNKS; chunk++) {
    // 5 bytes = 40 bits: exact in a double (below 2^53), so no BigInt is needed.
    let value = 0;
    for (let i = 0; i < DISPLAY_CHUNK_BYTES; i++) {
      value = value * 256 + (fingerprint[chunk * DISPLAY_CHUNK_BYTES + i] as number);
    }
    out += String(value % 100_000).padStart(GROUP_DIGITS, '0');
  }
  return out;
}
