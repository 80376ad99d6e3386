/**
 * The attacker's tools against a real core (issue 3, "Bad input"): raw libp2p nodes that
 * connect to a victim on loopback, a capture of a contact's real sealed envelopes from its data
 * folder, and raw or well-formed exchanges on the Parley protocols.
 *
 * A captured contact is played by a raw node holding the contact's own device key (so the
 * victim sees its PeerId, Noise-authenticated, and admits it to /parley/msg) while its real
 * core is stopped.
 */
import '../../../src/main/polyfills';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { request, type ParleyNode } from '../../../src/main/net';
import { HELLO_MAX_REQUEST_BYTES, HELLO_MAX_RESPONSE_BYTES, HELLO_PROTOCOL } from '../../../src/main/net/protocols/hello';
import { MSG_MAX_REQUEST_BYTES, MSG_MAX_RESPONSE_BYTES, MSG_PROTOCOL } from '../../../src/main/net/protocols/msg';
import { openStore } from '../../../src/main/store';
import { until } from '../core/fixtures';
import { rawExchange, type Nodes, type RawOutcome } from '../net/fixtures';

/** Where LocalIdentity keeps the device key (src/main/core/identity/local-identity.ts). */
const DEVICE_KEY_SETTING = 'device.key';

export interface Victim {
  readonly peerId: string;
  /** Its loopback TCP address, with /p2p/<peerId>. */
  readonly address: string;
}

export interface Capture {
  /** The contact's device key: whoever holds it is that contact on the wire. */
  readonly deviceKey: Uint8Array;
  /** Its outbox for the victim, oldest first: the exact sealed envelopes its core would send. */
  readonly envelopes: Uint8Array[];
}

/** Reads a stopped peer's device key and its queued envelopes for `recipientPeerId`. */
export async function captureOutbox(dir: string, passphrase: string, recipientPeerId: string): Promise<Capture> {
  const store = await openStore(dir, passphrase);
  try {
    const key = store.settings.get(DEVICE_KEY_SETTING);
    const device = store.devices.getByPeerId(recipientPeerId);
    if (key === undefined || device === undefined) throw new Error('nothing to capture in that folder');
    const envelopes = store.outbox.pendingForDevice(device.id).map((item) => item.envelope);
    return { deviceKey: new Uint8Array(Buffer.from(key, 'base64')), envelopes };
  } finally {
    store.close();
  }
}

/**
 * A started raw node (a random stranger, or whoever `deviceKey` makes it) connected to the
 * victim. All test peers share the host 127.0.0.1, which libp2p lets open only a few inbound
 * connections a second (INBOUND_CONNECTION_THRESHOLD): a refused dial is retried until the
 * victim takes it, bounded.
 */
export async function connectAttacker(nodes: Nodes, victim: Victim, deviceKey?: Uint8Array): Promise<ParleyNode> {
  const node = await nodes.start(deviceKey ? { privateKey: deviceKey } : {});
  const address = multiaddr(victim.address);
  await until(async () => ((await node.dial(address).then(() => true, () => false)) ? true : undefined), 10_000);
  return node;
}

/** Sends `bytes` raw on `protocol` and reports how the victim ended the stream. */
export function raw(from: ParleyNode, victim: Victim, protocol: string, bytes: Uint8Array, options?: { closeWrite?: boolean }): Promise<RawOutcome> {
  // rawExchange needs only the target's PeerId.
  const target = { peerId: peerIdFromString(victim.peerId) } as unknown as ParleyNode;
  return rawExchange(from, target, protocol, bytes, options);
}

/** A well-formed hello request; resolves to the response or the error's name. */
export function hello(from: ParleyNode, victim: Victim, frame: Uint8Array): Promise<Uint8Array | string> {
  return request(from, peerIdFromString(victim.peerId), HELLO_PROTOCOL, frame, {
    maxRequestBytes: HELLO_MAX_REQUEST_BYTES,
    maxResponseBytes: HELLO_MAX_RESPONSE_BYTES,
    timeoutMs: 10_000,
  }).catch((error: Error) => error.name);
}

/** A well-formed msg request (one framed batch); resolves to the response or the error's name. */
export function msg(from: ParleyNode, victim: Victim, batch: Uint8Array): Promise<Uint8Array | string> {
  return request(from, peerIdFromString(victim.peerId), MSG_PROTOCOL, batch, {
    maxRequestBytes: MSG_MAX_REQUEST_BYTES,
    maxResponseBytes: MSG_MAX_RESPONSE_BYTES,
    timeoutMs: 10_000,
  }).catch((error: Error) => error.name);
}

/** The statuses of a msg response (`version ‖ count u16 ‖ status bytes`), by name. */
export function statuses(response: Uint8Array | string): string[] | string {
  if (typeof response === 'string') return response;
  const names = ['stored', 'retry', 'rejected'];
  return Array.from(response.subarray(3), (b) => names[b] ?? `?${b}`);
}
