import '../../../src/main/polyfills';
import type { Multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import {
  admitAnyone,
  createParleyNode,
  generateDeviceKey,
  peerIdFromDeviceKey,
  protocolId,
  RequestResponse,
  type ParleyNode,
} from '../../../src/main/net';
import { LOOPBACK_TCP, LOOPBACK_WS, Nodes, connectionOpened, discovered, recordingLogger, refusedDial, within, type LogRecord } from './fixtures';

const ECHO = protocolId('test-echo', '1.0.0');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const nodes = new Nodes();
afterEach(() => nodes.stopAll());

function echoService(host: ParleyNode): RequestResponse {
  return new RequestResponse({ host }, { protocol: ECHO, admit: admitAnyone, handler: (request) => request });
}

describe('net node', () => {
  it('node - keeps its PeerId from the device key', async () => {
    const key = await generateDeviceKey();
    const node = await nodes.start({ privateKey: key }, false);
    expect(node.peerId.equals(peerIdFromDeviceKey(key))).toBe(true);
  });

  it('node - refuses a device key that is not Ed25519, and garbage', async () => {
    const secp = privateKeyToProtobuf(await generateKeyPair('secp256k1'));
    await expect(createParleyNode({ privateKey: secp, listen: [LOOPBACK_TCP], lan: false })).rejects.toMatchObject({
      name: 'InvalidDeviceKeyError',
    });
    await expect(
      createParleyNode({ privateKey: Uint8Array.of(1, 2, 3), listen: [LOOPBACK_TCP], lan: false }),
    ).rejects.toMatchObject({ name: 'InvalidDeviceKeyError' });
  });

  it('node - refuses relay and bootstrap addresses without a peer id', async () => {
    const privateKey = await generateDeviceKey();
    await expect(
      createParleyNode({ privateKey, listen: [LOOPBACK_TCP], lan: false, relays: ['/ip4/127.0.0.1/tcp/1'] }),
    ).rejects.toMatchObject({ name: 'InvalidParametersError' });
    await expect(
      createParleyNode({ privateKey, listen: [LOOPBACK_TCP], lan: false, bootstrap: ['not a multiaddr'] }),
    ).rejects.toMatchObject({ name: 'InvalidParametersError' });
  });

  it('node - starts and stops fast with every service on, without errors from DHT, AutoNAT, DCUtR or relay', async () => {
    const errors: LogRecord[] = [];
    const logger = recordingLogger(errors);
    const startedAt = Date.now();
    const a = await nodes.start({ logger, relayServer: true, dhtMode: 'server' });
    const b = await nodes.start({ logger });
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(a.getMultiaddrs().every((m) => m.toString().startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true);

    await b.dial(a.getMultiaddrs()[0]!);
    expect(await within(5_000, 'ping', b.services.ping.ping(a.peerId))).toBeGreaterThanOrEqual(0);

    const stoppingAt = Date.now();
    await nodes.stopAll();
    expect(Date.now() - stoppingAt).toBeLessThan(2_000);
    const noisy = errors.filter((e) => /kad-dht|auto-nat|dcutr|circuit-relay|mdns/.test(e.component));
    expect(noisy).toEqual([]);
  });

  it('node - two nodes dial each other on loopback and exchange request/response frames', async () => {
    const a = await nodes.start();
    const b = await nodes.start();
    await nodes.service(echoService(a));
    const bEcho = await nodes.service(echoService(b));

    await b.dial(a.getMultiaddrs()[0]!);
    const reply = await bEcho.request(a.peerId, encoder.encode('hello over loopback'));
    expect(decoder.decode(reply)).toBe('hello over loopback');

    // And the other way, over the same connection.
    const aEcho = echoService(a);
    const back = await aEcho.request(b.peerId, encoder.encode('and back'));
    expect(decoder.decode(back)).toBe('and back');
  });

  it('node - listens on WebSockets and is reachable there where the runtime can dial WebSockets', async () => {
    const a = await nodes.start({ listen: [LOOPBACK_TCP, LOOPBACK_WS] });
    const ws = a.getMultiaddrs().find((m) => m.toString().includes('/ws/'));
    expect(ws).toBeDefined();
    const b = await nodes.start();
    await nodes.service(echoService(a));
    if (typeof globalThis.WebSocket !== 'function') {
      // Node 20 without --experimental-websocket: /ws addresses are filtered out of dials, so
      // dialing the peer falls back to TCP instead of failing.
      const connection = await b.dial(a.getMultiaddrs());
      expect(connection.remoteAddr.toString()).not.toContain('/ws');
      return;
    }
    const connection = await b.dial(ws!);
    expect(connection.remoteAddr.toString()).toContain('/ws');
    expect(decoder.decode(await echoService(b).request(a.peerId, encoder.encode('ws')))).toBe('ws');
  });

  it('node - two LAN nodes in the namespace find each other by mDNS', async () => {
    const a = await nodes.start({ lan: true }, false);
    const b = await nodes.start({ lan: true }, false);
    const quiet = await nodes.start({ lan: false });
    const aFindsB = discovered(a, () => b.peerId);
    const bFindsA = discovered(b, () => a.peerId);
    const seenByA: string[] = [];
    a.addEventListener('peer:discovery', (evt) => seenByA.push(evt.detail.id.toString()));

    await a.start();
    await b.start();
    const [addrsOfB, addrsOfA] = await within(10_000, 'mDNS discovery both ways', Promise.all([aFindsB, bFindsA]));

    const aTcp = a.getMultiaddrs()[0]!.decapsulateCode(421).toString();
    expect(addrsOfA).toContain(aTcp);
    expect(addrsOfB.length).toBeGreaterThan(0);
    // The node with LAN discovery off never announced itself.
    expect(seenByA).not.toContain(quiet.peerId.toString());
    // A discovered address is dialable.
    const connection = await b.dial(a.peerId);
    expect(connection.remotePeer.equals(a.peerId)).toBe(true);
  });

  it('node - a blocked peer can neither connect to us nor be dialed', async () => {
    const blockedKey = await generateDeviceKey();
    const blockedId = peerIdFromDeviceKey(blockedKey);
    const a = await nodes.start({ isBlocked: (peer) => peer.equals(blockedId) });
    const blocked = await nodes.start({ privateKey: blockedKey });

    await refusedDial(blocked, a.getMultiaddrs()[0]!);
    expect(a.getConnections(blockedId)).toHaveLength(0);
    await expect(a.dial(blocked.getMultiaddrs()[0]!)).rejects.toMatchObject({ name: 'DialDeniedError' });
    expect(a.getConnections(blockedId)).toHaveLength(0);
  });

  it('node - caps inbound strangers but always lets contacts in', async () => {
    const contactKey = await generateDeviceKey();
    const contactId = peerIdFromDeviceKey(contactKey);
    const a = await nodes.start({
      isContact: (peer) => peer.equals(contactId),
      limits: { maxStrangerPeers: 1 },
    });
    const stranger1 = await nodes.start();
    const stranger2 = await nodes.start();
    const contact = await nodes.start({ privateKey: contactKey });
    const addr = a.getMultiaddrs()[0]!;

    // The listener registers a connection a moment after the dialer: wait for its event.
    const dialAndWait = async (from: ParleyNode, force = false): Promise<void> => {
      const opened = connectionOpened(a, from.peerId);
      await from.dial(addr, { force });
      await within(5_000, 'the inbound connection', opened);
    };

    await dialAndWait(stranger1);
    await refusedDial(stranger2, addr);
    expect(a.getConnections(stranger2.peerId)).toHaveLength(0);
    await dialAndWait(contact);
    // A second connection from an already-admitted stranger costs nothing more.
    await dialAndWait(stranger1, true);
    expect(a.getConnections(stranger1.peerId)).toHaveLength(2);
    expect(a.getPeers().map(String).sort()).toEqual([stranger1.peerId.toString(), contactId.toString()].sort());
  });

  it('node - connects to its bootstrap peers on start', async () => {
    const entry = await nodes.start();
    const node = await nodes.start({ bootstrap: [entry.getMultiaddrs()[0]!.toString()] }, false);
    const opened = connectionOpened(node, entry.peerId);
    await node.start();
    await within(5_000, 'the bootstrap connection', opened);
  });

  it('node - reserves a slot on a configured relay and serves limited-connection protocols through it', async () => {
    const relay = await nodes.start({ relayServer: { maxReservations: 2 } });
    const behindRelay = await nodes.start({ relays: [relay.getMultiaddrs()[0]!.toString()] }, false);
    const limitedSeen: boolean[] = [];
    await nodes.service(
      new RequestResponse(
        { host: behindRelay },
        {
          protocol: ECHO,
          admit: admitAnyone,
          runOnLimitedConnection: true,
          handler: (request, { connection }) => {
            limitedSeen.push(connection.limits !== undefined);
            return request;
          },
        },
      ),
    );
    const reserved = new Promise<Multiaddr>((resolve) => {
      behindRelay.addEventListener('self:peer:update', () => {
        const circuit = behindRelay.getMultiaddrs().find((m) => m.toString().includes('/p2p-circuit/'));
        if (circuit !== undefined) resolve(circuit);
      });
    });
    await behindRelay.start();
    const circuitAddr = await within(10_000, 'a relay reservation', reserved);

    const caller = await nodes.start();
    const connection = await caller.dial(circuitAddr);
    expect(connection.limits).toBeDefined();
    const client = new RequestResponse(
      { host: caller },
      { protocol: ECHO, admit: admitAnyone, handler: (r) => r, runOnLimitedConnection: true },
    );
    expect(decoder.decode(await client.request(behindRelay.peerId, encoder.encode('via relay')))).toBe('via relay');
    expect(limitedSeen).toEqual([true]);
  });
});
