import { createHash } from 'node:crypto';
import { format, inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from './bytes';
import { identityDhKey, verify } from './identity';
import { isCryptoError } from './errors';
import {
  SecretKey,
  dh,
  fingerprint,
  generateX25519,
  isSmallOrderX25519,
  publicKey,
  type PublicKeyKind,
  type RatchetPublicKey,
} from './keys';
import { randomBytes } from './random';
import { initCrypto, sodium } from './sodium';

beforeAll(async () => {
  await initCrypto();
});

/**
 * libsodium's small-order list (x25519_ref10.c `has_small_order`), copied here independently of
 * keys.ts so a wrong or missing entry there is caught: the x-coordinates of points of order
 * 1, 2, 4 and 8 on the curve and its twist, plus the non-canonical encodings p and p + 1.
 */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000', // 0: order 2 (and the point at infinity)
  '0100000000000000000000000000000000000000000000000000000000000000', // 1: order 4 on the curve
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p − 1: order 4 on the twist
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p ≡ 0
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p + 1 ≡ 1
].map(fromHex);

/** Every listed point, and the same with the top bit set (RFC 7748 §5 masks it on decoding). */
const SMALL_ORDER_ENCODINGS = SMALL_ORDER.flatMap((point) => {
  const high = point.slice();
  high[31] = (high[31] as number) | 0x80;
  return [point, high];
});

const X25519_KINDS = ['identity-dh', 'signed-prekey', 'one-time-prekey', 'ephemeral', 'ratchet'] as const;
const ALL_KINDS: readonly PublicKeyKind[] = ['identity', ...X25519_KINDS];

function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isCryptoError(error) ? error.code : `non-CryptoError ${String(error)}`;
  }
  return undefined;
}

// RFC 7748 §5 X25519 on BigInts, independent of libsodium: it shows the listed points really
// map to zero, rather than libsodium refusing them because they are on its own list.
const P = 2n ** 255n - 19n;
const mod = (a: bigint): bigint => ((a % P) + P) % P;

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

function powMod(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  for (let b = mod(base), e = exponent; e > 0n; e >>= 1n, b = mod(b * b)) if (e & 1n) result = mod(result * b);
  return result;
}

function referenceX25519(scalar: Uint8Array, u: Uint8Array): bigint {
  const k = scalar.slice();
  k[0] = (k[0] as number) & 248;
  k[31] = ((k[31] as number) & 127) | 64;
  const masked = u.slice();
  masked[31] = (masked[31] as number) & 127;
  const n = littleEndian(k);
  const x1 = mod(littleEndian(masked));
  let [x2, z2, x3, z3, swap] = [1n, 0n, x1, 1n, 0n];
  for (let t = 254n; t >= 0n; t--) {
    const bit = (n >> t) & 1n;
    if (swap ^ bit) [x2, x3, z2, z3] = [x3, x2, z3, z2];
    swap = bit;
    const a = mod(x2 + z2);
    const b = mod(x2 - z2);
    const [aa, bb] = [mod(a * a), mod(b * b)];
    const e = mod(aa - bb);
    const da = mod(mod(x3 - z3) * a);
    const cb = mod(mod(x3 + z3) * b);
    x3 = mod((da + cb) ** 2n);
    z3 = mod(x1 * (da - cb) ** 2n);
    x2 = mod(aa * bb);
    z2 = mod(e * (aa + 121665n * e));
  }
  if (swap) [x2, z2] = [x3, z3];
  return mod(x2 * powMod(z2, P - 2n));
}

describe('small-order X25519 points', () => {
  it('keys - the reference X25519 used below agrees with libsodium on genuine keys', () => {
    for (let i = 0; i < 10; i++) {
      const [scalar, peer] = [randomBytes(32), sodium().crypto_scalarmult_base(randomBytes(32))];
      expect(referenceX25519(scalar, peer)).toBe(littleEndian(sodium().crypto_scalarmult(scalar, peer)));
    }
  });

  it('keys - every listed point, top bit clear or set, gives a zero shared secret for any scalar', () => {
    for (const point of SMALL_ORDER_ENCODINGS) {
      for (let i = 0; i < 4; i++) expect(referenceX25519(randomBytes(32), point), toHex(point)).toBe(0n);
    }
  });

  it('keys - libsodium crypto_scalarmult refuses every listed point, top bit clear or set', () => {
    for (const point of SMALL_ORDER_ENCODINGS) {
      for (let i = 0; i < 4; i++) expect(() => sodium().crypto_scalarmult(randomBytes(32), point), toHex(point)).toThrow();
    }
  });

  it('keys - isSmallOrderX25519 recognises every listed point, top bit clear or set', () => {
    expect(SMALL_ORDER_ENCODINGS).toHaveLength(14);
    for (const point of SMALL_ORDER_ENCODINGS) expect(isSmallOrderX25519(point), toHex(point)).toBe(true);
  });

  it('keys - publicKey() refuses every listed point with INVALID_KEY for every X25519 kind', () => {
    for (const point of SMALL_ORDER_ENCODINGS) {
      for (const kind of X25519_KINDS) expect(thrownCode(() => publicKey(kind, point)), `${kind} ${toHex(point)}`).toBe('INVALID_KEY');
    }
  });

  it('keys - dh() refuses every listed point with INVALID_KEY', () => {
    const { secretKey } = generateX25519('ratchet');
    for (const point of SMALL_ORDER_ENCODINGS) {
      expect(thrownCode(() => dh(secretKey, point as RatchetPublicKey)), toHex(point)).toBe('INVALID_KEY');
    }
  });
});

describe('publicKey', () => {
  it('keys - genuine random X25519 public keys pass for every X25519 kind', () => {
    for (let i = 0; i < 100; i++) {
      const pub = sodium().crypto_scalarmult_base(randomBytes(32));
      expect(isSmallOrderX25519(pub)).toBe(false);
      for (const kind of X25519_KINDS) expect(publicKey(kind, pub)).toBe(pub);
    }
  });

  it('keys - genuine Ed25519 identity keys pass as identity keys', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey: pub } = sodium().crypto_sign_seed_keypair(randomBytes(32));
      expect(publicKey('identity', pub)).toBe(pub);
    }
  });

  it('keys - wrong lengths throw INVALID_KEY for every kind', () => {
    for (const kind of ALL_KINDS) {
      for (const length of [0, 1, 31, 33, 64]) {
        const bytes = randomBytes(length);
        expect(thrownCode(() => publicKey(kind, bytes)), `${kind}, ${length} bytes`).toBe('INVALID_KEY');
      }
    }
  });

  it('keys - an all-zero key throws INVALID_KEY for every kind', () => {
    for (const kind of ALL_KINDS) expect(thrownCode(() => publicKey(kind, new Uint8Array(32))), kind).toBe('INVALID_KEY');
  });

  it('keys - an identity key that is not a valid Ed25519 point is refused wherever it is used', () => {
    // The neutral element (small order) and y = p (a non-canonical encoding).
    const neutral = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
    const nonCanonical = fromHex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    for (const bytes of [neutral, nonCanonical]) {
      const key = publicKey('identity', bytes); // not decoded here, by design (keys.ts)
      expect(thrownCode(() => identityDhKey(key))).toBe('INVALID_KEY');
      expect(verify(key, utf8('ctx'), utf8('message'), new Uint8Array(64))).toBe(false);
    }
  });

  it('keys - isSmallOrderX25519 is false for a wrong length rather than throwing', () => {
    expect(isSmallOrderX25519(new Uint8Array(31))).toBe(false);
    expect(isSmallOrderX25519(new Uint8Array(33))).toBe(false);
  });
});

describe('dh', () => {
  it('keys - both sides of an X25519 exchange derive the same non-zero secret', () => {
    const alice = generateX25519('ratchet');
    const bob = generateX25519('ratchet');
    const a = dh(alice.secretKey, bob.publicKey);
    expect(a).toHaveLength(32);
    expect(sodium().is_zero(a)).toBe(false);
    expect(toHex(dh(bob.secretKey, alice.publicKey))).toBe(toHex(a));
  });
});

describe('SecretKey', () => {
  function renderings(key: SecretKey<'ratchet'> | SecretKey<'identity'>): string[] {
    return [
      String(key),
      `${key}`,
      key.toString(),
      JSON.stringify(key),
      JSON.stringify({ nested: [{ key }] }),
      inspect(key),
      inspect({ nested: [{ key }] }, { depth: Infinity, showHidden: true }),
      format('%s %o %O %j', key, key, key, key),
    ];
  }

  it.each([
    ['ratchet', 32],
    ['identity', 64],
  ] as const)('keys - SecretKey(%s) never shows its bytes in String(), JSON.stringify or util.inspect', (kind, length) => {
    const bytes = randomBytes(length);
    const key = new SecretKey(kind, bytes);
    const leaks = [toHex(bytes), Buffer.from(bytes).toString('base64'), bytes.join(','), bytes.join(', ')];
    for (const text of renderings(key)) {
      expect(text).toContain(`[SecretKey ${kind}]`);
      expect(text).not.toMatch(/Uint8Array|Buffer/);
      for (const leak of leaks) expect(text).not.toContain(leak);
    }
    // Own enumerable properties hold no bytes either (spread, Object.values, structured logging).
    expect(Object.values({ ...key } as Record<string, unknown>).some((v) => v instanceof Uint8Array)).toBe(false);
    expect(key.expose()).toBe(bytes);
  });

  it('keys - SecretKey refuses bytes of the wrong length with INVALID_KEY', () => {
    expect(thrownCode(() => new SecretKey('ratchet', new Uint8Array(31)))).toBe('INVALID_KEY');
    expect(thrownCode(() => new SecretKey('ratchet', new Uint8Array(64)))).toBe('INVALID_KEY');
    expect(thrownCode(() => new SecretKey('identity', new Uint8Array(32)))).toBe('INVALID_KEY');
  });
});

describe('fingerprint', () => {
  it('keys - fingerprint is five groups of four hex digits from the first 80 bits of SHA-256', () => {
    const pub = generateX25519('ratchet').publicKey;
    const digest = createHash('sha256').update(pub).digest('hex').slice(0, 20);
    expect(fingerprint(pub)).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){4}$/);
    expect(fingerprint(pub).replaceAll(' ', '')).toBe(digest);
  });

  it('keys - fingerprint is stable for the same key, even from a copy of its bytes', () => {
    const pub = generateX25519('ratchet').publicKey;
    expect(fingerprint(pub)).toBe(fingerprint(pub));
    expect(fingerprint(publicKey('ratchet', pub.slice()))).toBe(fingerprint(pub));
  });

  it('keys - fingerprint differs for different keys, including a one-bit change', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(fingerprint(generateX25519('ratchet').publicKey));
    expect(seen.size).toBe(200);
    const pub = generateX25519('ratchet').publicKey;
    const flipped = pub.slice();
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(fingerprint(publicKey('ratchet', flipped))).not.toBe(fingerprint(pub));
  });
});
