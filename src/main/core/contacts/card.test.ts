import { beforeAll, describe, expect, it } from 'vitest';
import {
  ByteWriter,
  createBundle,
  generateIdentity,
  generateSignedPrekey,
  initCrypto,
  isCryptoError,
  randomBytes,
  sign,
  utf8,
  type IdentityKeyPair,
} from '../../../crypto';
import { createCard, encodeInvite, parseInvite, verifyCard, type CardRelay } from './card';

const PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
const OTHER_PEER = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';
const RELAY = `/ip4/127.0.0.1/tcp/4001/p2p/${OTHER_PEER}`;

beforeAll(async () => {
  await initCrypto();
});

function card(identity: IdentityKeyPair, peerId = PEER, name = 'Alice', relays: CardRelay[] = [{ address: RELAY, mailboxId: new Uint8Array(32).fill(7) }]) {
  const bundle = createBundle(identity, peerId, generateSignedPrekey(1, 1000), undefined, 1000);
  return createCard(identity, { displayName: name, peerId, bundle, relays, createdAt: 1000 });
}

/** A card exactly as version 1 of the format wrote it, relays as bare addresses. */
function legacyV1Card(identity: IdentityKeyPair, relays: string[]): Uint8Array {
  const bundle = createBundle(identity, PEER, generateSignedPrekey(1, 1000), undefined, 1000);
  const w = new ByteWriter().u8(1).bytes(utf8('Alice')).bytes(utf8(PEER)).raw(identity.publicKey).bytes(bundle).u8(relays.length);
  for (const relay of relays) w.bytes(utf8(relay));
  const body = w.u64(1000).finish();
  return new ByteWriter().raw(body).raw(sign(identity, utf8('Parley contact card v1'), body)).finish();
}

describe('contact cards', () => {
  it('card - a signed card verifies and carries its verified bundle', () => {
    const alice = generateIdentity();
    const verified = verifyCard(card(alice), { peerId: PEER });
    expect(verified.displayName).toBe('Alice');
    expect(verified.relays).toEqual([{ address: RELAY, mailboxId: new Uint8Array(32).fill(7) }]);
    expect(verified.verifiedBundle.peerId).toBe(PEER);
  });

  it('card - a card naming relays is version 2 and carries a mailbox id per relay; one without is version 1', () => {
    const alice = generateIdentity();
    const relays = [
      { address: RELAY, mailboxId: randomBytes(32) },
      { address: `/dns4/relay.example.org/tcp/4001/p2p/${PEER}`, mailboxId: randomBytes(32) },
    ];
    const v2 = card(alice, PEER, 'Alice', relays);
    expect(v2[0]).toBe(2);
    expect(verifyCard(v2).relays).toEqual(relays);
    const v1 = card(alice, PEER, 'Alice', []);
    expect(v1[0]).toBe(1);
    expect(verifyCard(v1).relays).toEqual([]);
  });

  it('card - version 1 cards of earlier releases still verify, relays without mailbox', () => {
    const alice = generateIdentity();
    const verified = verifyCard(legacyV1Card(alice, ['/ip4/127.0.0.1/tcp/4001']));
    expect(verified.relays).toEqual([{ address: '/ip4/127.0.0.1/tcp/4001' }]);
    expect(verifyCard(legacyV1Card(alice, [])).relays).toEqual([]);
  });

  it('card - a version byte changed between 1 and 2 breaks the signature, never the parse into another meaning', () => {
    const alice = generateIdentity();
    const v2 = card(alice);
    const relabelled = v2.slice();
    relabelled[0] = 1;
    expect(() => verifyCard(relabelled)).toThrow();
    const v1 = card(alice, PEER, 'Alice', []);
    const promoted = v1.slice();
    promoted[0] = 2;
    expect(() => verifyCard(promoted)).toThrow();
    const future = v2.slice();
    future[0] = 3;
    try {
      verifyCard(future);
      expect.unreachable();
    } catch (error) {
      expect(isCryptoError(error, 'UNSUPPORTED_VERSION')).toBe(true);
    }
  });

  it('card - relays without a mailbox id, junk addresses or more than eight are refused when signing', () => {
    const alice = generateIdentity();
    expect(() => card(alice, PEER, 'A', [{ address: RELAY }])).toThrow(RangeError);
    expect(() => card(alice, PEER, 'A', [{ address: 'relay\u0007', mailboxId: randomBytes(32) }])).toThrow(RangeError);
    expect(() => card(alice, PEER, 'A', [{ address: '/ip4/127.0.0.1/tcp/1', mailboxId: randomBytes(32) }])).toThrow(RangeError);
    const nine = Array.from({ length: 9 }, () => ({ address: RELAY, mailboxId: randomBytes(32) }));
    expect(() => card(alice, PEER, 'A', nine)).toThrow(RangeError);
  });

  it('card - any altered byte, another device or another identity is refused', () => {
    const alice = generateIdentity();
    const encoded = card(alice);
    for (const i of [0, 3, 20, 60, encoded.length - 70, encoded.length - 1]) {
      const tampered = encoded.slice();
      tampered[i] = (tampered[i] as number) ^ 0x04;
      expect(() => verifyCard(tampered)).toThrow();
    }
    expect(() => verifyCard(encoded, { peerId: OTHER_PEER })).toThrow(/another device/);
    // A card whose bundle was signed by someone else.
    const mallory = generateIdentity();
    const foreignBundle = createBundle(mallory, PEER, generateSignedPrekey(1, 1), undefined, 1);
    const forged = createCard(alice, { displayName: 'A', peerId: PEER, bundle: foreignBundle, relays: [], createdAt: 1 });
    expect(() => verifyCard(forged)).toThrow();
  });

  it('card - empty or control-character names are refused', () => {
    const alice = generateIdentity();
    for (const name of ['   ', 'a\u0007b']) {
      try {
        verifyCard(card(alice, PEER, name));
        expect.unreachable();
      } catch (error) {
        expect(isCryptoError(error, 'MALFORMED')).toBe(true);
      }
    }
  });

  it('invite - a link round-trips card and secret; garbage links are MALFORMED', () => {
    const alice = generateIdentity();
    const secret = randomBytes(16);
    const link = encodeInvite(card(alice), secret);
    expect(link.startsWith('parley://invite/')).toBe(true);
    const parsed = parseInvite(link);
    expect(parsed.card.displayName).toBe('Alice');
    expect(parsed.secret).toEqual(secret);
    for (const bad of ['parley://invite/', 'parley://invite/%%%', 'https://x/', `${link}AA`, link.slice(0, -5)]) {
      expect(() => parseInvite(bad)).toThrow();
    }
  });
});
