/**
 * Identity, prekeys, contacts, devices, sessions, settings, and the transaction helper.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ARCHIVED_SESSIONS_PER_DEVICE, MAX_DISPLAY_NAME_BYTES } from './constants';
import { isStoreError } from './errors';
import { addContactWithDevice, makeTestStore, randomId, randomKey, type TestStore } from './store.test-util';

let t: TestStore;
beforeAll(async () => {
  t = await makeTestStore();
});
afterAll(() => t.cleanup());

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isStoreError(e) ? e.code : `not a StoreError: ${String(e)}`;
  }
  return undefined;
}

describe('identity', () => {
  it('identity - is created once, read back, and only its display name changes', async () => {
    const local = await makeTestStore();
    try {
      const s = local.store;
      expect(s.identity.get()).toBeUndefined();
      expect(codeOf(() => s.identity.setDisplayName('x'))).toBe('NOT_FOUND');
      const publicKey = randomKey();
      s.identity.create({ keyPair: Uint8Array.of(1, 2, 3), publicKey, displayName: 'Me' });
      const stored = s.identity.get();
      expect(stored).toMatchObject({ publicKey, displayName: 'Me', createdAt: local.clock.now });
      expect(stored?.keyPair.expose()).toEqual(Uint8Array.of(1, 2, 3));
      // The secret part does not print: not in JSON, not in the inspector, not as a string.
      expect(JSON.stringify({ keyPair: stored?.keyPair })).toBe('{"keyPair":"[SecretBytes]"}');
      expect(inspect(stored)).toContain('[SecretBytes]');
      expect(String(stored?.keyPair)).toBe('[SecretBytes]');
      expect(codeOf(() => s.identity.create({ keyPair: Uint8Array.of(9), publicKey: randomKey(), displayName: 'Other' }))).toBe('CONFLICT');
      s.identity.setDisplayName('Still me');
      expect(s.identity.get()?.displayName).toBe('Still me');
      expect(s.identity.get()?.keyPair.expose()).toEqual(Uint8Array.of(1, 2, 3));
      expect(codeOf(() => s.identity.setDisplayName('x'.repeat(MAX_DISPLAY_NAME_BYTES + 1)))).toBe('INVALID_INPUT');
    } finally {
      local.cleanup();
    }
  });
});

describe('prekeys', () => {
  const signed = (id: number, createdAt: number) => ({
    id,
    keyPair: Uint8Array.of(id),
    publicKey: randomKey(),
    signature: new Uint8Array(64).fill(id),
    createdAt,
  });

  it('prekeys - ids are allocated once and never handed out again', () => {
    const a = t.store.prekeys.allocateOneTimePrekeyIds(100);
    const b = t.store.prekeys.allocateOneTimePrekeyIds(100);
    expect(b).toBe(a + 100);
    expect(t.store.prekeys.allocateSignedPrekeyIds()).not.toBe(t.store.prekeys.allocateSignedPrekeyIds());
  });

  it('prekeys - rotating keeps one current signed prekey and retires the previous one for the grace period', () => {
    t.store.prekeys.rotateSignedPrekey(signed(1, 1000));
    t.store.prekeys.rotateSignedPrekey(signed(2, 2000));
    expect(t.store.prekeys.currentSignedPrekey()?.id).toBe(2);
    expect(t.store.prekeys.getSignedPrekey(1)?.retiredAt).toBe(2000);
    expect(t.store.prekeys.listSignedPrekeys().map((p) => p.id)).toEqual([2, 1]);
    expect(t.store.prekeys.deleteRetiredSignedPrekeys(1999)).toBe(0);
    expect(t.store.prekeys.deleteRetiredSignedPrekeys(2000)).toBe(1);
    expect(t.store.prekeys.getSignedPrekey(1)).toBeUndefined();
    expect(t.store.prekeys.currentSignedPrekey()?.signature).toEqual(new Uint8Array(64).fill(2));
  });

  it('prekeys - one-time prekeys are handed out one per bundle, and consumed only if the session commits', () => {
    const first = t.store.prekeys.allocateOneTimePrekeyIds(3);
    t.store.prekeys.addOneTimePrekeys([0, 1, 2].map((i) => ({ id: first + i, keyPair: Uint8Array.of(i), publicKey: randomKey() })));
    const fresh = t.store.prekeys.countFreshOneTime();
    const handed = t.store.prekeys.handOutOneTime(t.clock.now);
    expect(handed?.handedOutAt).toBe(t.clock.now);
    expect(t.store.prekeys.countFreshOneTime()).toBe(fresh - 1);
    expect(t.store.prekeys.handOutOneTime()?.id).not.toBe(handed?.id);

    const id = handed?.id as number;
    // A handshake that fails after taking the prekey rolls the deletion back.
    expect(() =>
      t.store.transaction(() => {
        expect(t.store.prekeys.consumeOneTime(id).keyPair.expose()).toEqual(handed?.keyPair.expose());
        throw new Error('decrypt failed');
      }),
    ).toThrow('decrypt failed');
    expect(t.store.prekeys.getOneTime(id)).toBeDefined();

    // One that succeeds deletes it together with the new session.
    const { device } = addContactWithDevice(t.store);
    t.store.transaction(() => {
      t.store.prekeys.consumeOneTime(id);
      t.store.sessions.create({ deviceId: device.id, state: Uint8Array.of(1), baseKey: randomKey(), inboundTag: randomId(), outboundTag: randomId() });
    });
    expect(t.store.prekeys.getOneTime(id)).toBeUndefined();
    expect(codeOf(() => t.store.prekeys.consumeOneTime(id))).toBe('NOT_FOUND');
  });

  it('prekeys - ids outside u32 and duplicate ids are refused', () => {
    expect(codeOf(() => t.store.prekeys.getOneTime(2 ** 32))).toBe('INVALID_INPUT');
    expect(codeOf(() => t.store.prekeys.getOneTime(-1))).toBe('INVALID_INPUT');
    const id = t.store.prekeys.allocateOneTimePrekeyIds(1);
    t.store.prekeys.addOneTimePrekeys([{ id, keyPair: Uint8Array.of(1), publicKey: randomKey() }]);
    expect(codeOf(() => t.store.prekeys.addOneTimePrekeys([{ id, keyPair: Uint8Array.of(1), publicKey: randomKey() }]))).toBe('CONFLICT');
  });
});

describe('contacts and devices', () => {
  it('contacts - add, find by identity key, update, list without blocked ones, remove', () => {
    const identityKey = randomKey();
    const c = t.store.contacts.add({ identityKey, displayName: 'Zoë', requestState: 'incoming' });
    expect(t.store.contacts.getByIdentityKey(identityKey)?.id).toBe(c.id);
    expect(codeOf(() => t.store.contacts.add({ identityKey, displayName: 'Again', requestState: 'outgoing' }))).toBe('CONFLICT');
    t.clock.now += 5;
    const updated = t.store.contacts.update(c.id, { requestState: 'accepted', verified: true, displayName: 'Zoe' });
    expect(updated).toMatchObject({ requestState: 'accepted', verified: true, displayName: 'Zoe', updatedAt: t.clock.now });
    t.store.contacts.update(c.id, { blocked: true });
    expect(t.store.contacts.list().some((x) => x.id === c.id)).toBe(false);
    expect(t.store.contacts.list({ includeBlocked: true }).some((x) => x.id === c.id)).toBe(true);
    expect(t.store.contacts.remove(c.id)).toBe(true);
    expect(t.store.contacts.get(c.id)).toBeUndefined();
    expect(codeOf(() => t.store.contacts.update(c.id, { verified: false }))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.contacts.add({ identityKey: randomKey(), displayName: 'x', requestState: 'friends' as never }))).toBe('INVALID_INPUT');
  });

  it('contacts - a changed identity key waits for the user: accepted, it replaces the key and clears verified', () => {
    const { contact } = addContactWithDevice(t.store);
    t.store.contacts.update(contact.id, { verified: true });
    const newKey = randomKey();
    const changed = t.store.contacts.markIdentityKeyChanged(contact.id, newKey);
    expect(changed).toMatchObject({ keyChanged: true, verified: true, identityKey: contact.identityKey, pendingIdentityKey: newKey });
    const accepted = t.store.contacts.acceptIdentityKeyChange(contact.id);
    expect(accepted).toMatchObject({ keyChanged: false, verified: false, identityKey: newKey, pendingIdentityKey: undefined });
    expect(codeOf(() => t.store.contacts.acceptIdentityKeyChange(contact.id))).toBe('NOT_FOUND');

    t.store.contacts.markIdentityKeyChanged(contact.id, randomKey());
    expect(t.store.contacts.rejectIdentityKeyChange(contact.id)).toMatchObject({ keyChanged: false, identityKey: newKey });
  });

  it('devices - a newer card replaces the stored one, an older one does not, and a device cannot change owner', () => {
    const a = addContactWithDevice(t.store, 'A', 'peer-a');
    const b = addContactWithDevice(t.store, 'B');
    const save = (cardCreatedAt: number, contactId = a.contact.id) =>
      t.store.devices.saveCard({ contactId, peerId: 'peer-a', card: Uint8Array.of(cardCreatedAt), cardCreatedAt });
    expect(save(5).updated).toBe(true);
    expect(save(3).updated).toBe(false);
    expect(t.store.devices.getByPeerId('peer-a')?.card).toEqual(Uint8Array.of(5));
    expect(codeOf(() => save(9, b.contact.id))).toBe('CONFLICT');
    expect(t.store.devices.listByContact(a.contact.id).map((d) => d.peerId)).toEqual(['peer-a']);
  });

  it('devices - last seen moves forward only and addresses are bounded', () => {
    const { device } = addContactWithDevice(t.store, 'Seen', 'peer-seen');
    expect(t.store.devices.markSeen('peer-seen', 200, ['/ip4/127.0.0.1/tcp/4001'])).toBe(true);
    t.store.devices.markSeen('peer-seen', 100);
    expect(t.store.devices.get(device.id)).toMatchObject({ lastSeenAt: 200, addresses: ['/ip4/127.0.0.1/tcp/4001'] });
    expect(codeOf(() => t.store.devices.markSeen('peer-seen', 300, Array(17).fill('/ip4/1.2.3.4/tcp/1')))).toBe('INVALID_INPUT');
    expect(t.store.devices.markSeen('nobody', 300)).toBe(false);
  });
});

describe('sessions', () => {
  const newSession = (deviceId: number, state = 1) => ({
    deviceId,
    state: Uint8Array.of(state),
    baseKey: randomKey(),
    inboundTag: randomId(),
    outboundTag: randomId(),
  });

  it('sessions - every base key a session started from is remembered after the session is gone, until forgotten by age', () => {
    const { device } = addContactWithDevice(t.store);
    const input = newSession(device.id);
    const session = t.store.sessions.create(input, 1_000);
    expect(t.store.sessions.baseKeySeen(input.baseKey)).toBe(true);
    expect(t.store.sessions.baseKeySeen(randomKey())).toBe(false);
    t.store.sessions.remove(session.id);
    expect(t.store.sessions.baseKeySeen(input.baseKey)).toBe(true);
    expect(t.store.sessions.forgetBaseKeysBefore(1_000)).toBe(0);
    expect(t.store.sessions.forgetBaseKeysBefore(1_001)).toBe(1);
    expect(t.store.sessions.baseKeySeen(input.baseKey)).toBe(false);
    expect(() => t.store.sessions.baseKeySeen(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('sessions - found by inbound tag (active or archived), by device and by contact; updated in place', () => {
    const { contact, device } = addContactWithDevice(t.store);
    const first = t.store.sessions.create(newSession(device.id, 1));
    const second = t.store.sessions.create(newSession(device.id, 2));
    expect(t.store.sessions.getActiveForDevice(device.id)?.id).toBe(second.id);
    expect(t.store.sessions.getByInboundTag(first.inboundTag)).toMatchObject({ id: first.id, active: false, contactId: contact.id });
    expect(t.store.sessions.listActiveForContact(contact.id).map((s) => s.id)).toEqual([second.id]);
    expect(t.store.sessions.getByBaseKey(device.id, first.baseKey)?.id).toBe(first.id);

    t.clock.now += 1;
    const nextTag = randomId();
    t.store.sessions.update(second.id, { state: Uint8Array.of(3), inboundTag: nextTag });
    expect(t.store.sessions.getByInboundTag(nextTag)).toMatchObject({ id: second.id, updatedAt: t.clock.now });
    expect(t.store.sessions.get(second.id)?.state.expose()).toEqual(Uint8Array.of(3));
    expect(t.store.sessions.getByInboundTag(second.inboundTag)).toBeUndefined();

    expect(t.store.sessions.deactivateForContact(contact.id)).toBe(1);
    expect(t.store.sessions.getActiveForDevice(device.id)).toBeUndefined();
  });

  it('sessions - keeps a bounded number of archived sessions per device', () => {
    const { device } = addContactWithDevice(t.store);
    const ids = Array.from({ length: MAX_ARCHIVED_SESSIONS_PER_DEVICE + 4 }, (_, i) => {
      t.clock.now += 1;
      return t.store.sessions.create(newSession(device.id, i)).id;
    });
    const kept = ids.filter((id) => t.store.sessions.get(id) !== undefined);
    expect(kept).toEqual(ids.slice(-(MAX_ARCHIVED_SESSIONS_PER_DEVICE + 1)));
  });

  it('sessions - an inbound tag in use is CONFLICT; bad tags and unknown devices are refused', () => {
    const { device } = addContactWithDevice(t.store);
    const s = t.store.sessions.create(newSession(device.id));
    expect(codeOf(() => t.store.sessions.create({ ...newSession(device.id), inboundTag: s.inboundTag }))).toBe('CONFLICT');
    // The failed create rolled back whole: the active session is still the first one.
    expect(t.store.sessions.getActiveForDevice(device.id)?.id).toBe(s.id);
    expect(codeOf(() => t.store.sessions.create({ ...newSession(device.id), inboundTag: new Uint8Array(15) }))).toBe('INVALID_INPUT');
    expect(codeOf(() => t.store.sessions.create(newSession(424_242)))).toBe('NOT_FOUND');
    expect(codeOf(() => t.store.sessions.update(424_242, { state: Uint8Array.of(1) }))).toBe('NOT_FOUND');
  });
});

describe('settings', () => {
  it('settings - set, overwrite, read and delete', () => {
    expect(t.store.settings.get('k')).toBeUndefined();
    t.store.settings.set('k', '1');
    t.store.settings.set('k', '2');
    expect(t.store.settings.get('k')).toBe('2');
    expect(t.store.settings.delete('k')).toBe(true);
    expect(t.store.settings.get('k')).toBeUndefined();
    expect(codeOf(() => t.store.settings.set('', 'x'))).toBe('INVALID_INPUT');
  });
});

describe('transactions', () => {
  it('transaction - commits on return and rolls everything back on a throw', () => {
    const result = t.store.transaction(() => {
      t.store.settings.set('a', '1');
      return 42;
    });
    expect(result).toBe(42);
    expect(() =>
      t.store.transaction(() => {
        t.store.settings.set('a', '2');
        t.store.settings.set('b', '2');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(t.store.settings.get('a')).toBe('1');
    expect(t.store.settings.get('b')).toBeUndefined();
  });

  it('transaction - a nested failure that is caught undoes only the inner work', () => {
    t.store.transaction(() => {
      t.store.settings.set('outer', 'kept');
      try {
        t.store.transaction(() => {
          t.store.settings.set('inner', 'dropped');
          throw new Error('inner');
        });
      } catch {
        // handled
      }
    });
    expect(t.store.settings.get('outer')).toBe('kept');
    expect(t.store.settings.get('inner')).toBeUndefined();
  });

  it('transaction - an async callback is refused and rolled back (the commit would run before its awaits)', () => {
    expect(() =>
      t.store.transaction((async () => {
        t.store.settings.set('async', 'x');
      }) as unknown as () => void),
    ).toThrow('synchronous');
    expect(t.store.settings.get('async')).toBeUndefined();
  });

  it('transaction - a statement that failed on a constraint works again on the next call', () => {
    const identityKey = randomKey();
    t.store.contacts.add({ identityKey, displayName: 'Once', requestState: 'accepted' });
    expect(codeOf(() => t.store.contacts.add({ identityKey, displayName: 'Twice', requestState: 'accepted' }))).toBe('CONFLICT');
    expect(t.store.contacts.add({ identityKey: randomKey(), displayName: 'Other', requestState: 'accepted' }).displayName).toBe('Other');
  });
});
