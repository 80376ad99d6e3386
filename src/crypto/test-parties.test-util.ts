/**
 * Two-party harness for tests and benchmarks: Alice and Bob with identities, prekeys, and the
 * routing a messaging layer would do (tag → session, intro tag → signed prekey).
 */
import { envelopeTag } from './envelope';
import { generateIdentity, type IdentityKeyPair } from './identity';
import { toHex } from './bytes';
import {
  createBundle,
  generateOneTimePrekeys,
  generateSignedPrekey,
  verifyBundle,
  type OneTimePrekey,
  type SignedPrekey,
} from './prekeys';
import { Session, introTagOf, openPrekeyEnvelope } from './session';

export const T0 = 1_700_000_000_000;

export class Party {
  readonly identity: IdentityKeyPair;
  readonly peerId: string;
  readonly signedPrekey: SignedPrekey;
  readonly oneTimePrekeys = new Map<number, OneTimePrekey>();
  /** Sessions by inbound tag (hex) and by base key (hex), as a store would index them. */
  readonly byTag = new Map<string, Session>();
  readonly byBaseKey = new Map<string, Session>();

  constructor(name: string, identity = generateIdentity(), withOneTimePrekeys = 5) {
    this.identity = identity;
    this.peerId = `12D3KooW${name}`;
    this.signedPrekey = generateSignedPrekey(1, T0);
    for (const k of generateOneTimePrekeys(100, withOneTimePrekeys)) this.oneTimePrekeys.set(k.id, k);
  }

  bundle(withOneTime = true): Uint8Array {
    const opk = withOneTime ? this.oneTimePrekeys.values().next().value : undefined;
    return createBundle(this.identity, this.peerId, this.signedPrekey, opk, T0);
  }

  add(session: Session): Session {
    this.byTag.set(toHex(session.inboundTag), session);
    this.byBaseKey.set(toHex(session.baseKey), session);
    return session;
  }

  /** Starts a session to `other` from its bundle. */
  initiate(other: Party, withOneTime = true): Session {
    const bundle = verifyBundle(other.bundle(withOneTime), { peerId: other.peerId });
    return this.add(Session.initiate(this.identity, bundle));
  }

  /** Routes and decrypts an incoming envelope the way the messaging layer does. */
  receive(envelope: Uint8Array): Uint8Array {
    const tag = toHex(envelopeTag(envelope));
    const session = this.byTag.get(tag);
    if (session) return session.decrypt(envelope);
    if (tag !== toHex(introTagOf(this.signedPrekey.keyPair.publicKey))) throw new Error('unknown tag');
    const opened = openPrekeyEnvelope(this.signedPrekey, envelope);
    const existing = this.byBaseKey.get(toHex(opened.baseKey));
    if (existing) return existing.decryptPrekey(opened);
    const opk = opened.oneTimePrekeyId === undefined ? undefined : this.oneTimePrekeys.get(opened.oneTimePrekeyId);
    const result = Session.respond(this.identity, this.signedPrekey, opk, opened);
    if (result.usedOneTimePrekeyId !== undefined) this.oneTimePrekeys.delete(result.usedOneTimePrekeyId);
    this.add(result.session);
    return result.plaintext;
  }
}
