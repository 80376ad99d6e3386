/**
 * Sealed envelope: the only form in which a message crosses the network or sits in a relay
 * mailbox (ARCHITECTURE.md §4).
 *
 *   version (1) ‖ recipient tag (16) ‖ [ephemeral key (32)] ‖ nonce (24) ‖ XChaCha20-Poly1305(
 *       payload ‖ 0x80 ‖ 0x00…)          AD = version ‖ tag ‖ [ephemeral]
 *
 * The whole envelope is padded to one of ENVELOPE_BUCKETS, so an observer (a relay, a mailbox,
 * the network) learns the recipient tag, the size bucket and the time, nothing else: not the
 * sender, not the ratchet header, not whether it is a first message. Session envelopes are
 * sealed under a per-direction key of the session; a first (prekey) message carries the
 * initiator's X3DH ephemeral key, sealed under a key from DH(ephemeral, signed prekey), and is
 * addressed to the recipient's intro tag (derived from its signed prekey, known only to those
 * who hold its bundle). Which layout an envelope has is known to the recipient from its tag.
 */
import { CryptoError } from './errors';
import { PUBLIC_KEY_BYTES, publicKey, type EnvelopeKey, type EphemeralPublicKey } from './keys';
import { randomBytes } from './random';
import { sodium } from './sodium';

export const ENVELOPE_VERSION = 1;
export const RECIPIENT_TAG_BYTES = 16; // 128 bits: no accidental collision among all tags a peer ever holds
const NONCE_BYTES = 24; // XChaCha20: random nonces are safe for any realistic number of messages per key
const AEAD_TAG_BYTES = 16;
const PADDING_MARKER = 0x80; // ISO/IEC 7816-4 padding: unambiguous for any payload

/**
 * Envelope sizes: powers of two and the midpoints between them, from 256 B to 64 KiB. The
 * midpoints cap the padding overhead at 50 % while leaking at most one more bit than powers
 * of two alone; 256 B hides the length of every short chat message completely.
 */
export const ENVELOPE_BUCKETS: readonly number[] = [
  256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 65536,
];
export const MAX_ENVELOPE_BYTES = 65536;

const BUCKET_SET = new Set(ENVELOPE_BUCKETS);

function headerLength(withEphemeral: boolean): number {
  return 1 + RECIPIENT_TAG_BYTES + (withEphemeral ? PUBLIC_KEY_BYTES : 0);
}

/** The bucket an envelope for a payload of this length is padded to; TOO_LARGE past the last. */
export function envelopeSize(payloadLength: number, withEphemeral: boolean): number {
  const needed = headerLength(withEphemeral) + NONCE_BYTES + payloadLength + 1 + AEAD_TAG_BYTES;
  const bucket = ENVELOPE_BUCKETS.find((b) => b >= needed);
  if (bucket === undefined) throw new CryptoError('TOO_LARGE', 'envelope payload');
  return bucket;
}

export function sealEnvelope(
  key: EnvelopeKey,
  tag: Uint8Array,
  payload: Uint8Array,
  ephemeral?: EphemeralPublicKey,
): Uint8Array {
  if (tag.length !== RECIPIENT_TAG_BYTES) throw new CryptoError('MALFORMED', 'recipient tag length');
  const withEphemeral = ephemeral !== undefined;
  const size = envelopeSize(payload.length, withEphemeral);
  const headLength = headerLength(withEphemeral);
  const out = new Uint8Array(size);
  out[0] = ENVELOPE_VERSION;
  out.set(tag, 1);
  if (ephemeral) out.set(ephemeral, 1 + RECIPIENT_TAG_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  out.set(nonce, headLength);
  const padded = new Uint8Array(size - headLength - NONCE_BYTES - AEAD_TAG_BYTES);
  padded.set(payload);
  padded[payload.length] = PADDING_MARKER;
  const sealed = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(
    padded,
    out.subarray(0, headLength),
    null,
    nonce,
    key.expose(),
  );
  out.set(sealed, headLength + NONCE_BYTES);
  return out;
}

/** Checks version and size and returns the recipient tag: all a router or mailbox needs. */
export function envelopeTag(envelope: Uint8Array): Uint8Array {
  checkFrame(envelope);
  return envelope.slice(1, 1 + RECIPIENT_TAG_BYTES);
}

/** The initiator's ephemeral key of a prekey envelope (the recipient knows the layout from the tag). */
export function envelopeEphemeral(envelope: Uint8Array): EphemeralPublicKey {
  checkFrame(envelope);
  return publicKey('ephemeral', envelope.slice(1 + RECIPIENT_TAG_BYTES, 1 + RECIPIENT_TAG_BYTES + PUBLIC_KEY_BYTES));
}

/** Authenticates and unpads; DECRYPT_FAILED for a wrong key or any altered byte, MALFORMED for bad padding. */
export function openEnvelope(key: EnvelopeKey, envelope: Uint8Array, withEphemeral: boolean): Uint8Array {
  checkFrame(envelope);
  const headLength = headerLength(withEphemeral);
  const nonce = envelope.subarray(headLength, headLength + NONCE_BYTES);
  let padded: Uint8Array;
  try {
    padded = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      envelope.subarray(headLength + NONCE_BYTES),
      envelope.subarray(0, headLength),
      nonce,
      key.expose(),
    );
  } catch {
    throw new CryptoError('DECRYPT_FAILED', 'envelope');
  }
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== PADDING_MARKER) throw new CryptoError('MALFORMED', 'envelope padding');
  return padded.slice(0, end);
}

function checkFrame(envelope: Uint8Array): void {
  if (!BUCKET_SET.has(envelope.length)) throw new CryptoError('MALFORMED', 'envelope size is not a bucket');
  if (envelope[0] !== ENVELOPE_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'envelope');
}
