/**
 * Our own identity on this device: the identity key, the device key (the libp2p PeerId), the
 * signed and one-time prekeys, our contact card and invite secrets. Everything is read from
 * and written to the encrypted store; nothing here touches the network.
 */
import {
  deserializeIdentity,
  deserializeOneTimePrekey,
  deserializeSignedPrekey,
  equalBytes,
  generateIdentity,
  generateOneTimePrekeys,
  generateSignedPrekey,
  introTagOf,
  randomBytes,
  retiredSignedPrekeyExpired,
  serializeIdentity,
  serializeOneTimePrekey,
  serializeSignedPrekey,
  signedPrekeyNeedsRotation,
  createBundle,
  sign,
  utf8,
  fingerprint,
  publicKey,
  ONE_TIME_PREKEY_BATCH,
  ONE_TIME_PREKEY_LOW_WATER,
  SIGNED_PREKEY_GRACE_MS,
  SIGNED_PREKEY_ROTATION_MS,
  type IdentityKeyPair,
  type OneTimePrekey,
  type SignedPrekey,
} from '../../../crypto';
import { deriveMailboxKey, generateDeviceKey, peerIdFromDeviceKey, type MailboxKey } from '../../net';
import type { Store } from '../../store';
import { createCard, encodeInvite, INVITE_SECRET_BYTES, type CardRelay } from '../contacts/card';
import { relayPeerIdOf } from '../network/relay-config';

const DEVICE_KEY_SETTING = 'device.key';
const INVITE_SECRETS_SETTING = 'invite.secrets';
/**
 * Unused invite secrets kept: each shown invite link stays valid until used, up to this many
 * (the oldest is forgotten first), so links handed out recently keep working.
 */
const MAX_INVITE_SECRETS = 20;
/** Signature context of the stored signed-prekey record (integrity of the key at rest). */
const SIGNED_PREKEY_RECORD = utf8('Parley signed prekey record v1');

export class LocalIdentity {
  readonly identity: IdentityKeyPair;
  readonly deviceKey: Uint8Array;
  readonly peerId: string;
  readonly #store: Store;
  readonly #now: () => number;
  #card: Uint8Array | undefined;
  #relays: readonly CardRelay[] = [];
  /** Mailbox keys per relay PeerId: derived, never stored (keys.ts), so cached for the run. */
  readonly #mailboxKeys = new Map<string, MailboxKey>();

  private constructor(store: Store, identity: IdentityKeyPair, deviceKey: Uint8Array, now: () => number) {
    this.#store = store;
    this.identity = identity;
    this.deviceKey = deviceKey;
    this.peerId = peerIdFromDeviceKey(deviceKey).toString();
    this.#now = now;
  }

  /** Creates identity, device key and prekeys in a fresh store. */
  static async create(store: Store, displayName: string, now: () => number): Promise<LocalIdentity> {
    const identity = generateIdentity();
    const deviceKey = await generateDeviceKey();
    store.transaction(() => {
      store.identity.create({ keyPair: serializeIdentity(identity), publicKey: identity.publicKey, displayName }, now());
      store.settings.set(DEVICE_KEY_SETTING, Buffer.from(deviceKey).toString('base64'));
    });
    const local = new LocalIdentity(store, identity, deviceKey, now);
    local.maintainPrekeys();
    return local;
  }

  /** Loads what `create` wrote; undefined when the store has no identity. */
  static load(store: Store, now: () => number): LocalIdentity | undefined {
    const stored = store.identity.get();
    const deviceKey = store.settings.get(DEVICE_KEY_SETTING);
    if (!stored || !deviceKey) return undefined;
    const identity = deserializeIdentity(stored.keyPair.expose());
    const local = new LocalIdentity(store, identity, new Uint8Array(Buffer.from(deviceKey, 'base64')), now);
    local.maintainPrekeys();
    return local;
  }

  get displayName(): string {
    return this.#store.identity.get()?.displayName ?? '';
  }

  get fingerprint(): string {
    return fingerprint(this.identity.publicKey);
  }

  setDisplayName(name: string): void {
    this.#store.identity.setDisplayName(name);
    this.#card = undefined;
  }

  /**
   * The relays our card names (validated addresses, `/…/p2p/<relay PeerId>`), each with our
   * mailbox id there, so contacts know where to reach us and where to leave mail.
   */
  setRelays(addresses: readonly string[]): void {
    this.#relays = addresses.map((address) => ({ address, mailboxId: this.mailboxKey(relayPeerIdOf(address)).id }));
    this.#card = undefined;
  }

  /** Our mailbox key on a relay (deterministic from the identity and the relay's PeerId). */
  mailboxKey(relayPeerId: string): MailboxKey {
    let key = this.#mailboxKeys.get(relayPeerId);
    if (!key) {
      key = deriveMailboxKey(this.identity, relayPeerId);
      this.#mailboxKeys.set(relayPeerId, key);
    }
    return key;
  }

  /** Our signed contact card (no one-time prekey: cards reach strangers; see card.ts). */
  card(): Uint8Array {
    if (!this.#card) {
      const spk = this.currentSignedPrekey();
      const now = this.#now();
      const bundle = createBundle(this.identity, this.peerId, spk, undefined, now);
      this.#card = createCard(this.identity, { displayName: this.displayName, peerId: this.peerId, bundle, relays: this.#relays, createdAt: now });
    }
    return this.#card;
  }

  currentSignedPrekey(): SignedPrekey {
    const stored = this.#store.prekeys.currentSignedPrekey();
    if (!stored) throw new Error('no signed prekey');
    return deserializeSignedPrekey(stored.keyPair.expose());
  }

  /** The signed prekey (current or still in its grace period) whose intro tag this is. */
  signedPrekeyForIntroTag(tag: Uint8Array): SignedPrekey | undefined {
    for (const stored of this.#store.prekeys.listSignedPrekeys()) {
      if (equalBytes(introTagOf(publicKey('signed-prekey', stored.publicKey)), tag)) return deserializeSignedPrekey(stored.keyPair.expose());
    }
    return undefined;
  }

  oneTimePrekey(id: number): OneTimePrekey | undefined {
    const stored = this.#store.prekeys.getOneTime(id);
    return stored && deserializeOneTimePrekey(stored.keyPair.expose());
  }

  /** Rotates the signed prekey when due, drops expired ones, refills one-time prekeys. */
  maintainPrekeys(): void {
    const now = this.#now();
    const store = this.#store;
    const current = store.prekeys.currentSignedPrekey();
    if (!current || signedPrekeyNeedsRotation(deserializeSignedPrekey(current.keyPair.expose()), now)) {
      const spk = generateSignedPrekey(store.prekeys.allocateSignedPrekeyIds(), now);
      store.prekeys.rotateSignedPrekey({
        id: spk.id,
        keyPair: serializeSignedPrekey(spk),
        publicKey: spk.keyPair.publicKey,
        signature: sign(this.identity, SIGNED_PREKEY_RECORD, spk.keyPair.publicKey),
        createdAt: now,
      });
      this.#card = undefined;
    }
    for (const stored of store.prekeys.listSignedPrekeys()) {
      if (stored.retiredAt !== undefined && retiredSignedPrekeyExpired(stored.retiredAt, now)) {
        store.prekeys.deleteRetiredSignedPrekeys(now - SIGNED_PREKEY_GRACE_MS);
        break;
      }
    }
    // A first message can be opened at most a signed prekey's lifetime plus its grace after it
    // was made: base keys seen before that can no longer come back (replay protection).
    store.sessions.forgetBaseKeysBefore(now - SIGNED_PREKEY_ROTATION_MS - SIGNED_PREKEY_GRACE_MS);
    if (store.prekeys.countFreshOneTime() < ONE_TIME_PREKEY_LOW_WATER) {
      const first = store.prekeys.allocateOneTimePrekeyIds(ONE_TIME_PREKEY_BATCH);
      const fresh = generateOneTimePrekeys(first, ONE_TIME_PREKEY_BATCH);
      store.prekeys.addOneTimePrekeys(
        fresh.map((k) => ({ id: k.id, keyPair: serializeOneTimePrekey(k), publicKey: k.keyPair.publicKey })),
        now,
      );
    }
  }

  #inviteSecrets(): string[] {
    const raw = this.#store.settings.get(INVITE_SECRETS_SETTING);
    try {
      const parsed: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string' && /^[0-9a-f]{32}$/.test(s)) : [];
    } catch {
      return [];
    }
  }

  /** The invite link to show: the newest unused secret, made if there is none. */
  inviteLink(): string {
    const secrets = this.#inviteSecrets();
    let current = secrets[secrets.length - 1];
    if (!current) {
      current = Buffer.from(randomBytes(INVITE_SECRET_BYTES)).toString('hex');
      this.#store.settings.set(INVITE_SECRETS_SETTING, JSON.stringify([...secrets, current].slice(-MAX_INVITE_SECRETS)));
    }
    return encodeInvite(this.card(), new Uint8Array(Buffer.from(current, 'hex')));
  }

  /** True (and the secret is used up) if `secret` belongs to an invite we gave out. */
  consumeInviteSecret(secret: Uint8Array): boolean {
    const secrets = this.#inviteSecrets();
    const hex = Buffer.from(secret).toString('hex');
    if (!secrets.includes(hex)) return false;
    this.#store.settings.set(INVITE_SECRETS_SETTING, JSON.stringify(secrets.filter((s) => s !== hex)));
    return true;
  }
}
