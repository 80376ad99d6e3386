import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Connection, MultiaddrConnection, PeerId } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { admitAnyone, admitContacts, createConnectionGater } from './gater';

async function peers(n: number): Promise<PeerId[]> {
  return Promise.all(Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))));
}

const maConn = {} as MultiaddrConnection;
const connection = {} as Connection;

describe('gater - connections', () => {
  it('refuses blocked peers in every direction, direct and relayed', async () => {
    const [blocked, other, relay] = await peers(3);
    const gater = createConnectionGater({
      isBlocked: (p) => p.equals(blocked),
      maxStrangerPeers: 10,
      connectedPeers: () => [],
    });
    expect(await gater.denyDialPeer?.(blocked!)).toBe(true);
    expect(await gater.denyInboundEncryptedConnection?.(blocked!, maConn)).toBe(true);
    expect(await gater.denyOutboundEncryptedConnection?.(blocked!, maConn)).toBe(true);
    expect(await gater.denyInboundRelayedConnection?.(relay!, blocked!)).toBe(true);
    expect(await gater.denyDialPeer?.(other!)).toBe(false);
    expect(await gater.denyInboundRelayedConnection?.(relay!, other!)).toBe(false);
  });

  it('caps inbound strangers, never contacts, never a stranger already connected', async () => {
    const [contact, s1, s2, s3] = await peers(4);
    const connected = [contact!, s1!, s2!];
    const gater = createConnectionGater({
      isContact: (p) => p.equals(contact),
      maxStrangerPeers: 2,
      connectedPeers: () => connected,
    });
    expect(await gater.denyInboundEncryptedConnection?.(s3!, maConn)).toBe(true);
    expect(await gater.denyInboundEncryptedConnection?.(s1!, maConn)).toBe(false);
    expect(await gater.denyInboundEncryptedConnection?.(contact!, maConn)).toBe(false);
    // We may always dial out, strangers included.
    expect(await gater.denyOutboundEncryptedConnection?.(s3!, maConn)).toBe(false);
  });

  it('without isContact (relay mode) nobody is a stranger', async () => {
    const many = await peers(3);
    const gater = createConnectionGater({ maxStrangerPeers: 0, connectedPeers: () => many });
    const [newcomer] = await peers(1);
    expect(await gater.denyInboundEncryptedConnection?.(newcomer!, maConn)).toBe(false);
  });
});

describe('gater - protocol admission', () => {
  it('admitContacts serves contacts only; admitAnyone serves all', async () => {
    const [contact, stranger] = await peers(2);
    const admit = admitContacts((p) => p.equals(contact));
    expect(await admit(contact!, connection)).toBe(true);
    expect(await admit(stranger!, connection)).toBe(false);
    expect(await admitAnyone(stranger!, connection)).toBe(true);
  });
});
