/**
 * The core: one object that runs a Parley peer for a data folder, the same inside Electron's
 * main process, the headless peer and tests. Before an identity is unlocked only the identity
 * commands work; after, every command of the contract.
 *
 * @example
 * ```ts
 * const core = await startCore({ dataDir, listen: ['/ip4/0.0.0.0/tcp/0'], lan: true, log });
 * await core.api['identity.create']({ displayName: 'Ada', passphrase: 'correct horse' });
 * core.events.subscribe((event, payload) => forwardToUi(event, payload));
 * ```
 */
import '../polyfills';
import { initCrypto } from '../../crypto';
import { ApiFailure, type CoreApi, type Profile, type Settings } from '../../shared';
import { createStore, isStoreError, openStore, storeExists, type KeyWrapper, type Store } from '../store';
import { saveDraft } from './drafts';
import { EventBus } from './events';
import { LocalIdentity } from './identity/local-identity';
import { fromApiId } from './ids';
import { Peer } from './peer';
import type { Core, CoreOptions, KeychainProtector } from './types';

const DEFAULT_SETTINGS: Settings = { lanVisible: true, theme: 'system', notifications: true, notificationPreview: true };
const SETTINGS_KEY = 'ui.settings';

/** The OS keychain as a store key wrapper (desktop only). */
function keychainWrapper(keychain: KeychainProtector): KeyWrapper {
  return {
    kind: 'keychain',
    wrap: async (key) => keychain.encrypt(key.expose()),
    unwrap: async (blob) => {
      const { SecretKey } = await import('../../crypto');
      return new SecretKey('storage', keychain.decrypt(blob));
    },
  };
}

function storeFailure(error: unknown): never {
  if (isStoreError(error)) {
    switch (error.code) {
      case 'WRONG_PASSPHRASE':
        throw new ApiFailure('WRONG_PASSPHRASE', 'wrong passphrase');
      case 'WRONG_UNLOCK_METHOD':
        throw new ApiFailure('WRONG_PASSPHRASE', 'this profile is unlocked another way');
      case 'ALREADY_EXISTS':
        throw new ApiFailure('ALREADY_EXISTS', 'an identity already exists');
      case 'NO_STORE':
        throw new ApiFailure('NO_IDENTITY', 'create an identity first');
      case 'IN_USE':
        throw new ApiFailure('LOCKED', 'this profile is open in another Parley');
      default:
        break;
    }
  }
  throw error;
}

export async function startCore(options: CoreOptions): Promise<Core> {
  await initCrypto();
  const events = new EventBus();
  const now = options.now ?? Date.now;
  let peer: Peer | undefined;
  let unlocking: Promise<Profile> | undefined;

  const profile = (p: Peer): Profile => ({
    displayName: p.local.displayName,
    peerId: p.local.peerId,
    fingerprint: p.local.fingerprint,
    inviteLink: p.local.inviteLink(),
  });

  const requirePeer = (): Peer => {
    if (peer) return peer;
    if (!storeExists(options.dataDir)) throw new ApiFailure('NO_IDENTITY', 'create an identity first');
    throw new ApiFailure('LOCKED', 'unlock first');
  };

  async function begin(store: Store, local: LocalIdentity): Promise<Profile> {
    try {
      peer = await Peer.start(store, local, options, events);
    } catch (error) {
      store.close();
      throw error;
    }
    options.log.info('peer started');
    return profile(peer);
  }

  function unlockWith(passphrase: string | undefined, useKeychain: boolean | undefined) {
    if (useKeychain || passphrase === undefined) {
      if (!options.keychain?.isAvailable()) throw new ApiFailure('INVALID_ARGUMENT', 'a passphrase is required here');
      return keychainWrapper(options.keychain);
    }
    return passphrase;
  }

  /** Runs one create/unlock at a time: a double click must not open the store twice. */
  async function exclusive(run: () => Promise<Profile>): Promise<Profile> {
    if (peer) throw new ApiFailure('ALREADY_EXISTS', 'already unlocked');
    if (unlocking) throw new ApiFailure('LOCKED', 'unlock in progress');
    unlocking = run();
    try {
      return await unlocking;
    } finally {
      unlocking = undefined;
    }
  }

  /** The UI preferences (one JSON value) and the relays, which the peer keeps and applies itself. */
  const settings = (p: Peer): Settings => {
    let stored: Partial<Settings> = {};
    try {
      const raw = p.store.settings.get(SETTINGS_KEY);
      if (raw) stored = JSON.parse(raw) as Partial<Settings>;
    } catch {
      // Unreadable preferences fall back to the defaults.
    }
    const { relays: _ignored, ...preferences } = stored;
    return { ...DEFAULT_SETTINGS, ...preferences, relays: p.relays() };
  };

  const api: CoreApi = {
    'identity.status': async () => ({
      state: peer ? 'unlocked' : storeExists(options.dataDir) ? 'locked' : 'none',
      keychainAvailable: options.keychain?.isAvailable() ?? false,
      ...(peer ? { profile: profile(peer) } : {}),
    }),
    'identity.create': ({ displayName, passphrase, useKeychain }) =>
      exclusive(async () => {
        const store = await createStore(options.dataDir, unlockWith(passphrase, useKeychain)).catch(storeFailure);
        let local: LocalIdentity;
        try {
          local = await LocalIdentity.create(store, displayName, now);
        } catch (error) {
          store.close();
          throw error;
        }
        return begin(store, local);
      }),
    'identity.unlock': ({ passphrase }) =>
      exclusive(async () => {
        if (!storeExists(options.dataDir)) throw new ApiFailure('NO_IDENTITY', 'create an identity first');
        const store = await openStore(options.dataDir, unlockWith(passphrase, passphrase === undefined)).catch(storeFailure);
        const local = LocalIdentity.load(store, now);
        if (!local) {
          store.close();
          throw new ApiFailure('NO_IDENTITY', 'this profile has no identity');
        }
        return begin(store, local);
      }),
    'identity.changePassphrase': async ({ current, next }) => {
      const p = requirePeer();
      await p.store.changePassphrase(current, next).catch(storeFailure);
      return {};
    },
    'identity.setDisplayName': async ({ displayName }) => {
      const p = requirePeer();
      p.local.setDisplayName(displayName);
      return profile(p);
    },

    'nearby.list': async () => requirePeer().contacts.nearbyList(),
    'contacts.list': async () => requirePeer().contacts.list(),
    'contacts.requests': async () => requirePeer().contacts.requests(),
    'contacts.request': async ({ peerId }) => requirePeer().contacts.request(peerId),
    'contacts.accept': async ({ requestId }) => requirePeer().contacts.accept(fromApiId(requestId, 'request')),
    'contacts.decline': async ({ requestId }) => {
      requirePeer().contacts.decline(fromApiId(requestId, 'request'));
      return {};
    },
    'contacts.addFromInvite': async ({ link }) => requirePeer().contacts.addFromInvite(link),
    'contacts.safetyNumber': async ({ contactId }) => requirePeer().contacts.safetyNumber(fromApiId(contactId, 'contact')),
    'contacts.setVerified': async ({ contactId, verified }) => requirePeer().contacts.setVerified(fromApiId(contactId, 'contact'), verified),
    'contacts.setBlocked': async ({ contactId, blocked }) => requirePeer().contacts.setBlocked(fromApiId(contactId, 'contact'), blocked),
    'contacts.acceptKeyChange': async ({ contactId }) => requirePeer().contacts.acceptKeyChange(fromApiId(contactId, 'contact')),

    'conversations.list': async () => requirePeer().conversations(),
    'messages.page': async ({ conversationId, before, limit }) => requirePeer().page(conversationId, before, limit),
    'messages.send': async ({ conversationId, body }) => requirePeer().send(conversationId, body),
    'messages.markRead': async ({ conversationId }) => {
      requirePeer().markRead(conversationId);
      return {};
    },
    'messages.retry': async ({ messageId }) => requirePeer().retry(messageId),
    'drafts.set': async ({ conversationId, text }) => {
      saveDraft(requirePeer().store, conversationId, text);
      return {};
    },

    'network.status': async () => requirePeer().networkStatus(),
    'settings.get': async () => settings(requirePeer()),
    'settings.update': async ({ relays, ...patch }) => {
      const p = requirePeer();
      // Checked and applied first: a bad relay list changes nothing.
      if (relays !== undefined) p.setRelays(relays);
      const { relays: _current, ...preferences } = { ...settings(p), ...patch };
      p.store.settings.set(SETTINGS_KEY, JSON.stringify(preferences));
      return settings(p);
    },
  };

  return {
    api,
    events,
    async stop() {
      const running = peer;
      peer = undefined;
      await running?.stop();
    },
  };
}
