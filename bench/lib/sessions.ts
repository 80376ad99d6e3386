/**
 * The protocol steps the benchmarks time, written against the public API of src/crypto the way
 * the messaging layer will call it: a fresh session setup in the four phases libsignal's bench
 * reports, and established pairs whose sessions live either as objects (an in-memory session
 * cache) or as serialized bytes loaded and saved around every call (a persistent store, as
 * libsignal's headline "serialized stores" do).
 */
import { toHex } from '../../src/crypto/bytes';
import { envelopeTag } from '../../src/crypto/envelope';
import { generateIdentity } from '../../src/crypto/identity';
import { createBundle, generateOneTimePrekeys, generateSignedPrekey, verifyBundle } from '../../src/crypto/prekeys';
import { Session, introTagOf, openPrekeyEnvelope } from '../../src/crypto/session';
import { Party } from '../../src/crypto/test-parties.test-util';
import { assertEqualBytes, now } from './timing';

/** Fixed clock for prekeys and bundles: time is a parameter of the library, not read by it. */
const BENCH_TIME = 1_700_000_000_000;
const PEER_ID = '12D3KooWBenchBobBenchBobBenchBobBenchBobBenchBob';

export interface SetupPhases {
  identities: bigint;
  bob_publish_bundle: bigint;
  alice_process_bundle_and_encrypt: bigint;
  bob_decrypt_prekey_msg: bigint;
}

export interface SetupResult {
  readonly phases: SetupPhases;
  readonly prekeyEnvelopeBytes: number;
  readonly initiatorStateBytes: number;
  readonly responderStateBytes: number;
}

/**
 * One complete setup from nothing, like libsignal's (fresh keys every time): two identities;
 * Bob makes a signed prekey, one one-time prekey and a signed bundle (and the intro tag he
 * listens on for that prekey); Alice verifies the bundle, starts a session and encrypts a
 * first message; Bob routes it by tag, opens it, responds and decrypts. The plaintext is
 * checked. Session states are measured only when `measureState` is set (outside timing).
 */
export function freshSetup(message: Uint8Array, measureState = false): SetupResult {
  const t0 = now();
  const alice = generateIdentity();
  const bob = generateIdentity();
  const t1 = now();
  const signedPrekey = generateSignedPrekey(1, BENCH_TIME);
  const [oneTimePrekey] = generateOneTimePrekeys(1, 1);
  const wireBundle = createBundle(bob, PEER_ID, signedPrekey, oneTimePrekey, BENCH_TIME);
  const bobIntroTag = toHex(introTagOf(signedPrekey.keyPair.publicKey));
  const t2 = now();
  const session = Session.initiate(alice, verifyBundle(wireBundle, { peerId: PEER_ID }));
  const envelope = session.encrypt(message);
  const t3 = now();
  if (toHex(envelopeTag(envelope)) !== bobIntroTag) throw new Error('prekey envelope has the wrong tag');
  const opened = openPrekeyEnvelope(signedPrekey, envelope);
  const result = Session.respond(bob, signedPrekey, oneTimePrekey, opened);
  const t4 = now();
  assertEqualBytes(result.plaintext, message, 'Session.respond');
  if (result.usedOneTimePrekeyId !== oneTimePrekey?.id) throw new Error('one-time prekey not reported as used');
  return {
    phases: {
      identities: t1 - t0,
      bob_publish_bundle: t2 - t1,
      alice_process_bundle_and_encrypt: t3 - t2,
      bob_decrypt_prekey_msg: t4 - t3,
    },
    prekeyEnvelopeBytes: envelope.length,
    initiatorStateBytes: measureState ? session.serialize().length : 0,
    responderStateBytes: measureState ? result.session.serialize().length : 0,
  };
}

/** Alice and Bob with an established session: Alice's first message and Bob's reply done. */
export interface EstablishedPair {
  readonly alice: Party;
  readonly bob: Party;
  readonly aliceSession: Session;
  readonly bobSession: Session;
}

export function establishedPair(message: Uint8Array): EstablishedPair {
  const alice = new Party('alice');
  const bob = new Party('bob');
  const aliceSession = alice.initiate(bob);
  assertEqualBytes(bob.receive(aliceSession.encrypt(message)), message, 'first message');
  const bobSession = bob.byBaseKey.get(toHex(aliceSession.baseKey));
  if (!bobSession) throw new Error('responder session missing');
  assertEqualBytes(alice.receive(bobSession.encrypt(message)), message, 'first reply');
  if (aliceSession.awaitingReply) throw new Error('initiator still sends prekey envelopes');
  return { alice, bob, aliceSession, bobSession };
}

/**
 * Sends one message from one party's session to the other party, routed by tag as the
 * messaging layer does (Party.receive), and checks the plaintext. Returns the envelope.
 */
export function send(from: Session, to: Party, message: Uint8Array): Uint8Array {
  const envelope = from.encrypt(message);
  assertEqualBytes(to.receive(envelope), message, 'session decrypt');
  return envelope;
}

/**
 * The same pair with each side's session kept only as serialized bytes in a store keyed by
 * inbound tag: every send loads (deserializes) the sender's session, encrypts and saves it;
 * every receive looks the tag up, loads the session, decrypts and saves it.
 */
export class PersistedPair {
  readonly #stores: [Map<string, Uint8Array>, Map<string, Uint8Array>];
  /** Each side's outbound session key in its own store (its inbound tag). */
  readonly #own: [string, string];

  constructor(pair: EstablishedPair) {
    const a = toHex(pair.aliceSession.inboundTag);
    const b = toHex(pair.bobSession.inboundTag);
    this.#stores = [new Map([[a, pair.aliceSession.serialize()]]), new Map([[b, pair.bobSession.serialize()]])];
    this.#own = [a, b];
  }

  /** Side 0 (Alice) or 1 (Bob) sends `message` to the other side. */
  send(from: 0 | 1, message: Uint8Array): Uint8Array {
    const to = from === 0 ? 1 : 0;
    const sender = Session.deserialize(this.#stores[from].get(this.#own[from]) as Uint8Array);
    const envelope = sender.encrypt(message);
    this.#stores[from].set(this.#own[from], sender.serialize());
    const tag = toHex(envelopeTag(envelope));
    const stored = this.#stores[to].get(tag);
    if (!stored) throw new Error('no session for this tag');
    const receiver = Session.deserialize(stored);
    assertEqualBytes(receiver.decrypt(envelope), message, 'persisted session decrypt');
    this.#stores[to].set(tag, receiver.serialize());
    return envelope;
  }

  stateBytes(side: 0 | 1): number {
    return (this.#stores[side].get(this.#own[side]) as Uint8Array).length;
  }
}
