/**
 * The Double Ratchet (Signal spec, rev. 1), with one deliberate difference in initialisation,
 * as Olm/vodozemac do it: the first sending chain of the initiator and the first receiving
 * chain of the responder come straight from the X3DH secret rather than from a DH with the
 * signed prekey, which saves one X25519 per side per session. The responder performs its
 * first DH ratchet step when it first sends; the DH ratchet is then exactly the spec's, with
 * the sending half of each step done lazily at the next send (same keys, same order).
 *
 * `decrypt` computes the next state in locals and commits it only after the AEAD tag
 * verified (vodozemac's rule): a forged, altered, replayed or too-distant message leaves the
 * state byte-for-byte as it was.
 */
import { ByteReader, ByteWriter, concatBytes } from '../bytes';
import { CryptoError } from '../errors';
import { PUBLIC_KEY_BYTES, SecretKey, dh, generateX25519, publicKey, type KeyPair, type RatchetPublicKey } from '../keys';
import { randomBytes } from '../random';
import { sodium } from '../sodium';
import {
  MAX_FORWARD_JUMP,
  MAX_PLAINTEXT_BYTES,
  MAX_RECEIVER_CHAINS,
  MAX_SKIPPED_KEYS,
  RATCHET_STATE_VERSION,
} from './constants';
import { NONCE_BYTES, encodeHeader, parseRatchetMessage } from './header';
import { kdfRoot, messageKeyOf, nextChainKey } from './kdf';

const KEY = 32;
/** Counters are u32 on the wire; a chain never gets near this (a DH step resets it). */
const MAX_COUNTER = 0xffff_ffff - MAX_FORWARD_JUMP;
/** Upper bound on the associated data kept in a state (two identity keys today). */
const MAX_AD_BYTES = 256;

interface SendingChain {
  chainKey: Uint8Array;
  index: number;
}

interface ReceivingChain {
  readonly remoteKey: RatchetPublicKey;
  /** Hex of remoteKey: the prefix of this chain's entries in the skipped-key map. */
  readonly remoteId: string;
  chainKey: Uint8Array;
  /** The counter of the next message expected in this chain. */
  index: number;
}

interface SkippedKey {
  readonly remoteKey: RatchetPublicKey;
  readonly counter: number;
  readonly messageKey: Uint8Array;
}

function hexOf(bytes: Uint8Array): string {
  return sodium().to_hex(bytes);
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  // Public values: no need for constant time, and this runs for every message.
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function aeadSeal(messageKey: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  return sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, messageKey);
}

function aeadOpen(messageKey: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  try {
    return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, messageKey);
  } catch {
    return undefined;
  }
}

/** Derives the keys of `chainKey` from `from` up to `counter`: the skipped ones, the message key and the next chain key. */
function advanceChain(remoteKey: RatchetPublicKey, chainKey: Uint8Array, from: number, counter: number) {
  const skipped: SkippedKey[] = [];
  let ck = chainKey;
  for (let i = from; i < counter; i++) {
    skipped.push({ remoteKey, counter: i, messageKey: messageKeyOf(ck) });
    ck = nextChainKey(ck);
  }
  return { skipped, messageKey: messageKeyOf(ck), chainKey: nextChainKey(ck) };
}

export class DoubleRatchet {
  #rootKey: Uint8Array;
  #sendKeyPair: KeyPair<'ratchet'> | undefined;
  /** Undefined when the next send must first take the sending half of a DH ratchet step. */
  #sending: SendingChain | undefined;
  #previousChainLength: number;
  /** Newest first; receivers[0] belongs to the remote's current ratchet key. */
  #receivers: ReceivingChain[];
  /** Insertion-ordered, so the first entries are the oldest to evict. */
  #skipped: Map<string, SkippedKey>;
  readonly #ad: Uint8Array;

  private constructor(
    ad: Uint8Array,
    rootKey: Uint8Array,
    sendKeyPair: KeyPair<'ratchet'> | undefined,
    sending: SendingChain | undefined,
    previousChainLength: number,
    receivers: ReceivingChain[],
    skipped: Map<string, SkippedKey>,
  ) {
    this.#ad = ad;
    this.#rootKey = rootKey;
    this.#sendKeyPair = sendKeyPair;
    this.#sending = sending;
    this.#previousChainLength = previousChainLength;
    this.#receivers = receivers;
    this.#skipped = skipped;
  }

  /**
   * The initiator: sends first, on a chain taken from the X3DH output. Its first ratchet key
   * may be the X3DH ephemeral (the session passes it): the secret is then kept until the first
   * reply, exactly as long as any first ratchet key, and one key generation is saved.
   */
  static initiator(
    ad: Uint8Array,
    rootKey: Uint8Array,
    firstChainKey: Uint8Array,
    sendKeyPair: KeyPair<'ratchet'> = generateX25519('ratchet'),
  ): DoubleRatchet {
    return new DoubleRatchet(ad, rootKey, sendKeyPair, { chainKey: firstChainKey, index: 0 }, 0, [], new Map());
  }

  /** The responder: receives first, on the initiator's first ratchet key and chain. */
  static responder(ad: Uint8Array, rootKey: Uint8Array, firstChainKey: Uint8Array, remoteKey: RatchetPublicKey): DoubleRatchet {
    const chain: ReceivingChain = { remoteKey, remoteId: hexOf(remoteKey), chainKey: firstChainKey, index: 0 };
    return new DoubleRatchet(ad, rootKey, undefined, undefined, 0, [chain], new Map());
  }

  /** The remote ratchet key the responder's first receiving chain belongs to. */
  static firstRatchetKey(message: Uint8Array): RatchetPublicKey {
    return parseRatchetMessage(message).header.ratchetKey;
  }

  /** Number of skipped message keys held (for tests and diagnostics). */
  get skippedKeyCount(): number {
    return this.#skipped.size;
  }

  encrypt(plaintext: Uint8Array): Uint8Array {
    if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new CryptoError('TOO_LARGE', 'plaintext');
    let rootKey = this.#rootKey;
    let sendKeyPair = this.#sendKeyPair;
    let sending = this.#sending;
    if (!sending) {
      // Sending half of a DH ratchet step (spec §3.5 DHRatchet, second half), done lazily.
      const remote = this.#receivers[0]?.remoteKey;
      if (!remote) throw new CryptoError('MALFORMED', 'no remote ratchet key to send to');
      sendKeyPair = generateX25519('ratchet');
      const step = kdfRoot(rootKey, dh(sendKeyPair.secretKey, remote));
      rootKey = step.rootKey;
      sending = { chainKey: step.chainKey, index: 0 };
    }
    if (sending.index >= MAX_COUNTER) throw new CryptoError('TOO_LARGE', 'sending chain exhausted');
    const header = encodeHeader({
      ratchetKey: (sendKeyPair as KeyPair<'ratchet'>).publicKey,
      previousChainLength: this.#previousChainLength,
      counter: sending.index,
    });
    const messageKey = messageKeyOf(sending.chainKey);
    const nonce = randomBytes(NONCE_BYTES);
    const ciphertext = aeadSeal(messageKey, nonce, plaintext, concatBytes(this.#ad, header));
    // Commit: nothing above can fail after this point.
    this.#rootKey = rootKey;
    this.#sendKeyPair = sendKeyPair;
    this.#sending = { chainKey: nextChainKey(sending.chainKey), index: sending.index + 1 };
    messageKey.fill(0);
    return concatBytes(header, nonce, ciphertext);
  }

  decrypt(message: Uint8Array): Uint8Array {
    const { header, headerBytes, nonce, ciphertext } = parseRatchetMessage(message);
    const ad = concatBytes(this.#ad, headerBytes);
    const { ratchetKey, counter, previousChainLength } = header;

    // 1. A key skipped earlier (out-of-order delivery).
    const chainIndex = this.#receivers.findIndex((c) => sameKey(c.remoteKey, ratchetKey));
    const chain = this.#receivers[chainIndex];
    if (chain) {
      const skippedId = `${chain.remoteId}:${counter}`;
      const skipped = this.#skipped.get(skippedId);
      if (skipped) {
        const plaintext = aeadOpen(skipped.messageKey, nonce, ciphertext, ad);
        if (!plaintext) throw new CryptoError('DECRYPT_FAILED');
        this.#skipped.delete(skippedId);
        return plaintext;
      }
      // 2. The next messages of a known chain.
      if (counter < chain.index) throw new CryptoError('DUPLICATE_MESSAGE');
      if (counter - chain.index > MAX_FORWARD_JUMP) throw new CryptoError('TOO_BIG_MESSAGE_GAP');
      const next = advanceChain(chain.remoteKey, chain.chainKey, chain.index, counter);
      const plaintext = aeadOpen(next.messageKey, nonce, ciphertext, ad);
      if (!plaintext) throw new CryptoError('DECRYPT_FAILED');
      chain.chainKey = next.chainKey;
      chain.index = counter + 1;
      this.#storeSkipped(next.skipped);
      return plaintext;
    }

    // 3. A new remote ratchet key: receiving half of a DH ratchet step (spec §3.5).
    if (!this.#sendKeyPair) throw new CryptoError('DECRYPT_FAILED', 'unexpected ratchet key');
    if (counter > MAX_FORWARD_JUMP) throw new CryptoError('TOO_BIG_MESSAGE_GAP');
    const current = this.#receivers[0];
    let oldChainSkipped: SkippedKey[] = [];
    if (current && previousChainLength > current.index) {
      if (previousChainLength - current.index > MAX_FORWARD_JUMP) throw new CryptoError('TOO_BIG_MESSAGE_GAP');
      // Keys for counters current.index … PN − 1 of the previous chain, inclusive.
      const old = advanceChain(current.remoteKey, current.chainKey, current.index, previousChainLength - 1);
      oldChainSkipped = [...old.skipped, { remoteKey: current.remoteKey, counter: previousChainLength - 1, messageKey: old.messageKey }];
    }
    const step = kdfRoot(this.#rootKey, dh(this.#sendKeyPair.secretKey, ratchetKey));
    const next = advanceChain(ratchetKey, step.chainKey, 0, counter);
    const plaintext = aeadOpen(next.messageKey, nonce, ciphertext, ad);
    if (!plaintext) throw new CryptoError('DECRYPT_FAILED');
    // Commit.
    this.#rootKey = step.rootKey;
    this.#receivers.unshift({ remoteKey: ratchetKey, remoteId: hexOf(ratchetKey), chainKey: next.chainKey, index: counter + 1 });
    if (this.#receivers.length > MAX_RECEIVER_CHAINS) this.#receivers.length = MAX_RECEIVER_CHAINS;
    if (this.#sending) this.#previousChainLength = this.#sending.index;
    this.#sending = undefined;
    this.#storeSkipped(oldChainSkipped);
    this.#storeSkipped(next.skipped);
    return plaintext;
  }

  #storeSkipped(keys: readonly SkippedKey[]): void {
    for (const k of keys) {
      this.#skipped.set(`${hexOf(k.remoteKey)}:${k.counter}`, k);
    }
    // Evict the oldest beyond the cap (Map iterates in insertion order).
    for (const id of this.#skipped.keys()) {
      if (this.#skipped.size <= MAX_SKIPPED_KEYS) break;
      this.#skipped.delete(id);
    }
  }

  serialize(): Uint8Array {
    const w = new ByteWriter(256 + this.#skipped.size * 68)
      .u8(RATCHET_STATE_VERSION)
      .bytes(this.#ad)
      .raw(this.#rootKey)
      .u32(this.#previousChainLength);
    if (this.#sendKeyPair) w.u8(1).raw(this.#sendKeyPair.secretKey.expose()).raw(this.#sendKeyPair.publicKey);
    else w.u8(0);
    if (this.#sending) w.u8(1).raw(this.#sending.chainKey).u32(this.#sending.index);
    else w.u8(0);
    w.u8(this.#receivers.length);
    for (const c of this.#receivers) w.raw(c.remoteKey).raw(c.chainKey).u32(c.index);
    w.u32(this.#skipped.size);
    for (const k of this.#skipped.values()) w.raw(k.remoteKey).u32(k.counter).raw(k.messageKey);
    return w.finish();
  }

  static deserialize(bytes: Uint8Array): DoubleRatchet {
    const r = new ByteReader(bytes);
    if (r.u8() !== RATCHET_STATE_VERSION) throw new CryptoError('UNSUPPORTED_VERSION', 'ratchet state');
    const ad = r.bytes(MAX_AD_BYTES);
    const rootKey = r.raw(KEY);
    const previousChainLength = r.u32();
    let sendKeyPair: KeyPair<'ratchet'> | undefined;
    if (flag(r)) {
      const secret = new SecretKey('ratchet', r.raw(KEY));
      sendKeyPair = { secretKey: secret, publicKey: publicKey('ratchet', r.raw(PUBLIC_KEY_BYTES)) };
    }
    const sending = flag(r) ? { chainKey: r.raw(KEY), index: r.u32() } : undefined;
    const receiverCount = r.u8();
    if (receiverCount > MAX_RECEIVER_CHAINS) throw new CryptoError('MALFORMED', 'too many receiving chains');
    const receivers: ReceivingChain[] = [];
    for (let i = 0; i < receiverCount; i++) {
      const remoteKey = publicKey('ratchet', r.raw(PUBLIC_KEY_BYTES));
      receivers.push({ remoteKey, remoteId: hexOf(remoteKey), chainKey: r.raw(KEY), index: r.u32() });
    }
    const skippedCount = r.u32();
    if (skippedCount > MAX_SKIPPED_KEYS) throw new CryptoError('MALFORMED', 'too many skipped keys');
    const skipped = new Map<string, SkippedKey>();
    for (let i = 0; i < skippedCount; i++) {
      const remoteKey = publicKey('ratchet', r.raw(PUBLIC_KEY_BYTES));
      const counter = r.u32();
      skipped.set(`${hexOf(remoteKey)}:${counter}`, { remoteKey, counter, messageKey: r.raw(KEY) });
    }
    r.end();
    return new DoubleRatchet(ad, rootKey, sendKeyPair, sending, previousChainLength, receivers, skipped);
  }
}

function flag(r: ByteReader): boolean {
  const f = r.u8();
  if (f > 1) throw new CryptoError('MALFORMED', 'flag');
  return f === 1;
}

