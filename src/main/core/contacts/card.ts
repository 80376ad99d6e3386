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
 * Two versions, both read by this code:
 *
 *   v1  version (1) ‖ name ‖ peerId ‖ identity key (32) ‖ bundle ‖ n (u8) ‖ n × relay address
 *       ‖ created at (u64), signed under "Parley contact card v1"
 *   v2  the same with each relay entry = relay address ‖ mailbox id (32): where contacts can
 *       reach the device through the relay, and the mailbox to leave envelopes in there while
 *       it is offline (net/protocols/mailbox keys.ts), signed under "Parley contact card v2"
 *
 * (`‖ x` of a variable-length field is its u32 length and bytes.) A card naming no relay is
 * written as v1, byte for byte what earlier versions wrote and read; a card naming relays is v2.
 * Each version signs under its own context, so a v2 signature can never pass as a v1 one.
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
import { MAILBOX_ID_BYTES } from '../../net/protocols/mailbox/constants';

/** Cards without relays: readable by every version of Parley. */
const CARD_VERSION_1 = 1;
/** Cards whose relays carry the owner's mailbox id on each. */
const CARD_VERSION_2 = 2;
const CARD_CONTEXTS: Readonly<Record<number, Uint8Array>> = {
  [CARD_VERSION_1]: utf8('Parley contact card v1'),
  [CARD_VERSION_2]: utf8('Parley contact card v2'),
};
/** A mailbox id: MAILBOX_ID_BYTES of the mailbox protocol (an HMAC-SHA-256). */
export const CARD_MAILBOX_ID_BYTES = MAILBOX_ID_BYTES;
const SIGNATURE_BYTES = 64;
export const INVITE_PREFIX = 'parley://invite/';
export const INVITE_SECRET_BYTES = 16;
/** Bundles are ~230 bytes; the bound keeps a hostile card small. */
const MAX_BUNDLE_BYTES = 1024;
/** A card names at most a few relays (ARCHITECTURE.md §5: scale out across several). */
export const MAX_CARD_RELAYS = 8;
/** A relay multiaddr (`/dns4/relay.example.org/tcp/4001/p2p/12D3KooW…` is ~100 bytes). */
export const MAX_RELAY_ADDRESS_BYTES = 256;
/** UTF-8 of the longest display name. */
const MAX_NAME_BYTES = MAX_DISPLAY_NAME_CHARS * 4;
/** The whole encoded card, checked before parsing. */
export const MAX_CARD_BYTES = 4096;

/** A relay named in a card. */
export interface CardRelay {
  /** The relay's multiaddr, ending in /p2p/<relay PeerId>. */
  readonly address: string;
  /** The card owner's mailbox on that relay (v2 cards; absent in v1 cards). */
  readonly mailboxId?: Uint8Array;
}

export interface ContactCard {
  readonly displayName: string;
  readonly peerId: string;
  readonly identityKey: IdentityPublicKey;
  /** The encoded, signed prekey bundle (verify with verifyBundle against peerId). */
  readonly bundle: Uint8Array;
  readonly relays: readonly CardRelay[];
  readonly createdAt: number;
}

export interface VerifiedCard extends ContactCard {
  readonly verifiedBundle: VerifiedBundle;
  /** The exact signed bytes, to store and forward unchanged. */
  readonly encoded: Uint8Array;
}

function cardBody(version: number, card: ContactCard): Uint8Array {
  const w = new ByteWriter(512)
    .u8(version)
    .bytes(utf8(card.displayName))
    .bytes(utf8(card.peerId))
    .raw(card.identityKey)
    .bytes(card.bundle)
    .u8(card.relays.length);
  for (const relay of card.relays) {
    w.bytes(utf8(relay.address));
    if (version === CARD_VERSION_2) w.raw(relay.mailboxId as Uint8Array);
  }
  return w.u64(card.createdAt).finish();
}

/**
 * Signs a card: v1 when it names no relay, else v2, where every relay must carry the mailbox
 * id (a relay without one would leave contacts nowhere to write while we are away).
 */
export function createCard(identity: IdentityKeyPair, card: Omit<ContactCard, 'identityKey'>): Uint8Array {
  if (card.relays.length > MAX_CARD_RELAYS) throw new RangeError('too many relays in a card');
  for (const relay of card.relays) {
    if (relay.mailboxId?.length !== CARD_MAILBOX_ID_BYTES) throw new RangeError('a card relay needs its mailbox id');
    if (!isRelayAddressText(relay.address)) throw new RangeError('bad relay address in a card');
  }
  const version = card.relays.length === 0 ? CARD_VERSION_1 : CARD_VERSION_2;
  const body = cardBody(version, { ...card, identityKey: identity.publicKey });
  return new ByteWriter(body.length + SIGNATURE_BYTES).raw(body).raw(sign(identity, CARD_CONTEXTS[version] as Uint8Array, body)).finish();
}

/**
 * The shape a relay address must have in a card: a multiaddr-looking text of printable ASCII
 * naming its peer. The network layer parses it strictly before dialing; this bound only keeps
 * junk (control characters, text that names no peer) out of stored cards.
 */
function isRelayAddressText(address: string): boolean {
  return (
    address.length > 0 &&
    utf8(address).length <= MAX_RELAY_ADDRESS_BYTES &&
    /^(\/[!-~]+)+$/.test(address) &&
    address.includes('/p2p/')
  );
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
  const version = r.u8();
  const context = CARD_CONTEXTS[version];
  if (context === undefined) throw new CryptoError('UNSUPPORTED_VERSION', 'contact card');
  const displayName = fromUtf8(r.bytes(MAX_NAME_BYTES));
  const peerId = fromUtf8(r.bytes(128));
  const identityKey = publicKey('identity', r.raw(32));
  const bundle = r.bytes(MAX_BUNDLE_BYTES);
  const relayCount = r.u8();
  if (relayCount > MAX_CARD_RELAYS) throw new CryptoError('MALFORMED', 'too many relays');
  const relays: CardRelay[] = [];
  for (let i = 0; i < relayCount; i++) {
    const address = fromUtf8(r.bytes(MAX_RELAY_ADDRESS_BYTES));
    relays.push(version === CARD_VERSION_2 ? { address, mailboxId: r.raw(CARD_MAILBOX_ID_BYTES) } : { address });
  }
  const createdAt = r.u64();
  r.end();
  if (!verify(identityKey, context, body, signature)) throw new CryptoError('INVALID_SIGNATURE', 'contact card');
  // v1 cards of earlier versions named no relay in practice; a v2 card must name well-formed ones.
  if (version === CARD_VERSION_2 && (relayCount === 0 || !relays.every((relay) => isRelayAddressText(relay.address)))) {
    throw new CryptoError('MALFORMED', 'card relays');
  }
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
