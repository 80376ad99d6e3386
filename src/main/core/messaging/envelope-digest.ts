/**
 * The digest a received envelope is remembered by (issue 5, "delivered exactly once or
 * visibly pending"). A sender keeps a deposited message until our delivery receipt arrives
 * and resends or re-deposits the same bytes until then; the ratchet refuses such a replay as
 * a duplicate without revealing what it was, so the digest is how we find the message it
 * carried and receipt it again (our first receipt may have been lost on a relay).
 */
import { hmacSha256, utf8 } from '../../../crypto';

/** Domain separation: this hash of an envelope is used for this and nothing else. */
const ENVELOPE_DIGEST_LABEL = utf8('parley/received-envelope/v1');
/**
 * 128 bits: only an envelope we already received and stored is looked up, so a collision
 * would need 2^64 envelopes to one device; half of SHA-256 keeps the index small.
 */
export const ENVELOPE_DIGEST_BYTES = 16;

export function envelopeDigest(envelope: Uint8Array): Uint8Array {
  return hmacSha256(ENVELOPE_DIGEST_LABEL, envelope).slice(0, ENVELOPE_DIGEST_BYTES);
}
