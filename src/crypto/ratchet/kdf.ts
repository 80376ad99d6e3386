/**
 * The two KDF chains of the Double Ratchet (Signal spec §2.2, §2.3, §5.2):
 *   KDF_RK(rk, dh_out) = HKDF(salt = rk, ikm = dh_out, info) → (rk', ck)
 *   KDF_CK(ck)         = (HMAC(ck, 0x02) → ck',  HMAC(ck, 0x01) → mk)
 */
import { utf8 } from '../bytes';
import { hkdf, hmacSha256 } from '../hkdf';

const ROOT_INFO = utf8('Parley ratchet v1');
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

export interface RootStep {
  readonly rootKey: Uint8Array;
  readonly chainKey: Uint8Array;
}

export function kdfRoot(rootKey: Uint8Array, dhOutput: Uint8Array): RootStep {
  const out = hkdf(rootKey, dhOutput, ROOT_INFO, 64);
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32, 64) };
}

export function messageKeyOf(chainKey: Uint8Array): Uint8Array {
  return hmacSha256(chainKey, MESSAGE_KEY_SEED);
}

export function nextChainKey(chainKey: Uint8Array): Uint8Array {
  return hmacSha256(chainKey, CHAIN_KEY_SEED);
}
