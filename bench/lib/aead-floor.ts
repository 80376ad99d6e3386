/**
 * The raw XChaCha20-Poly1305 floor, measured exactly as the libsignal anchor measures it
 * (`../shared/bench/libsignal/bench.mjs`, benchSodium, headline part): encrypt + decrypt per
 * message with a counter nonce (sodium.increment) and no AD, a cheap length/first/last-byte
 * check in the loop and one full comparison outside it. Same libsodium (1.0.22) in both.
 */
import sodium from 'libsodium-wrappers-sumo';
import { randomBytes } from '../../src/crypto/random';
import { assertEqualBytes, log, timed } from './timing';

const MSG_LEN = 200;

/** The AEAD floor, exactly as libsignal's bench.mjs measures it (benchSodium, headline part). */
export function benchSodiumFloor() {
  log('h. libsodium XChaCha20-Poly1305 floor (encrypt + decrypt, counter nonce, no AD)');
  const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  const counterNonce = new Uint8Array(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const roundTrip = (m: Uint8Array, nonce: Uint8Array) => {
    const c = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(m, null, null, nonce, key);
    const p = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c, null, nonce, key);
    if (p.length !== m.length || p[0] !== m[0] || p[p.length - 1] !== m[m.length - 1]) throw new Error('sodium mismatch');
  };
  {
    const m = randomBytes(MSG_LEN);
    const c = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(m, null, null, counterNonce, key);
    assertEqualBytes(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, c, null, counterNonce, key), m, 'sodium aead');
  }
  const m200 = randomBytes(MSG_LEN);
  const r200 = timed('sodium_aead_200B', () => {
    sodium.increment(counterNonce);
    roundTrip(m200, counterNonce);
  }, { batch: 100 });
  const m64k = randomBytes(64 * 1024);
  const r64k = timed('sodium_aead_64KiB', () => {
    sodium.increment(counterNonce);
    roundTrip(m64k, counterNonce);
  }, { batch: 4 });
  return { r200, r64k, MBps: (r64k.per_s * 64 * 1024) / 1e6 };
}

