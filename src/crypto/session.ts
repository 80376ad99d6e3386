/**
 * A pairwise end-to-end session: X3DH to start, the Double Ratchet for every message, and the
 * sealed envelope around each ratchet message. This is the API the messaging layer uses.
 *
 * Initiator (Alice, holding Bob's verified bundle):
 *   const s = Session.initiate(alice, bundle);  const envelope = s.encrypt(bytes);
 * Until Alice receives Bob's first reply, her envelopes are prekey envelopes addressed to
 * Bob's intro tag; afterwards they are session envelopes addressed to the session's tag.
 *
 * Responder (Bob): route an envelope by `envelopeTag(e)`:
 *   - a session's `inboundTag` → `session.decrypt(e)`;
 *   - `introTagOf(spk)` of one of his signed prekeys → `openPrekeyEnvelope(spk, e)`, then
 *     `session.decryptPrekey(opened)` if a session with `opened.baseKey` exists (a resent or
 *     replayed first message), else `Session.respond(bob, spk, opk, opened)` and delete the
 *     one-time prekey in the same transaction that stores the new session.
 *
 * Every method commits its state only on success. Persist `serialize()` after each call.
 */
import { ByteReader, ByteWriter, compareBytes, utf8 } from './bytes';
import { RECIPIENT_TAG_BYTES, envelopeEphemeral, envelopeTag, openEnvelope, sealEnvelope } from './envelope';
import { CryptoError } from './errors';
import { hkdf } from './hkdf';
import type { IdentityKeyPair } from './identity';
import {
  PUBLIC_KEY_BYTES,
  SYMMETRIC_KEY_BYTES,
  SecretKey,
  publicKey,
  type EnvelopeKey,
  type EphemeralPublicKey,
  type IdentityPublicKey,
  type KeyPair,
  type RatchetPublicKey,
  type SignedPrekeyPublicKey,
} from './keys';
import type { OneTimePrekey, SignedPrekey, VerifiedBundle } from './prekeys';
import { DoubleRatchet } from './ratchet/double-ratchet';
import { x3dhInitiate, x3dhIntroSecret, x3dhRespond, type X3dhSecret } from './x3dh';

const SESSION_STATE_VERSION = 1;
const SESSION_KEYS_INFO = utf8('Parley session keys v1');
const INTRO_TAG_INFO = utf8('Parley intro tag v1');
const INTRO_KEY_INFO = utf8('Parley intro envelope v1');
const NO_SALT = new Uint8Array(0);
const NO_ONE_TIME_PREKEY = 0;
const HAS_ONE_TIME_PREKEY = 1;
/** A session state holds at most MAX_SKIPPED_KEYS keys (~140 KB); refuse anything far larger. */
const MAX_SESSION_STATE_BYTES = 256 * 1024;

export type SessionRole = 'initiator' | 'responder';

/** The intro tag a prekey envelope for this signed prekey is addressed to. */
export function introTagOf(signedPrekey: SignedPrekeyPublicKey): Uint8Array {
  return hkdf(NO_SALT, signedPrekey, INTRO_TAG_INFO, RECIPIENT_TAG_BYTES);
}

function introKeyOf(introSecret: Uint8Array, ephemeral: EphemeralPublicKey, signedPrekey: SignedPrekeyPublicKey): EnvelopeKey {
  const info = new ByteWriter(96).raw(INTRO_KEY_INFO).raw(ephemeral).raw(signedPrekey).finish();
  return new SecretKey('envelope', hkdf(NO_SALT, introSecret, info, SYMMETRIC_KEY_BYTES));
}

interface SessionKeys {
  rootKey: Uint8Array;
  firstChainKey: Uint8Array;
  initiatorToResponder: { key: EnvelopeKey; tag: Uint8Array };
  responderToInitiator: { key: EnvelopeKey; tag: Uint8Array };
}

function sessionKeysOf(secret: X3dhSecret): SessionKeys {
  const k = hkdf(NO_SALT, secret.sharedSecret.expose(), SESSION_KEYS_INFO, 4 * 32 + 2 * RECIPIENT_TAG_BYTES);
  return {
    rootKey: k.slice(0, 32),
    firstChainKey: k.slice(32, 64),
    initiatorToResponder: { key: new SecretKey('envelope', k.slice(64, 96)), tag: k.slice(128, 144) },
    responderToInitiator: { key: new SecretKey('envelope', k.slice(96, 128)), tag: k.slice(144, 160) },
  };
}

/** What the initiator needs to keep sending prekey envelopes until the first reply. */
interface PendingPrekey {
  readonly introTag: Uint8Array;
  readonly introKey: EnvelopeKey;
  readonly signedPrekeyId: number;
  readonly oneTimePrekeyId: number | undefined;
}

/** A prekey envelope opened with the signed prekey its tag named (responder side). */
export interface OpenedPrekeyEnvelope {
  readonly initiatorIdentity: IdentityPublicKey;
  /** The initiator's X3DH ephemeral key: identifies the session on both sides. */
  readonly baseKey: EphemeralPublicKey;
  readonly signedPrekeyId: number;
  readonly oneTimePrekeyId: number | undefined;
  readonly ratchetMessage: Uint8Array;
  readonly introSecret: Uint8Array;
}

function encodePrekeyPayload(identity: IdentityPublicKey, pending: PendingPrekey, ratchetMessage: Uint8Array): Uint8Array {
  const w = new ByteWriter(ratchetMessage.length + 48).raw(identity).u32(pending.signedPrekeyId);
  if (pending.oneTimePrekeyId === undefined) w.u8(NO_ONE_TIME_PREKEY);
  else w.u8(HAS_ONE_TIME_PREKEY).u32(pending.oneTimePrekeyId);
  return w.raw(ratchetMessage).finish();
}

/**
 * Opens a prekey envelope addressed to `introTagOf(spk.keyPair.publicKey)`: one X25519. The
 * result is authenticated only as "sealed to this signed prekey"; the initiator's identity is
 * proven when `Session.respond` or `decryptPrekey` decrypts the ratchet message inside.
 */
export function openPrekeyEnvelope(signedPrekey: SignedPrekey, envelope: Uint8Array): OpenedPrekeyEnvelope {
  const baseKey = envelopeEphemeral(envelope);
  const introSecret = x3dhIntroSecret(signedPrekey, baseKey);
  const payload = openEnvelope(introKeyOf(introSecret, baseKey, signedPrekey.keyPair.publicKey), envelope, true);
  const r = new ByteReader(payload);
  const initiatorIdentity = publicKey('identity', r.raw(PUBLIC_KEY_BYTES));
  const signedPrekeyId = r.u32();
  if (signedPrekeyId !== signedPrekey.id) throw new CryptoError('UNKNOWN_PREKEY', 'signed prekey id does not match the tag');
  const flag = r.u8();
  if (flag !== NO_ONE_TIME_PREKEY && flag !== HAS_ONE_TIME_PREKEY) throw new CryptoError('MALFORMED', 'one-time prekey flag');
  const oneTimePrekeyId = flag === HAS_ONE_TIME_PREKEY ? r.u32() : undefined;
  return { initiatorIdentity, baseKey, signedPrekeyId, oneTimePrekeyId, ratchetMessage: r.rest(), introSecret };
}

export interface RespondResult {
  readonly session: Session;
  readonly plaintext: Uint8Array;
  /** Delete this one-time prekey in the transaction that stores the session. */
  readonly usedOneTimePrekeyId: number | undefined;
}

export class Session {
  readonly role: SessionRole;
  readonly remoteIdentity: IdentityPublicKey;
  /** The initiator's X3DH ephemeral key; both sides use it to name the session. */
  readonly baseKey: EphemeralPublicKey;
  readonly #localIdentity: IdentityPublicKey;
  readonly #outbound: { key: EnvelopeKey; tag: Uint8Array };
  readonly #inbound: { key: EnvelopeKey; tag: Uint8Array };
  #pending: PendingPrekey | undefined;
  readonly #ratchet: DoubleRatchet;

  private constructor(
    role: SessionRole,
    localIdentity: IdentityPublicKey,
    remoteIdentity: IdentityPublicKey,
    baseKey: EphemeralPublicKey,
    keys: Pick<SessionKeys, 'initiatorToResponder' | 'responderToInitiator'>,
    pending: PendingPrekey | undefined,
    ratchet: DoubleRatchet,
  ) {
    this.role = role;
    this.#localIdentity = localIdentity;
    this.remoteIdentity = remoteIdentity;
    this.baseKey = baseKey;
    const initiator = role === 'initiator';
    this.#outbound = initiator ? keys.initiatorToResponder : keys.responderToInitiator;
    this.#inbound = initiator ? keys.responderToInitiator : keys.initiatorToResponder;
    this.#pending = pending;
    this.#ratchet = ratchet;
  }

  /** Starts a session from a bundle that `verifyBundle` accepted. */
  static initiate(own: IdentityKeyPair, bundle: VerifiedBundle): Session {
    const x3dh = x3dhInitiate(own, bundle);
    const keys = sessionKeysOf(x3dh);
    const spk = bundle.signedPrekey.publicKey;
    const pending: PendingPrekey = {
      introTag: introTagOf(spk),
      introKey: introKeyOf(x3dh.introSecret, x3dh.ephemeral.publicKey, spk),
      signedPrekeyId: x3dh.signedPrekeyId,
      oneTimePrekeyId: x3dh.oneTimePrekeyId,
    };
    // The X3DH ephemeral doubles as the first ratchet key (see DoubleRatchet.initiator).
    const firstRatchetKey: KeyPair<'ratchet'> = {
      publicKey: x3dh.ephemeral.publicKey as Uint8Array as RatchetPublicKey,
      secretKey: new SecretKey('ratchet', x3dh.ephemeral.secretKey.expose()),
    };
    const ratchet = DoubleRatchet.initiator(x3dh.associatedData, keys.rootKey, keys.firstChainKey, firstRatchetKey);
    return new Session('initiator', own.publicKey, bundle.identityKey, x3dh.ephemeral.publicKey, keys, pending, ratchet);
  }

  /**
   * Bob's side of X3DH plus the first decrypt. `oneTimePrekey` must be the one the message
   * names (UNKNOWN_PREKEY if it names one and none is given). Nothing is created on failure.
   */
  static respond(
    own: IdentityKeyPair,
    signedPrekey: SignedPrekey,
    oneTimePrekey: OneTimePrekey | undefined,
    opened: OpenedPrekeyEnvelope,
  ): RespondResult {
    if (opened.signedPrekeyId !== signedPrekey.id) throw new CryptoError('UNKNOWN_PREKEY', 'signed prekey');
    if (opened.oneTimePrekeyId !== undefined && oneTimePrekey?.id !== opened.oneTimePrekeyId) {
      throw new CryptoError('UNKNOWN_PREKEY', 'one-time prekey');
    }
    const used = opened.oneTimePrekeyId === undefined ? undefined : oneTimePrekey;
    const x3dh = x3dhRespond(own, signedPrekey, used, opened.initiatorIdentity, opened.baseKey, opened.introSecret);
    const keys = sessionKeysOf(x3dh);
    // The initiator's first ratchet key is its X3DH ephemeral (the base key).
    const firstRatchetKey = opened.baseKey as Uint8Array as RatchetPublicKey;
    const ratchet = DoubleRatchet.responder(x3dh.associatedData, keys.rootKey, keys.firstChainKey, firstRatchetKey);
    const plaintext = ratchet.decrypt(opened.ratchetMessage);
    const session = new Session('responder', own.publicKey, opened.initiatorIdentity, opened.baseKey, keys, undefined, ratchet);
    return { session, plaintext, usedOneTimePrekeyId: opened.oneTimePrekeyId };
  }

  /** The tag envelopes addressed to this session carry: index sessions by it. */
  get inboundTag(): Uint8Array {
    return this.#inbound.tag;
  }

  /** The tag our session envelopes carry (the peer indexes the session by it). */
  get outboundTag(): Uint8Array {
    return this.#outbound.tag;
  }

  /** True while this (initiator) session still sends prekey envelopes, i.e. no reply has arrived. */
  get awaitingReply(): boolean {
    return this.#pending !== undefined;
  }

  /** Encrypts and seals one message; the result is the envelope to send or deposit. */
  encrypt(plaintext: Uint8Array): Uint8Array {
    const ratchetMessage = this.#ratchet.encrypt(plaintext);
    const pending = this.#pending;
    if (pending) {
      const payload = encodePrekeyPayload(this.#localIdentity, pending, ratchetMessage);
      return sealEnvelope(pending.introKey, pending.introTag, payload, this.baseKey);
    }
    return sealEnvelope(this.#outbound.key, this.#outbound.tag, ratchetMessage);
  }

  /** Opens and decrypts a session envelope (one whose tag is `inboundTag`). */
  decrypt(envelope: Uint8Array): Uint8Array {
    const tag = envelopeTag(envelope);
    if (!equalTag(tag, this.#inbound.tag)) throw new CryptoError('DECRYPT_FAILED', 'envelope is for another session');
    const plaintext = this.#ratchet.decrypt(openEnvelope(this.#inbound.key, envelope, false));
    // A reply proves the responder holds the session: stop sending prekey envelopes.
    this.#pending = undefined;
    return plaintext;
  }

  /** Decrypts a further prekey message of this session (a resend, or a replay that fails as DUPLICATE_MESSAGE). */
  decryptPrekey(opened: OpenedPrekeyEnvelope): Uint8Array {
    if (this.role !== 'responder' || compareBytes(opened.baseKey, this.baseKey) !== 0) {
      throw new CryptoError('DECRYPT_FAILED', 'prekey message is for another session');
    }
    if (compareBytes(opened.initiatorIdentity, this.remoteIdentity) !== 0) throw new CryptoError('WRONG_IDENTITY');
    return this.#ratchet.decrypt(opened.ratchetMessage);
  }

  serialize(): Uint8Array {
    const ratchet = this.#ratchet.serialize();
    const w = new ByteWriter(ratchet.length + 400)
      .u8(SESSION_STATE_VERSION)
      .u8(this.role === 'initiator' ? 0 : 1)
      .raw(this.#localIdentity)
      .raw(this.remoteIdentity)
      .raw(this.baseKey)
      .raw(this.#outbound.key.expose())
      .raw(this.#outbound.tag)
      .raw(this.#inbound.key.expose())
      .raw(this.#inbound.tag);
    const p = this.#pending;
    if (p) {
      w.u8(1).raw(p.introTag).raw(p.introKey.expose()).u32(p.signedPrekeyId);
      if (p.oneTimePrekeyId === undefined) w.u8(NO_ONE_TIME_PREKEY);
      else w.u8(HAS_ONE_TIME_PREKEY).u32(p.oneTimePrekeyId);
    } else {
      w.u8(0);
    }
    return w.bytes(ratchet).finish();
  }

  static deserialize(bytes: Uint8Array): Session {
    if (bytes.length > MAX_SESSION_STATE_BYTES) throw new CryptoError('TOO_LARGE', 'session state');
    const r = new ByteReader(bytes);
    if (r.u8() !== SESSION_STATE_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'session state');
    const roleByte = r.u8();
    if (roleByte > 1) throw new CryptoError('MALFORMED', 'session role');
    const role: SessionRole = roleByte === 0 ? 'initiator' : 'responder';
    const localIdentity = publicKey('identity', r.raw(PUBLIC_KEY_BYTES));
    const remoteIdentity = publicKey('identity', r.raw(PUBLIC_KEY_BYTES));
    const baseKey = publicKey('ephemeral', r.raw(PUBLIC_KEY_BYTES));
    const outbound = { key: new SecretKey('envelope', r.raw(SYMMETRIC_KEY_BYTES)), tag: r.raw(RECIPIENT_TAG_BYTES) };
    const inbound = { key: new SecretKey('envelope', r.raw(SYMMETRIC_KEY_BYTES)), tag: r.raw(RECIPIENT_TAG_BYTES) };
    let pending: PendingPrekey | undefined;
    const hasPending = r.u8();
    if (hasPending === 1) {
      const introTag = r.raw(RECIPIENT_TAG_BYTES);
      const introKey = new SecretKey('envelope', r.raw(SYMMETRIC_KEY_BYTES));
      const signedPrekeyId = r.u32();
      const flag = r.u8();
      if (flag > 1) throw new CryptoError('MALFORMED', 'one-time prekey flag');
      pending = { introTag, introKey, signedPrekeyId, oneTimePrekeyId: flag === 1 ? r.u32() : undefined };
    } else if (hasPending !== 0) {
      throw new CryptoError('MALFORMED', 'pending flag');
    }
    const ratchet = DoubleRatchet.deserialize(r.bytes(MAX_SESSION_STATE_BYTES));
    r.end();
    const initiator = role === 'initiator';
    const keys = initiator
      ? { initiatorToResponder: outbound, responderToInitiator: inbound }
      : { initiatorToResponder: inbound, responderToInitiator: outbound };
    return new Session(role, localIdentity, remoteIdentity, baseKey, keys, pending, ratchet);
  }
}

function equalTag(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

/**
 * Simultaneous initiation: when both sides started a session at once, each holds two. Both
 * keep both for receiving, and send on the one with the smaller base key, so they converge on
 * the same session without another round trip.
 */
export function preferredSession(a: Session, b: Session): Session {
  return compareBytes(a.baseKey, b.baseKey) <= 0 ? a : b;
}
