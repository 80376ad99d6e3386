/**
 * X3DH key agreement (Signal, "The X3DH Key Agreement Protocol", rev. 1), with X25519 and
 * HKDF-SHA-256. Identity keys are the X25519 forms of the Ed25519 identities (identity.ts).
 *
 *   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  DH4 = DH(EK_A, OPK_B)
 *   SK  = HKDF(salt = 0^32, ikm = 0xFF^32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4], info)        (§2.2, §3.3)
 *   AD  = IK_A ‖ IK_B   (the Ed25519 identity keys, so a session is bound to both identities)
 */
import { concatBytes, utf8 } from './bytes';
import { hkdf } from './hkdf';
import { identityDhKey, type IdentityKeyPair } from './identity';
import {
  SYMMETRIC_KEY_BYTES,
  SecretKey,
  dh,
  generateX25519,
  type EphemeralPublicKey,
  type IdentityPublicKey,
  type KeyPair,
} from './keys';
import type { OneTimePrekey, SignedPrekey, VerifiedBundle } from './prekeys';

const X3DH_INFO = utf8('Parley X3DH v1');
/** §2.2: 32 0xFF bytes before the DH outputs, so SK never equals an XEdDSA/Ed25519 input. */
const X3DH_PREFIX = new Uint8Array(32).fill(0xff);
const X3DH_SALT = new Uint8Array(32);

export interface X3dhSecret {
  readonly sharedSecret: SecretKey<'x3dh-secret'>;
  /** IK_A ‖ IK_B: bound into every ratchet message of the session. */
  readonly associatedData: Uint8Array;
  /** DH3 = DH(EK_A, SPK_B), which also keys the sealed envelope of prekey messages. */
  readonly introSecret: Uint8Array;
}

export interface X3dhInitiation extends X3dhSecret {
  readonly ephemeral: KeyPair<'ephemeral'>;
  readonly signedPrekeyId: number;
  readonly oneTimePrekeyId: number | undefined;
}

function deriveSecret(dhs: Uint8Array[], initiator: IdentityPublicKey, responder: IdentityPublicKey, dh3: Uint8Array): X3dhSecret {
  const sk = hkdf(X3DH_SALT, concatBytes(X3DH_PREFIX, ...dhs), X3DH_INFO, SYMMETRIC_KEY_BYTES);
  return {
    sharedSecret: new SecretKey('x3dh-secret', sk),
    associatedData: concatBytes(initiator, responder),
    introSecret: dh3,
  };
}

/**
 * Alice's side (§3.3), from a bundle `verifyBundle` already checked. Throws INVALID_KEY if a
 * DH with the bundle's keys is degenerate.
 */
export function x3dhInitiate(
  own: IdentityKeyPair,
  bundle: VerifiedBundle,
  ephemeral: KeyPair<'ephemeral'> = generateX25519('ephemeral'),
): X3dhInitiation {
  const remoteIdentityDh = bundle.identityDhKey;
  const spk = bundle.signedPrekey.publicKey;
  const dh1 = dh(own.dhSecretKey, spk);
  const dh2 = dh(ephemeral.secretKey, remoteIdentityDh);
  const dh3 = dh(ephemeral.secretKey, spk);
  const dhs = [dh1, dh2, dh3];
  if (bundle.oneTimePrekey) dhs.push(dh(ephemeral.secretKey, bundle.oneTimePrekey.publicKey));
  return {
    ...deriveSecret(dhs, own.publicKey, bundle.identityKey, dh3),
    ephemeral,
    signedPrekeyId: bundle.signedPrekey.id,
    oneTimePrekeyId: bundle.oneTimePrekey?.id,
  };
}

/** DH3 from Bob's side: enough to open the envelope of a prekey message before the rest. */
export function x3dhIntroSecret(signedPrekey: SignedPrekey, ephemeral: EphemeralPublicKey): Uint8Array {
  return dh(signedPrekey.keyPair.secretKey, ephemeral);
}

/**
 * Bob's side (§3.3). Pure: it consumes nothing. The caller deletes the one-time prekey only
 * after the first message decrypted, so a failed or forged handshake cannot burn one (§4.2).
 */
export function x3dhRespond(
  own: IdentityKeyPair,
  signedPrekey: SignedPrekey,
  oneTimePrekey: OneTimePrekey | undefined,
  initiatorIdentity: IdentityPublicKey,
  ephemeral: EphemeralPublicKey,
  introSecret: Uint8Array = x3dhIntroSecret(signedPrekey, ephemeral),
): X3dhSecret {
  const dh1 = dh(signedPrekey.keyPair.secretKey, identityDhKey(initiatorIdentity));
  const dh2 = dh(own.dhSecretKey, ephemeral);
  const dhs = [dh1, dh2, introSecret];
  if (oneTimePrekey) dhs.push(dh(oneTimePrekey.keyPair.secretKey, ephemeral));
  return deriveSecret(dhs, initiatorIdentity, own.publicKey, introSecret);
}
