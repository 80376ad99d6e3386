/**
 * Pinned known-answer vectors for Parley's own wire formats. Keys and randomness come from a
 * fixed deterministic source, so every byte below is reproducible; any change to a format, a
 * KDF label or a derivation order changes them and fails here. Update them only together with
 * a version bump of the format that changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteWriter, fromUtf8, toHex, utf8 } from './bytes';
import { generateIdentity, serializeIdentity } from './identity';
import { createBundle, generateOneTimePrekeys, generateSignedPrekey, verifyBundle } from './prekeys';
import { setRandomSource, type RandomSource } from './random';
import { DoubleRatchet } from './ratchet/double-ratchet';
import { Session, openPrekeyEnvelope } from './session';
import { initCrypto, sodium } from './sodium';
import { x3dhInitiate } from './x3dh';

/** SHA-256 in counter mode over a fixed seed: deterministic bytes for pinning formats. */
class DeterministicRandom implements RandomSource {
  #counter = 0;
  constructor(private readonly seed: string) {}
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += 32) {
      const block = sodium().crypto_hash_sha256(new ByteWriter().raw(utf8(this.seed)).u32(this.#counter++).finish());
      out.set(block.subarray(0, Math.min(32, length - offset)), offset);
    }
    return out;
  }
}

const T0 = 1_700_000_000_000;
let restore: RandomSource;

beforeAll(async () => {
  await initCrypto();
  restore = setRandomSource(new DeterministicRandom('parley test vectors v1'));
});

afterAll(() => {
  setRandomSource(restore);
});

/** Compares with the pinned value; an empty pin fails and prints the value to pin. */
function pin(name: keyof typeof PINNED, actual: string): void {
  expect(actual, `pinned vector ${name} (empty pins print the current value)`).toBe(PINNED[name] || `<unpinned> ${actual}`);
}

const sha256 = (bytes: Uint8Array) => toHex(sodium().crypto_hash_sha256(bytes));

describe('pinned vectors', () => {
  it('vectors - identities, bundle, X3DH secret, first ratchet message and envelopes are byte-for-byte stable', () => {
    const alice = generateIdentity();
    const bob = generateIdentity();
    pin('alicePublic', toHex(alice.publicKey));
    pin('bobPublic', toHex(bob.publicKey));
    pin('aliceSerialized', toHex(serializeIdentity(alice)));

    const spk = generateSignedPrekey(7, T0);
    const [opk] = generateOneTimePrekeys(42, 1);
    const encodedBundle = createBundle(bob, '12D3KooWbob', spk, opk, T0);
    pin('bundle', toHex(encodedBundle));
    const bundle = verifyBundle(encodedBundle, { peerId: '12D3KooWbob' });

    const x3dh = x3dhInitiate(alice, bundle);
    pin('x3dhSecret', toHex(x3dh.sharedSecret.expose()));
    expect(toHex(x3dh.associatedData)).toBe(toHex(alice.publicKey) + toHex(bob.publicKey));

    const ratchet = DoubleRatchet.initiator(utf8('ad'), new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    pin('firstRatchetMessage', toHex(ratchet.encrypt(utf8('first'))));
    pin('secondRatchetMessage', toHex(ratchet.encrypt(utf8('second'))));

    const session = Session.initiate(alice, bundle);
    const prekeyEnvelope = session.encrypt(utf8('hello bob'));
    expect(prekeyEnvelope.length).toBe(256);
    pin('prekeyEnvelopeSha256', sha256(prekeyEnvelope));

    const opened = openPrekeyEnvelope(spk, prekeyEnvelope);
    const { session: bobSession, plaintext } = Session.respond(bob, spk, opk, opened);
    expect(fromUtf8(plaintext)).toBe('hello bob');
    const reply = bobSession.encrypt(utf8('hello alice'));
    pin('replyEnvelopeSha256', sha256(reply));
    expect(fromUtf8(session.decrypt(reply))).toBe('hello alice');
    pin('sessionEnvelopeSha256', sha256(session.encrypt(utf8('third'))));
  });
});

const PINNED = {
  alicePublic: 'de2d71d30b855eaea24796f93d22204b173f330f155e34e7a98cf781fe2a33de',
  bobPublic: '4fd47695fcde99a56f8a99212fc29818c6e6df7a4fa08cdef91d8422136ce5f2',
  aliceSerialized: '0183da458beffa1ed05a2b2102cedcac07fc9d1b913a68a8c5fd7d74f6f2935623',
  bundle:
    '010000000b313244334b6f6f57626f624fd47695fcde99a56f8a99212fc29818c6e6df7a4fa08cdef91d8422136ce5f248ed9378b3301e7437147c95abbfbc6d780e4987196c1b8e32114b8a9a78fb5600000007e9d641de06b061c65621b6b928fdb266215e25f31b5f410eb5ade4ce409a3e370000018bcfe56800010000002a8298b3861020580748d1860692906fa5d64bfade761d474f07ea616968b101183cc834bbac32255ab8fa4ac5c15ae76060cd24888e824b4ca10831ff1eee9796c282cc832c7191cc3673a78cc04767378db51c2a6ef6e94f7d5a102133c4640b',
  x3dhSecret: '023251e4d9a3d18b1b9db50070b566b77c890e7c01433c65d484b15c9b34a827',
  firstRatchetMessage:
    'b5fffcb0943fc26b2b975f1d3d4c7be56d8dfa2c4def7fcc3ce4d95b2f39880800000000000000002dc449a063e0bd11933fc4e9adb149866d83cb8f4730b0e55eeda8140afafda41f9bc5c765b7398d3a355c8bcd',
  secondRatchetMessage:
    'b5fffcb0943fc26b2b975f1d3d4c7be56d8dfa2c4def7fcc3ce4d95b2f3988080000000000000001ca28f608dc06188d9740204f7ddf6df1824001cab3cb56763b326747d1f15552b3cc9526f0069d290508a9eda036',
  prekeyEnvelopeSha256: 'd6c2b9c417a4b64b0f280640427080c602a37acd8fe85cc0eeedc55d76790b91',
  replyEnvelopeSha256: 'a4de081cad9732664dec4afbf50364744425a17172632e54fdee2d5163776e0d',
  sessionEnvelopeSha256: '87ea8e22372ab771ee06cc5da4caef9c4195a93533c76dfcab68508a03c5acee',
};
