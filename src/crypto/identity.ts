/**
 * Long-term identity: one Ed25519 key pair.
 *
 * The X25519 key used in X3DH is the Ed25519 key converted with libsodium
 * (crypto_sign_ed25519_{pk,sk}_to_curve25519), not a second key signed by the first. Why:
 * the identity is then a single 32-byte value that the safety number, contact cards and
 * invites all cover, there is no second signature to verify or forget to verify, and the
 * joint use of one key for Ed25519 signatures and X25519 DH is proven secure (Thormarker,
 * "On using the same key pair for Ed25519 and an X25519 based KEM", 2021) and is what Signal's
 * XEdDSA does in the other direction.
 */
import { ByteReader, ByteWriter } from './bytes';
import { CryptoError } from './errors';
import {
  SYMMETRIC_KEY_BYTES,
  SecretKey,
  publicKey,
  type IdentityDhPublicKey,
  type IdentityPublicKey,
} from './keys';
import { randomBytes } from './random';
import { sodium } from './sodium';

export const SIGNATURE_BYTES = 64;
const IDENTITY_FORMAT_VERSION = 1;

export interface IdentityKeyPair {
  readonly publicKey: IdentityPublicKey;
  readonly secretKey: SecretKey<'identity'>;
  readonly dhPublicKey: IdentityDhPublicKey;
  readonly dhSecretKey: SecretKey<'identity-dh'>;
}

function fromSeed(seed: Uint8Array): IdentityKeyPair {
  const s = sodium();
  const { publicKey: pub, privateKey } = s.crypto_sign_seed_keypair(seed);
  const dhSecret = s.crypto_sign_ed25519_sk_to_curve25519(privateKey);
  let dhPublic: IdentityDhPublicKey | undefined;
  return {
    publicKey: pub as IdentityPublicKey,
    secretKey: new SecretKey('identity', privateKey),
    // Computed on first use: X3DH needs only the secret half of our own identity. From the
    // X25519 secret it costs one base-point multiplication, half of pk_to_curve25519.
    get dhPublicKey(): IdentityDhPublicKey {
      return (dhPublic ??= s.crypto_scalarmult_base(dhSecret) as IdentityDhPublicKey);
    },
    dhSecretKey: new SecretKey('identity-dh', dhSecret),
  };
}

export function generateIdentity(): IdentityKeyPair {
  return fromSeed(randomBytes(SYMMETRIC_KEY_BYTES));
}

/** The X25519 form of a peer's identity key; INVALID_KEY for a key that is not a valid point. */
export function identityDhKey(identity: IdentityPublicKey): IdentityDhPublicKey {
  try {
    return publicKey('identity-dh', sodium().crypto_sign_ed25519_pk_to_curve25519(identity));
  } catch {
    throw new CryptoError('INVALID_KEY', 'identity key has no X25519 form');
  }
}

/** Detached Ed25519 signature by the identity. `context` separates what is signed (a format name). */
export function sign(identity: IdentityKeyPair, context: Uint8Array, message: Uint8Array): Uint8Array {
  return sodium().crypto_sign_detached(concatContext(context, message), identity.secretKey.expose());
}

export function verify(
  key: IdentityPublicKey,
  context: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    return sodium().crypto_sign_verify_detached(signature, concatContext(context, message), key);
  } catch {
    return false;
  }
}

function concatContext(context: Uint8Array, message: Uint8Array): Uint8Array {
  // Length-prefixed context, so no (context, message) pair can collide with another.
  return new ByteWriter(context.length + message.length + 8).bytes(context).raw(message).finish();
}

/** Serialized as version ‖ seed: 33 bytes. Store it only inside the encrypted database. */
export function serializeIdentity(identity: IdentityKeyPair): Uint8Array {
  const seed = sodium().crypto_sign_ed25519_sk_to_seed(identity.secretKey.expose());
  return new ByteWriter(33).u8(IDENTITY_FORMAT_VERSION).raw(seed).finish();
}

export function deserializeIdentity(bytes: Uint8Array): IdentityKeyPair {
  const r = new ByteReader(bytes);
  if (r.u8() !== IDENTITY_FORMAT_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'identity');
  const seed = r.raw(SYMMETRIC_KEY_BYTES);
  r.end();
  return fromSeed(seed);
}
