/**
 * Property tests of the ratchet and the envelope: random interleavings with reordering, loss
 * and duplication; byte flips that must leave state untouched; replayed first messages.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromUtf8, toHex, utf8 } from './bytes';
import { CryptoError, isCryptoError } from './errors';
import { generateX25519 } from './keys';
import { MAX_FORWARD_JUMP } from './ratchet/constants';
import { DoubleRatchet } from './ratchet/double-ratchet';
import { Session } from './session';
import { initCrypto } from './sodium';
import { Party } from './test-parties.test-util';

beforeAll(async () => {
  await initCrypto();
});

type Side = 'alice' | 'bob';
interface InFlight {
  readonly to: Side;
  readonly text: string;
  readonly envelope: Uint8Array;
}

/** An action script: fast-check shrinks it to a minimal failing interleaving. */
const action = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: fc.constantFrom<Side>('alice', 'bob') }),
  fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
);

describe('session properties', () => {
  it('session - every delivered message decrypts exactly once under reordering, loss and duplication', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 80 }), (script) => {
        const parties = { alice: new Party('alice'), bob: new Party('bob') };
        const sessions: Partial<Record<Side, Session>> = { alice: parties.alice.initiate(parties.bob) };
        const inFlight: InFlight[] = [];
        const delivered: InFlight[] = [];
        const received: Record<Side, string[]> = { alice: [], bob: [] };
        let counter = 0;
        for (const step of script) {
          if (step.kind === 'send') {
            const session = sessions[step.from];
            if (!session) continue; // Bob has no session until a first message reached him
            const text = `${step.from}-${counter++}`;
            inFlight.push({ to: step.from === 'alice' ? 'bob' : 'alice', text, envelope: session.encrypt(utf8(text)) });
          } else if (step.kind === 'deliver' && inFlight.length > 0) {
            const [m] = inFlight.splice(step.pick % inFlight.length, 1) as [InFlight];
            received[m.to].push(fromUtf8(parties[m.to].receive(m.envelope)));
            delivered.push(m);
            if (m.to === 'bob' && !sessions.bob) sessions.bob = [...parties.bob.byTag.values()][0];
          } else if (step.kind === 'duplicate' && delivered.length > 0) {
            const m = delivered[step.pick % delivered.length] as InFlight;
            try {
              parties[m.to].receive(m.envelope);
              return false; // a duplicate must never decrypt again
            } catch (err) {
              if (!isCryptoError(err, 'DUPLICATE_MESSAGE') && !isCryptoError(err, 'DECRYPT_FAILED')) throw err;
            }
          } else if (step.kind === 'drop' && inFlight.length > 0) {
            inFlight.splice(step.pick % inFlight.length, 1);
          }
        }
        // Every delivered message arrived once, with its own text.
        for (const side of ['alice', 'bob'] as const) {
          const expected = delivered.filter((m) => m.to === side).map((m) => m.text);
          expect(received[side]).toEqual(expected);
          expect(new Set(received[side]).size).toBe(received[side].length);
        }
        return true;
      }),
      { numRuns: 150 },
    );
  });

  it('session - flipping any byte of an envelope is rejected, leaves both states byte-for-byte unchanged, and the genuine message still decrypts', () => {
    fc.assert(
      fc.property(fc.nat({ max: 6 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (warmup, position, mask) => {
        const alice = new Party('alice');
        const bob = new Party('bob');
        const a = alice.initiate(bob);
        bob.receive(a.encrypt(utf8('start')));
        const b = [...bob.byTag.values()][0] as Session;
        for (let i = 0; i < warmup; i++) {
          alice.receive(b.encrypt(utf8(`b${i}`)));
          if (i % 2 === 0) bob.receive(a.encrypt(utf8(`a${i}`)));
        }
        const genuine = b.encrypt(utf8('genuine'));
        const before = toHex(a.serialize());
        const tampered = genuine.slice();
        const index = position % tampered.length;
        tampered[index] = (tampered[index] as number) ^ mask;
        expect(() => alice.receive(tampered)).toThrow();
        expect(toHex(a.serialize())).toBe(before);
        expect(fromUtf8(alice.receive(genuine))).toBe('genuine');
      }),
      { numRuns: 150 },
    );
  });

  it('ratchet - flipping any byte of a ratchet header or ciphertext is rejected and leaves the state unchanged', () => {
    fc.assert(
      fc.property(fc.nat({ max: 4 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (rounds, position, mask) => {
        const ad = utf8('associated data');
        const root = new Uint8Array(32).fill(1);
        const chain = new Uint8Array(32).fill(2);
        const alice = DoubleRatchet.initiator(ad, root.slice(), chain.slice());
        const first = alice.encrypt(utf8('first'));
        const bob = DoubleRatchet.responder(ad, root.slice(), chain.slice(), DoubleRatchet.firstRatchetKey(first));
        bob.decrypt(first);
        for (let i = 0; i < rounds; i++) {
          alice.decrypt(bob.encrypt(utf8(`b${i}`)));
          bob.decrypt(alice.encrypt(utf8(`a${i}`)));
        }
        const genuine = alice.encrypt(utf8('genuine'));
        const before = toHex(bob.serialize());
        const tampered = genuine.slice();
        const index = position % tampered.length;
        tampered[index] = (tampered[index] as number) ^ mask;
        expect(() => bob.decrypt(tampered)).toThrow(CryptoError);
        expect(toHex(bob.serialize())).toBe(before);
        expect(fromUtf8(bob.decrypt(genuine))).toBe('genuine');
      }),
      { numRuns: 200 },
    );
  });

  it('ratchet - a gap beyond MAX_FORWARD_JUMP is refused before any key is derived', () => {
    const ad = utf8('ad');
    const alice = DoubleRatchet.initiator(ad, new Uint8Array(32).fill(3), new Uint8Array(32).fill(4));
    const first = alice.encrypt(utf8('first'));
    const bob = DoubleRatchet.responder(ad, new Uint8Array(32).fill(3), new Uint8Array(32).fill(4), DoubleRatchet.firstRatchetKey(first));
    bob.decrypt(first);
    alice.decrypt(bob.encrypt(utf8('reply'))); // Bob now has a sending key, so new chains are possible
    const before = toHex(bob.serialize());
    // Genuine messages just past the cap, in the current chain and in a new chain.
    let last = first;
    for (let i = 0; i <= MAX_FORWARD_JUMP + 1; i++) last = alice.encrypt(utf8(`m${i}`));
    expect(() => bob.decrypt(last)).toThrow(expect.objectContaining({ code: 'TOO_BIG_MESSAGE_GAP' }));
    // A forged counter near 2^32: deriving the keys would take hours, so this returning at all
    // shows the check comes first.
    for (const counter of [0xffff_fff0, 0x7fff_ffff]) {
      const forged = first.slice();
      new DataView(forged.buffer).setUint32(36, counter);
      expect(() => bob.decrypt(forged)).toThrow(expect.objectContaining({ code: 'TOO_BIG_MESSAGE_GAP' }));
      const newChain = forged.slice();
      newChain.set(generateX25519('ratchet').publicKey, 0);
      expect(() => bob.decrypt(newChain)).toThrow(expect.objectContaining({ code: 'TOO_BIG_MESSAGE_GAP' }));
    }
    expect(toHex(bob.serialize())).toBe(before);
    expect(bob.skippedKeyCount).toBe(0);
  });

  it('session - replayed first (prekey) messages never decrypt twice and never create a second session', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (count, replays, replyFirst) => {
          const alice = new Party('alice');
          const bob = new Party('bob');
          const a = alice.initiate(bob);
          const firsts = Array.from({ length: count }, (_, i) => a.encrypt(utf8(`first-${i}`)));
          firsts.forEach((e, i) => expect(fromUtf8(bob.receive(e))).toBe(`first-${i}`));
          if (replyFirst) alice.receive(([...bob.byTag.values()][0] as Session).encrypt(utf8('reply')));
          for (const pick of replays) {
            expect(() => bob.receive(firsts[pick % count] as Uint8Array)).toThrow(
              expect.objectContaining({ code: 'DUPLICATE_MESSAGE' }),
            );
          }
          expect(bob.byBaseKey.size).toBe(1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('ratchet - a reverse-order burst of MAX_FORWARD_JUMP messages all decrypt once', () => {
    const { alice, bob } = { alice: new Party('alice'), bob: new Party('bob') };
    const a = alice.initiate(bob);
    bob.receive(a.encrypt(utf8('start')));
    const burst = Array.from({ length: MAX_FORWARD_JUMP }, (_, i) => a.encrypt(utf8(`m${i}`)));
    for (let i = burst.length - 1; i >= 0; i--) expect(fromUtf8(bob.receive(burst[i] as Uint8Array))).toBe(`m${i}`);
    for (const i of [0, 1, 999, MAX_FORWARD_JUMP - 1]) {
      expect(() => bob.receive(burst[i] as Uint8Array)).toThrow(expect.objectContaining({ code: 'DUPLICATE_MESSAGE' }));
    }
    const b = [...bob.byTag.values()][0] as Session;
    expect(toHex(Session.deserialize(b.serialize()).serialize())).toBe(toHex(b.serialize()));
  });
});
