import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, fromUtf8, toHex, utf8 } from './bytes';
import { envelopeTag } from './envelope';
import { CryptoError, isCryptoError, type CryptoErrorCode } from './errors';
import { generateIdentity, identityDhKey } from './identity';
import { dh, generateX25519, type SignedPrekeyPublicKey } from './keys';
import { createBundle, generateSignedPrekey, verifyBundle, type SignedPrekey } from './prekeys';
import { MAX_PLAINTEXT_BYTES } from './ratchet/constants';
import { Session, introTagOf, openPrekeyEnvelope, preferredSession } from './session';
import { initCrypto } from './sodium';
import { Party, T0 } from './test-parties.test-util';
import { hkdf } from './hkdf';
import { x3dhInitiate, x3dhRespond } from './x3dh';

beforeAll(async () => {
  await initCrypto();
});

function expectCode(fn: () => unknown, code: CryptoErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected CryptoError ${code}`).toBeInstanceOf(CryptoError);
  expect((caught as CryptoError).code).toBe(code);
}

/** Alice and Bob with an established session (one message each way). */
function established() {
  const alice = new Party('alice');
  const bob = new Party('bob');
  const a = alice.initiate(bob);
  expect(fromUtf8(bob.receive(a.encrypt(utf8('hello'))))).toBe('hello');
  const b = [...bob.byTag.values()][0] as Session;
  expect(fromUtf8(alice.receive(b.encrypt(utf8('hi'))))).toBe('hi');
  return { alice, bob, a, b };
}

describe('x3dh', () => {
  it('x3dh - both sides derive the same secret, with and without a one-time prekey', () => {
    for (const withOneTime of [true, false]) {
      const alice = generateIdentity();
      const bob = new Party('bob');
      const bundle = verifyBundle(bob.bundle(withOneTime), { peerId: bob.peerId });
      const init = x3dhInitiate(alice, bundle);
      const opk = bundle.oneTimePrekey ? bob.oneTimePrekeys.get(bundle.oneTimePrekey.id) : undefined;
      const resp = x3dhRespond(bob.identity, bob.signedPrekey, opk, alice.publicKey, init.ephemeral.publicKey);
      expect(toHex(resp.sharedSecret.expose())).toBe(toHex(init.sharedSecret.expose()));
      expect(toHex(resp.associatedData)).toBe(toHex(concatBytes(alice.publicKey, bob.identity.publicKey)));
      // Recomputed from the X3DH spec's formula (§2.2, §3.3) with the library's own HKDF.
      const dhs = [
        dh(alice.dhSecretKey, bundle.signedPrekey.publicKey),
        dh(init.ephemeral.secretKey, identityDhKey(bob.identity.publicKey)),
        dh(init.ephemeral.secretKey, bundle.signedPrekey.publicKey),
        ...(bundle.oneTimePrekey ? [dh(init.ephemeral.secretKey, bundle.oneTimePrekey.publicKey)] : []),
      ];
      const expected = hkdf(new Uint8Array(32), concatBytes(new Uint8Array(32).fill(0xff), ...dhs), utf8('Parley X3DH v1'), 32);
      expect(toHex(init.sharedSecret.expose())).toBe(toHex(expected));
    }
  });

  it('x3dh - rejects a bundle whose signature does not verify', () => {
    const bob = new Party('bob');
    const bundle = bob.bundle();
    for (const index of [0, 10, 60, bundle.length - 1]) {
      const tampered = bundle.slice();
      tampered[index] = (tampered[index] as number) ^ 0x01;
      expect(() => verifyBundle(tampered, { peerId: bob.peerId })).toThrow(CryptoError);
    }
    const badSig = bundle.slice();
    badSig[bundle.length - 5] = (badSig[bundle.length - 5] as number) ^ 0x80;
    expectCode(() => verifyBundle(badSig, { peerId: bob.peerId }), 'INVALID_SIGNATURE');
  });

  it('x3dh - rejects a bundle for another device or another identity', () => {
    const bob = new Party('bob');
    expectCode(() => verifyBundle(bob.bundle(), { peerId: '12D3KooWmallory' }), 'WRONG_IDENTITY');
    const known = generateIdentity().publicKey;
    expectCode(() => verifyBundle(bob.bundle(), { peerId: bob.peerId, identityKey: known }), 'WRONG_IDENTITY');
    expect(verifyBundle(bob.bundle(), { peerId: bob.peerId, identityKey: bob.identity.publicKey })).toBeTruthy();
  });

  it('x3dh - rejects a signed bundle carrying an all-zero or small-order prekey', () => {
    const bob = generateIdentity();
    const real = generateSignedPrekey(1, T0);
    for (const hex of ['00'.repeat(32), '01' + '00'.repeat(31), 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800']) {
      const bad = Uint8Array.from(hex.match(/../g) as string[], (b) => parseInt(b, 16));
      const forged: SignedPrekey = { ...real, keyPair: { ...real.keyPair, publicKey: bad as SignedPrekeyPublicKey } };
      const encoded = createBundle(bob, 'peer', forged, undefined, T0);
      expectCode(() => verifyBundle(encoded, { peerId: 'peer' }), 'INVALID_KEY');
    }
  });

  it('x3dh - rejects truncated and trailing bytes in a bundle', () => {
    const bob = new Party('bob');
    const bundle = bob.bundle();
    expect(() => verifyBundle(bundle.subarray(0, 40), { peerId: bob.peerId })).toThrow(CryptoError);
    expect(() => verifyBundle(new Uint8Array(0), { peerId: bob.peerId })).toThrow(CryptoError);
    expect(() => verifyBundle(concatBytes(bundle, Uint8Array.of(0)), { peerId: bob.peerId })).toThrow(CryptoError);
  });
});

describe('session', () => {
  it('session - first messages arrive out of order and consume the named one-time prekey', () => {
    const alice = new Party('alice');
    const bob = new Party('bob');
    const before = bob.oneTimePrekeys.size;
    const a = alice.initiate(bob);
    const e1 = a.encrypt(utf8('one'));
    const e2 = a.encrypt(utf8('two'));
    expect(fromUtf8(bob.receive(e2))).toBe('two');
    expect(fromUtf8(bob.receive(e1))).toBe('one');
    expect(bob.oneTimePrekeys.size).toBe(before - 1);
  });

  it('session - the initiator sends prekey envelopes until the first reply, then session envelopes', () => {
    const alice = new Party('alice');
    const bob = new Party('bob');
    const a = alice.initiate(bob, false);
    const intro = toHex(introTagOf(bob.signedPrekey.keyPair.publicKey));
    expect(toHex(envelopeTag(a.encrypt(utf8('x'))))).toBe(intro);
    expect(a.awaitingReply).toBe(true);
    bob.receive(a.encrypt(utf8('y')));
    const b = [...bob.byTag.values()][0] as Session;
    alice.receive(b.encrypt(utf8('reply')));
    expect(a.awaitingReply).toBe(false);
    const next = a.encrypt(utf8('z'));
    expect(toHex(envelopeTag(next))).toBe(toHex(b.inboundTag));
    expect(fromUtf8(bob.receive(next))).toBe('z');
  });

  it('session - a failed handshake consumes no one-time prekey and creates no session', () => {
    const alice = new Party('alice');
    const bob = new Party('bob');
    const a = alice.initiate(bob);
    const envelope = a.encrypt(utf8('first'));
    const opened = openPrekeyEnvelope(bob.signedPrekey, envelope);
    const opk = bob.oneTimePrekeys.get(opened.oneTimePrekeyId as number);
    const tamperedMessage = opened.ratchetMessage.slice();
    tamperedMessage[tamperedMessage.length - 1] = (tamperedMessage[tamperedMessage.length - 1] as number) ^ 1;
    expectCode(() => Session.respond(bob.identity, bob.signedPrekey, opk, { ...opened, ratchetMessage: tamperedMessage }), 'DECRYPT_FAILED');
    // A forger who swaps in another initiator identity derives another secret.
    const mallory = generateIdentity();
    expectCode(() => Session.respond(bob.identity, bob.signedPrekey, opk, { ...opened, initiatorIdentity: mallory.publicKey }), 'DECRYPT_FAILED');
    expectCode(() => Session.respond(bob.identity, bob.signedPrekey, undefined, opened), 'UNKNOWN_PREKEY');
    // The prekey was not consumed: the genuine message still starts the session.
    expect(fromUtf8(bob.receive(envelope))).toBe('first');
  });

  it('session - a replayed prekey message is rejected as a duplicate and creates no second session', () => {
    const alice = new Party('alice');
    const bob = new Party('bob');
    const a = alice.initiate(bob);
    const first = a.encrypt(utf8('first'));
    bob.receive(first);
    expectCode(() => bob.receive(first), 'DUPLICATE_MESSAGE');
    expect(bob.byBaseKey.size).toBe(1);
    // Without the session (e.g. lost), the replay cannot start a new one: its one-time prekey is gone.
    const fresh = new Party('bob-again', bob.identity);
    const opened = openPrekeyEnvelope(bob.signedPrekey, first);
    expectCode(() => Session.respond(fresh.identity, bob.signedPrekey, bob.oneTimePrekeys.get(opened.oneTimePrekeyId as number), opened), 'UNKNOWN_PREKEY');
  });

  it('session - a long conversation in both directions survives serialize/deserialize at every step', () => {
    let { a, b } = established();
    for (let i = 0; i < 20; i++) {
      a = Session.deserialize(a.serialize());
      b = Session.deserialize(b.serialize());
      const fromA = a.encrypt(utf8(`a${i}`));
      const fromA2 = a.encrypt(utf8(`a${i}'`));
      expect(fromUtf8(b.decrypt(fromA2))).toBe(`a${i}'`);
      expect(fromUtf8(b.decrypt(fromA))).toBe(`a${i}`);
      if (i % 3 !== 0) expect(fromUtf8(a.decrypt(b.encrypt(utf8(`b${i}`))))).toBe(`b${i}`);
    }
    expect(toHex(Session.deserialize(a.serialize()).serialize())).toBe(toHex(a.serialize()));
  });

  it('session - forward secrecy: a state captured after message N cannot decrypt message N or earlier ones', () => {
    const { a, b } = established();
    const envelopes = Array.from({ length: 6 }, (_, i) => a.encrypt(utf8(`m${i}`)));
    // Out of order, so some of them are decrypted with stored skipped keys.
    for (const i of [3, 0, 5, 1, 4, 2]) b.decrypt(envelopes[i] as Uint8Array);
    const captured = Session.deserialize(b.serialize());
    for (const e of envelopes) {
      expectCode(() => captured.decrypt(e), 'DUPLICATE_MESSAGE');
    }
  });

  it('session - post-compromise security: a stolen state stops decrypting after one round trip of fresh DH keys', () => {
    const { a, b } = established();
    const stolen = Session.deserialize(a.serialize());
    // Before healing, the attacker reads what Bob sends (the compromise is real).
    const early = b.encrypt(utf8('still readable'));
    expect(fromUtf8(Session.deserialize(stolen.serialize()).decrypt(early))).toBe('still readable');
    a.decrypt(early);
    // One round trip: Alice sends with a fresh ratchet key, Bob answers with a fresh one.
    b.decrypt(a.encrypt(utf8('heal')));
    const late = b.encrypt(utf8('secret again'));
    expect(fromUtf8(a.decrypt(late))).toBe('secret again');
    expect(() => stolen.decrypt(late)).toThrow(CryptoError);
  });

  it('session - rejects envelopes for another session, of another version or of a size that is no bucket', () => {
    const { a, b } = established();
    const other = established();
    expectCode(() => b.decrypt(other.a.encrypt(utf8('x'))), 'DECRYPT_FAILED');
    const e = a.encrypt(utf8('x'));
    const wrongVersion = e.slice();
    wrongVersion[0] = 2;
    expectCode(() => b.decrypt(wrongVersion), 'UNSUPPORTED_VERSION');
    expectCode(() => b.decrypt(e.subarray(0, e.length - 1)), 'MALFORMED');
    expectCode(() => b.decrypt(new Uint8Array(0)), 'MALFORMED');
    expect(fromUtf8(b.decrypt(e))).toBe('x');
  });

  it('session - carries the largest plaintext and refuses a larger one', () => {
    const { a, b } = established();
    const big = new Uint8Array(MAX_PLAINTEXT_BYTES).fill(7);
    expect(b.decrypt(a.encrypt(big))).toEqual(big);
    expectCode(() => a.encrypt(new Uint8Array(MAX_PLAINTEXT_BYTES + 1)), 'TOO_LARGE');
  });

  it('session - simultaneous initiation converges on one session for both sides', () => {
    const alice = new Party('alice');
    const bob = new Party('bob');
    const a1 = alice.initiate(bob);
    const b1 = bob.initiate(alice);
    const fromAlice = a1.encrypt(utf8('hi bob'));
    const fromBob = b1.encrypt(utf8('hi alice'));
    expect(fromUtf8(bob.receive(fromAlice))).toBe('hi bob');
    expect(fromUtf8(alice.receive(fromBob))).toBe('hi alice');
    const aliceChoice = preferredSession(...([...alice.byBaseKey.values()] as [Session, Session]));
    const bobChoice = preferredSession(...([...bob.byBaseKey.values()] as [Session, Session]));
    expect(toHex(aliceChoice.baseKey)).toBe(toHex(bobChoice.baseKey));
    for (let i = 0; i < 3; i++) {
      expect(fromUtf8(bob.receive(aliceChoice.encrypt(utf8(`a${i}`))))).toBe(`a${i}`);
      expect(fromUtf8(alice.receive(bobChoice.encrypt(utf8(`b${i}`))))).toBe(`b${i}`);
    }
    expect(aliceChoice.awaitingReply || bobChoice.awaitingReply).toBe(false);
  });

  it('session - deserialize refuses truncated, trailing and foreign bytes', () => {
    const { a } = established();
    const state = a.serialize();
    expect(() => Session.deserialize(state.subarray(0, state.length - 1))).toThrow(CryptoError);
    expect(() => Session.deserialize(concatBytes(state, Uint8Array.of(0)))).toThrow(CryptoError);
    expect(() => Session.deserialize(utf8('not a session'))).toThrow(CryptoError);
  });

  it('session - error messages carry no key bytes or plaintext', () => {
    const { a, b } = established();
    const secret = 'canary-8f3a1c';
    const e = a.encrypt(utf8(secret));
    const tampered = e.slice();
    tampered[100] = (tampered[100] as number) ^ 1;
    try {
      b.decrypt(tampered);
      expect.unreachable('tampered envelope decrypted');
    } catch (err) {
      expect(isCryptoError(err)).toBe(true);
      const text = `${String(err)} ${JSON.stringify(err)} ${(err as Error).stack}`;
      expect(text).not.toContain(secret);
      expect(text).not.toContain(toHex(e).slice(0, 16));
    }
    expect(String(generateX25519('ratchet').secretKey)).toBe('[SecretKey ratchet]');
  });
});
