import { beforeAll, describe, expect, it } from 'vitest';
import {
  createBundle,
  generateIdentity,
  generateSignedPrekey,
  initCrypto,
  isCryptoError,
  randomBytes,
  type IdentityKeyPair,
} from '../../../crypto';
import { createCard, encodeInvite, parseInvite, verifyCard } from './card';

const PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
const OTHER_PEER = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK';

beforeAll(async () => {
  await initCrypto();
});

function card(identity: IdentityKeyPair, peerId = PEER, name = 'Alice') {
  const bundle = createBundle(identity, peerId, generateSignedPrekey(1, 1000), undefined, 1000);
  return createCard(identity, { displayName: name, peerId, bundle, relays: ['/ip4/127.0.0.1/tcp/4001'], createdAt: 1000 });
}

describe('contact cards', () => {
  it('card - a signed card verifies and carries its verified bundle', () => {
    const alice = generateIdentity();
    const verified = verifyCard(card(alice), { peerId: PEER });
    expect(verified.displayName).toBe('Alice');
    expect(verified.relays).toEqual(['/ip4/127.0.0.1/tcp/4001']);
    expect(verified.verifiedBundle.peerId).toBe(PEER);
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
