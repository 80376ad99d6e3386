import { beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, initCrypto, randomBytes, toHex } from '../../../../crypto';
import { MailboxKey, authMessage, deriveMailboxKey, mailboxIdOf, mailboxLogTag, verifyMailboxAuth } from './keys';

beforeAll(() => initCrypto());

const RELAY_1 = '12D3KooWRelayOne';
const RELAY_2 = '12D3KooWRelayTwo';

describe('mailbox keys', () => {
  it('derives one stable key per identity and relay, unrelated to the identity key and to other relays', () => {
    const identity = generateIdentity();
    const a = deriveMailboxKey(identity, RELAY_1);
    const again = deriveMailboxKey(identity, RELAY_1);
    const other = deriveMailboxKey(identity, RELAY_2);
    const stranger = deriveMailboxKey(generateIdentity(), RELAY_1);
    expect(again.publicKey).toEqual(a.publicKey);
    expect(again.id).toEqual(a.id);
    for (const k of [other, stranger]) {
      expect(k.publicKey).not.toEqual(a.publicKey);
      expect(k.id).not.toEqual(a.id);
    }
    expect(a.publicKey).not.toEqual(identity.publicKey);
    expect(a.id).not.toEqual(identity.publicKey);
    expect(a.id).toEqual(mailboxIdOf(a.publicKey));
    expect(a.id).toHaveLength(32);
  });

  it('verifies the owner signature and nothing else', () => {
    const key = MailboxKey.fromSeed(randomBytes(32));
    const intruder = MailboxKey.fromSeed(randomBytes(32));
    const challenge = randomBytes(32);
    const message = authMessage(challenge, 3, key.id, Uint8Array.of(1, 2));
    const signature = key.signAuth(message);
    expect(verifyMailboxAuth(key.id, key.publicKey, message, signature)).toBe(true);
    // Another key claiming the mailbox, a forged signature, another message, another op.
    expect(verifyMailboxAuth(key.id, intruder.publicKey, message, intruder.signAuth(message))).toBe(false);
    expect(verifyMailboxAuth(key.id, key.publicKey, message, intruder.signAuth(message))).toBe(false);
    expect(verifyMailboxAuth(key.id, key.publicKey, authMessage(challenge, 3, key.id, Uint8Array.of(1, 3)), signature)).toBe(false);
    expect(verifyMailboxAuth(key.id, key.publicKey, authMessage(challenge, 4, key.id, Uint8Array.of(1, 2)), signature)).toBe(false);
    expect(verifyMailboxAuth(key.id, key.publicKey, message, signature.subarray(1))).toBe(false);
  });

  it('prints no key material: a short log tag that is not a prefix of the id', () => {
    const key = MailboxKey.fromSeed(randomBytes(32));
    const text = `${String(key)} ${JSON.stringify({ key })}`;
    expect(text).toMatch(/^\[MailboxKey [0-9a-f]{8}\]/);
    expect(text).not.toContain(toHex(key.id).slice(0, 8));
    expect(mailboxLogTag(key.id)).toHaveLength(8);
    expect(toHex(key.id).startsWith(mailboxLogTag(key.id))).toBe(false);
    key.wipe();
  });
});
