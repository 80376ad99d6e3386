/**
 * Ratchet sessions as the store keeps them: find the one for a device (or start one from the
 * device's card), find the one an envelope is addressed to, and write them back. A batch of
 * work keeps its sessions in a `SessionCache` and saves them inside its own transaction, so a
 * rolled-back batch leaves no advanced ratchet behind (the cache is simply dropped).
 */
import { Session, toHex } from '../../../crypto';
import type { Device, Store } from '../../store';
import type { LocalIdentity } from '../identity/local-identity';
import { verifyCard } from '../contacts/card';

interface CachedSession {
  rowId: number | undefined;
  deviceId: number;
  session: Session;
  dirty: boolean;
}

export class SessionCache {
  readonly #store: Store;
  readonly #local: LocalIdentity;
  readonly #byTag = new Map<string, CachedSession>();
  readonly #byDevice = new Map<number, CachedSession>();

  constructor(store: Store, local: LocalIdentity) {
    this.#store = store;
    this.#local = local;
  }

  #remember(entry: CachedSession): CachedSession {
    this.#byTag.set(toHex(entry.session.inboundTag), entry);
    this.#byDevice.set(entry.deviceId, entry);
    return entry;
  }

  /** The active session to send to `device`, started from its card's bundle if there is none. */
  forSending(device: Device): Session {
    const cached = this.#byDevice.get(device.id);
    if (cached) return cached.session;
    const row = this.#store.sessions.getActiveForDevice(device.id);
    if (row) {
      return this.#remember({ rowId: row.id, deviceId: device.id, session: Session.deserialize(row.state.expose()), dirty: false }).session;
    }
    const card = verifyCard(device.card, { peerId: device.peerId });
    const session = Session.initiate(this.#local.identity, card.verifiedBundle);
    return this.#remember({ rowId: undefined, deviceId: device.id, session, dirty: true }).session;
  }

  /** The session an envelope with this inbound tag belongs to, with its device. */
  byInboundTag(tag: Uint8Array): { session: Session; deviceId: number } | undefined {
    const cached = this.#byTag.get(toHex(tag));
    if (cached) return cached;
    const row = this.#store.sessions.getByInboundTag(tag);
    if (!row) return undefined;
    return this.#remember({ rowId: row.id, deviceId: row.deviceId, session: Session.deserialize(row.state.expose()), dirty: false });
  }

  /** The session a resent or replayed prekey message of `device` belongs to. */
  byBaseKey(deviceId: number, baseKey: Uint8Array): Session | undefined {
    for (const entry of this.#byDevice.values()) {
      if (entry.deviceId === deviceId && toHex(entry.session.baseKey) === toHex(baseKey)) return entry.session;
    }
    const row = this.#store.sessions.getByBaseKey(deviceId, baseKey);
    if (!row) return undefined;
    return this.#remember({ rowId: row.id, deviceId, session: Session.deserialize(row.state.expose()), dirty: false }).session;
  }

  /** A session the responder just created; it becomes the device's active one on save. */
  adopt(deviceId: number, session: Session): void {
    this.#remember({ rowId: undefined, deviceId, session, dirty: true });
  }

  markDirty(session: Session): void {
    for (const entry of this.#byTag.values()) if (entry.session === session) entry.dirty = true;
  }

  /** Writes every changed session; call inside the batch's transaction. */
  save(): void {
    for (const entry of new Set([...this.#byTag.values(), ...this.#byDevice.values()])) {
      if (!entry.dirty) continue;
      const state = entry.session.serialize();
      if (entry.rowId === undefined) {
        const row = this.#store.sessions.create({
          deviceId: entry.deviceId,
          state,
          baseKey: entry.session.baseKey,
          inboundTag: entry.session.inboundTag,
          outboundTag: entry.session.outboundTag,
        });
        entry.rowId = row.id;
      } else {
        this.#store.sessions.update(entry.rowId, { state });
      }
      entry.dirty = false;
    }
  }
}
