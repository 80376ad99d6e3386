/**
 * Incoming message batches, from /parley/msg or from our mailboxes, into the store and out as
 * events: the batch is committed by the messenger, then acknowledged and announced only once
 * it is durable, and the devices it owes delivery receipts to are kicked a moment later so a
 * burst of batches is answered together. Split from peer.ts, which only wires it to the
 * network (`receive`) and the mailbox fetcher (`commit`).
 */
import type { ConnectionPath, DeliveryStatus } from '../../net';
import type { Contact, Device, Store } from '../../store';
import type { EventBus } from '../events';
import type { Logger } from '../types';
import { messageDto, stateEvent } from './message-dto';
import type { Messenger } from './messenger';

/**
 * How long delivery receipts wait to be sent together: a burst of incoming batches then costs
 * the sender one receipt exchange, not one per batch (the sender's "delivered" tick shows up
 * this much later, well under what a person notices).
 */
const RECEIPT_LINGER_MS = 25;

type ContactDevice = { device: Device; contact: Contact };

export interface Inbound {
  /** A batch over msg from `peerId`: rejected whole unless it is a contact's device. */
  receive(peerId: string, envelopes: Uint8Array[], path: ConnectionPath): Promise<DeliveryStatus[]>;
  /** A batch from a known contact device; resolves once it is durable and announced. */
  commit(found: ContactDevice, envelopes: Uint8Array[], path: ConnectionPath | 'mailbox'): Promise<DeliveryStatus[]>;
}

export function createInbound(deps: {
  store: Store;
  messenger: Messenger;
  deviceOf: (peerId: string) => ContactDevice | undefined;
  events: EventBus;
  log: Logger;
  /** Try a device's outbox now (OutboxWorker.kick). */
  kick: (deviceId: number) => void;
}): Inbound {
  const { store, messenger: m, events, log } = deps;

  async function receive(peerId: string, envelopes: Uint8Array[], path: ConnectionPath): Promise<DeliveryStatus[]> {
    const found = deps.deviceOf(peerId);
    if (!found) return envelopes.map(() => 'rejected');
    return commit(found, envelopes, path);
  }

  async function commit(found: ContactDevice, envelopes: Uint8Array[], path: ConnectionPath | 'mailbox'): Promise<DeliveryStatus[]> {
    let result;
    try {
      result = m.receiveBatch(found.device, found.contact, envelopes, path);
    } catch (error) {
      log.error('receive failed', { error: error instanceof Error ? error.name : 'unknown' });
      if (process.env.PARLEY_TEST_LOG) console.error(error);
      throw error;
    }
    const { statuses, effects } = result;
    // Committed: shown at once. A crash can no longer lose it; a power cut before the sync
    // below could, but then the sender, never acknowledged, sends it again. Acknowledged only
    // once durable (the receipts it queued wait for the outbox's own sync before they leave).
    for (const message of effects.received) events.emit('message.received', { message: messageDto(message) });
    for (const message of effects.stateChanged) events.emit('message.stateChanged', stateEvent(message));
    for (const deviceId of effects.devicesWithOutbox) kickSoon(deviceId);
    await store.sync();
    return statuses;
  }

  // Delivery receipts wait a moment, so a burst of incoming batches is answered by one
  // receipt batch instead of one each; a message we send meanwhile takes them along.
  const lingering = new Set<number>();
  let lingerTimer: NodeJS.Timeout | undefined;
  function kickSoon(deviceId: number): void {
    lingering.add(deviceId);
    lingerTimer ??= setTimeout(() => {
      lingerTimer = undefined;
      for (const id of lingering) deps.kick(id);
      lingering.clear();
    }, RECEIPT_LINGER_MS);
    lingerTimer.unref?.();
  }

  return { receive, commit };
}
