/**
 * Ratchet message wire format (inside the sealed envelope):
 *
 *   ratchet key (32) ‖ previous chain length PN (u32) ‖ counter N (u32) ‖ nonce (24) ‖ AEAD ciphertext
 *
 * The AEAD is XChaCha20-Poly1305 under the message key, with AD = session AD ‖ header. Each
 * message key encrypts exactly one message; the nonce is random anyway, so even a state
 * restored from an old backup that reuses a message key never reuses a (key, nonce) pair.
 */
import { ByteReader, ByteWriter } from '../bytes';
import { CryptoError } from '../errors';
import { PUBLIC_KEY_BYTES, publicKey, type RatchetPublicKey } from '../keys';

export const HEADER_BYTES = PUBLIC_KEY_BYTES + 4 + 4;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;

export interface RatchetHeader {
  readonly ratchetKey: RatchetPublicKey;
  readonly previousChainLength: number;
  readonly counter: number;
}

export interface ParsedRatchetMessage {
  readonly header: RatchetHeader;
  /** The header bytes exactly as received: they are authenticated as AD. */
  readonly headerBytes: Uint8Array;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export function encodeHeader(h: RatchetHeader): Uint8Array {
  return new ByteWriter(HEADER_BYTES).raw(h.ratchetKey).u32(h.previousChainLength).u32(h.counter).finish();
}

export function parseRatchetMessage(bytes: Uint8Array): ParsedRatchetMessage {
  if (bytes.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES) throw new CryptoError('MALFORMED', 'ratchet message too short');
  const r = new ByteReader(bytes);
  const ratchetKey = publicKey('ratchet', r.raw(PUBLIC_KEY_BYTES));
  const previousChainLength = r.u32();
  const counter = r.u32();
  const nonce = r.raw(NONCE_BYTES);
  return {
    header: { ratchetKey, previousChainLength, counter },
    headerBytes: bytes.subarray(0, HEADER_BYTES),
    nonce,
    ciphertext: r.rest(),
  };
}
