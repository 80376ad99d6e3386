import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from './bytes';
import type { CryptoError } from './errors';
import type { IdentityPublicKey } from './keys';
import {
  SAFETY_NUMBER_ITERATIONS,
  SAFETY_NUMBER_QR_BYTES,
  displayHalf,
  formatSafetyNumber,
  iteratedFingerprint,
  safetyNumber,
  verifyScannedSafetyNumber,
} from './safety-number';
import { initCrypto, sodium } from './sodium';

let alice: IdentityPublicKey;
let bob: IdentityPublicKey;
let mallory: IdentityPublicKey;

/** An Ed25519 identity key from a fixed seed, as identity.ts derives it. */
function keyFromSeed(fill: number): IdentityPublicKey {
  return sodium().crypto_sign_seed_keypair(new Uint8Array(32).fill(fill)).publicKey as IdentityPublicKey;
}

beforeAll(async () => {
  await initCrypto();
  alice = keyFromSeed(1);
  bob = keyFromSeed(2);
  mallory = keyFromSeed(3);
});

describe('safety number', () => {
  it('safety number - both sides see the same 60 digits', () => {
    const forAlice = safetyNumber(alice, bob);
    const forBob = safetyNumber(bob, alice);
    expect(forAlice.digits).toBe(forBob.digits);
    expect(forAlice.digits).toMatch(/^[0-9]{60}$/);
  });

  it('safety number - pinned value for two keys from fixed seeds', () => {
    // Computed once with this implementation; any change of hash, iteration count, digit
    // encoding, ordering or QR layout breaks this test, and must come with a format version.
    expect(toHex(alice)).toBe('8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c');
    expect(toHex(bob)).toBe('8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394');
    const n = safetyNumber(alice, bob);
    expect(n.digits).toBe('145741208135963770687756612177922189751824993190186473800757');
    expect(toHex(n.qrPayload)).toBe(
      '01' +
        '33ea98759a8ceda5f3ee08f7a810817ce1958c0a3fcd8f5e62839c4b5e156112' +
        'bf645f34ced390fa2531095a45e5fbea8301bf4c617cc167fe70730173d1009b',
    );
  });

  it("safety number - the construction matches libsignal's published vector", () => {
    // libsignal rust/protocol/src/fingerprint.rs, fingerprint_test_v1: 33-byte Curve25519 keys
    // with phone numbers as stable ids, 5200 iterations.
    expect(SAFETY_NUMBER_ITERATIONS).toBe(5200);
    const aliceKey = fromHex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868');
    const bobKey = fromHex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b');
    const a = iteratedFingerprint(aliceKey, utf8('+14152222222'));
    const b = iteratedFingerprint(bobKey, utf8('+14153333333'));
    expect(toHex(a.subarray(0, 32))).toBe('1e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df');
    expect(toHex(b.subarray(0, 32))).toBe('d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d');
    const halves = [displayHalf(a), displayHalf(b)].sort();
    expect(halves.join('')).toBe('300354477692869396892869876765458257569162576843440918079131');
  });

  it('safety number - changes when either key changes', () => {
    const original = safetyNumber(alice, bob).digits;
    expect(safetyNumber(mallory, bob).digits).not.toBe(original);
    expect(safetyNumber(alice, mallory).digits).not.toBe(original);
  });

  it('safety number - the digits contain each side’s own half', () => {
    const n = safetyNumber(alice, bob).digits;
    const a = displayHalf(iteratedFingerprint(alice));
    const b = displayHalf(iteratedFingerprint(bob));
    expect([n.slice(0, 30), n.slice(30)].sort()).toEqual([a, b].sort());
  });

  it('safety number - the QR payload is version, my fingerprint, then theirs', () => {
    const payload = safetyNumber(alice, bob).qrPayload;
    expect(payload).toHaveLength(SAFETY_NUMBER_QR_BYTES);
    expect(payload[0]).toBe(1);
    expect(toHex(payload.subarray(1, 33))).toBe(toHex(iteratedFingerprint(alice).subarray(0, 32)));
    expect(toHex(payload.subarray(33))).toBe(toHex(iteratedFingerprint(bob).subarray(0, 32)));
  });

  describe('scanning', () => {
    it("safety number - each side accepts the other's QR code", () => {
      const fromBob = safetyNumber(bob, alice).qrPayload;
      const fromAlice = safetyNumber(alice, bob).qrPayload;
      expect(verifyScannedSafetyNumber({ local: alice, remote: bob }, fromBob)).toBe(true);
      expect(verifyScannedSafetyNumber({ local: bob, remote: alice }, fromAlice)).toBe(true);
    });

    it('safety number - a scanner rejects its own QR code', () => {
      const mine = safetyNumber(alice, bob).qrPayload;
      expect(verifyScannedSafetyNumber({ local: alice, remote: bob }, mine)).toBe(false);
    });

    it('safety number - a code involving a third key is rejected', () => {
      const me = { local: alice, remote: bob };
      // Mallory in the middle: Bob's code shows Mallory as Alice, or Mallory shows her own.
      expect(verifyScannedSafetyNumber(me, safetyNumber(bob, mallory).qrPayload)).toBe(false);
      expect(verifyScannedSafetyNumber(me, safetyNumber(mallory, alice).qrPayload)).toBe(false);
      // Alice expecting Mallory, scanning Bob's genuine code.
      expect(verifyScannedSafetyNumber({ local: alice, remote: mallory }, safetyNumber(bob, alice).qrPayload)).toBe(false);
    });

    it('safety number - a code with another version or length is rejected', () => {
      const genuine = safetyNumber(bob, alice).qrPayload;
      const me = { local: alice, remote: bob };
      const otherVersion = genuine.slice();
      otherVersion[0] = 2;
      expect(verifyScannedSafetyNumber(me, otherVersion)).toBe(false);
      expect(verifyScannedSafetyNumber(me, genuine.subarray(0, genuine.length - 1))).toBe(false);
      expect(verifyScannedSafetyNumber(me, new Uint8Array([...genuine, 0]))).toBe(false);
      expect(verifyScannedSafetyNumber(me, new Uint8Array(0))).toBe(false);
    });

    it('safety number - a code with one altered byte is rejected', () => {
      const genuine = safetyNumber(bob, alice).qrPayload;
      const me = { local: alice, remote: bob };
      for (const at of [1, 32, 33, 64]) {
        const altered = genuine.slice();
        altered[at] = (altered[at] as number) ^ 0x01;
        expect(verifyScannedSafetyNumber(me, altered)).toBe(false);
      }
    });
  });

  describe('formatting', () => {
    it('safety number - formats as 12 groups of 5 digits', () => {
      const formatted = formatSafetyNumber(safetyNumber(alice, bob).digits);
      expect(formatted).toBe('14574 12081 35963 77068 77566 12177 92218 97518 24993 19018 64738 00757');
      expect(formatted.split(' ')).toHaveLength(12);
    });

    it('safety number - formatting refuses anything but 60 digits with MALFORMED', () => {
      for (const bad of ['', '1'.repeat(59), '1'.repeat(61), `${'1'.repeat(59)}a`, `${'1'.repeat(59)} `]) {
        expect(() => formatSafetyNumber(bad)).toThrow(expect.objectContaining({ code: 'MALFORMED' }) as CryptoError);
      }
    });
  });
});
