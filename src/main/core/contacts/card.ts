/**
 * Contact cards and invite links (ARCHITECTURE.md §3).
 *
 * A card is what a peer tells others about itself: display name, the device's PeerId, the
 * identity key, a prekey bundle (without one-time prekey: cards are handed to strangers and
 * printed in invites, and a one-time key must not be drained by them), the relays where it
 * can be reached, and a time. The identity signs the whole card, and the bundle inside is
 * itself signed and bound to the same PeerId, so a card cannot be re-targeted to another
 * device or identity.
 *
 * An invite link is `parley://invite/<base64url(card ‖ secret)>`: the secret (16 random bytes)
 * lets the first message of whoever holds the link be accepted as a contact without a request.
 */
import {
  CryptoError,
  ByteReader,
  ByteWriter,
  fromUtf8,
  sign,
  utf8,
  verify,
  verifyBundle,
  publicKey,
  type IdentityKeyPair,
  type IdentityPublicKey,
  type VerifiedBundle,
} from '../../../crypto';
import { MAX_DISPLAY_NAME_CHARS } from '../../../shared';

const CARD_VERSION = 1;
const CARD_CONTEXT = utf8('Parley contact card v1');
const SIGNATURE_BYTES = 64;
export const INVITE_PREFIX = 'parley://invite/';
export const INVITE_SECRET_BYTES = 16;
/** Bundles are ~230 bytes; the bound keeps a hostile card small. */
const MAX_BUNDLE_BYTES = 1024;
/** A card names at most a few relays (ARCHITECTURE.md §5: scale out across several). */
export const MAX_CARD_RELAYS = 8;
const MAX_RELAY_ADDRESS_BYTES = 256;
/** UTF-8 of the longest display name. */
const MAX_NAME_BYTES = MAX_DISPLAY_NAME_CHARS * 4;
/** The whole encoded card, checked before parsing. */
export const MAX_CARD_BYTES = 4096;

export interface ContactCard {
  readonly displayName: string;
  readonly peerId: string;
  readonly identityKey: IdentityPublicKey;
  /** The encoded, signed prekey bundle (verify with verifyBundle against peerId). */
  readonly bundle: Uint8Array;
  readonly relays: readonly string[];
  readonly createdAt: number;
}

export interface VerifiedCard extends ContactCard {
  readonly verifiedBundle: VerifiedBundle;
  /** The exact signed bytes, to store and forward unchanged. */
  readonly encoded: Uint8Array;
}

function cardBody(card: ContactCard): Uint8Array {
  const w = new ByteWriter(512)
    .u8(CARD_VERSION)
    .bytes(utf8(card.displayName))
    .bytes(utf8(card.peerId))
    .raw(card.identityKey)
    .bytes(card.bundle)
    .u8(card.relays.length);
  for (const relay of card.relays) w.bytes(utf8(relay));
  return w.u64(card.createdAt).finish();
}

export function createCard(identity: IdentityKeyPair, card: Omit<ContactCard, 'identityKey'>): Uint8Array {
  if (card.relays.length > MAX_CARD_RELAYS) throw new RangeError('too many relays in a card');
  const body = cardBody({ ...card, identityKey: identity.publicKey });
  return new ByteWriter(body.length + SIGNATURE_BYTES).raw(body).raw(sign(identity, CARD_CONTEXT, body)).finish();
}

/**
 * Parses and verifies a card: size, format, the identity's signature, the bundle's signature,
 * and that the bundle belongs to the same PeerId and identity. Throws CryptoError.
 */
export function verifyCard(encoded: Uint8Array, expected: { peerId?: string } = {}): VerifiedCard {
  if (encoded.length > MAX_CARD_BYTES) throw new CryptoError('TOO_LARGE', 'contact card');
  if (encoded.length <= SIGNATURE_BYTES) throw new CryptoError('MALFORMED', 'contact card');
  const body = encoded.subarray(0, encoded.length - SIGNATURE_BYTES);
  const signature = encoded.subarray(encoded.length - SIGNATURE_BYTES);
  const r = new ByteReader(body);
  if (r.u8() !== CARD_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'contact card');
  const displayName = fromUtf8(r.bytes(MAX_NAME_BYTES));
  const peerId = fromUtf8(r.bytes(128));
  const identityKey = publicKey('identity', r.raw(32));
  const bundle = r.bytes(MAX_BUNDLE_BYTES);
  const relayCount = r.u8();
  if (relayCount > MAX_CARD_RELAYS) throw new CryptoError('MALFORMED', 'too many relays');
  const relays: string[] = [];
  for (let i = 0; i < relayCount; i++) relays.push(fromUtf8(r.bytes(MAX_RELAY_ADDRESS_BYTES)));
  const createdAt = r.u64();
  r.end();
  if (!verify(identityKey, CARD_CONTEXT, body, signature)) throw new CryptoError('INVALID_SIGNATURE', 'contact card');
  if (expected.peerId !== undefined && expected.peerId !== peerId) {
    throw new CryptoError('WRONG_IDENTITY', 'card is for another device');
  }
  const trimmed = displayName.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_DISPLAY_NAME_CHARS || /\p{Cc}/u.test(trimmed)) {
    throw new CryptoError('MALFORMED', 'display name');
  }
  const verifiedBundle = verifyBundle(bundle, { peerId, identityKey });
  return { displayName: trimmed, peerId, identityKey, bundle, relays, createdAt, verifiedBundle, encoded: encoded.slice() };
}

export function encodeInvite(card: Uint8Array, secret: Uint8Array): string {
  if (secret.length !== INVITE_SECRET_BYTES) throw new RangeError('invite secret length');
  return INVITE_PREFIX + Buffer.from(new ByteWriter(card.length + 32).bytes(card).raw(secret).finish()).toString('base64url');
}

export interface ParsedInvite {
  readonly card: VerifiedCard;
  readonly secret: Uint8Array;
}

/** Parses and verifies an invite link; throws CryptoError (MALFORMED etc.) for anything else. */
export function parseInvite(link: string): ParsedInvite {
  if (!link.startsWith(INVITE_PREFIX)) throw new CryptoError('MALFORMED', 'invite prefix');
  const payload = link.slice(INVITE_PREFIX.length).trim();
  if (!/^[A-Za-z0-9_-]+$/.test(payload) || payload.length > (MAX_CARD_BYTES * 4) / 3 + 64) {
    throw new CryptoError('MALFORMED', 'invite encoding');
  }
  const r = new ByteReader(new Uint8Array(Buffer.from(payload, 'base64url')));
  const card = verifyCard(r.bytes(MAX_CARD_BYTES));
  const secret = r.raw(INVITE_SECRET_BYTES);
  r.end();
  return { card, secret };
}
