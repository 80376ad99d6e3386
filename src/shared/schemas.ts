/**
 * Runtime schemas of the values that cross the API. Every string has a bound; every object is
 * strict (an unknown key, including `__proto__`, is an INVALID_ARGUMENT, not ignored).
 */
import { z } from 'zod';

/** Display names: long enough for any real name, short enough for a list row. */
export const MAX_DISPLAY_NAME_CHARS = 64;
/**
 * Message bodies: at most 3 UTF-8 bytes per UTF-16 unit, so 20,000 units stay under the
 * ratchet's 64 KiB plaintext limit with room for the message framing.
 */
export const MAX_MESSAGE_BODY_CHARS = 20_000;
/** Passphrases: Argon2id takes any length; the bound only stops a pasted novel. */
export const MAX_PASSPHRASE_CHARS = 1024;
/** Invite links carry a signed contact card and a bundle: ~600 bytes as base64url. */
export const MAX_INVITE_LINK_CHARS = 4096;
/** Page size bound for message and list queries: a screenful or two, never the whole table. */
export const MAX_PAGE_SIZE = 200;
/**
 * Relays a user may configure: a few, on different operators, is the point (scale out, not
 * up); eight is what a contact card carries (core/contacts/card.ts MAX_CARD_RELAYS).
 */
export const MAX_RELAYS = 8;
/**
 * A relay multiaddr: `/dns4/relay.example.org/tcp/4001/p2p/12D3KooW…` is ~100 characters; 256
 * keeps eight of them, with their mailbox ids, inside an invite link (MAX_INVITE_LINK_CHARS).
 */
export const MAX_RELAY_ADDRESS_CHARS = 256;

/** 128-bit ids as 32 lowercase hex characters (message, contact, conversation, request ids). */
export const Id = z.string().regex(/^[0-9a-f]{32}$/, 'expected a 32-character hex id');
/** A libp2p PeerId in its base58btc string form (Ed25519 keys: 52 characters "12D3KooW…"). */
export const PeerIdString = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,128}$/, 'expected a PeerId');
export const Timestamp = z.number().int().nonnegative();
export const DisplayName = z
  .string()
  .trim()
  .min(1, 'a name is required')
  .max(MAX_DISPLAY_NAME_CHARS)
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'control characters are not allowed');
export const Passphrase = z.string().min(1).max(MAX_PASSPHRASE_CHARS);
export const MessageBody = z
  .string()
  .max(MAX_MESSAGE_BODY_CHARS)
  .refine((s) => s.trim().length > 0, 'a message cannot be empty')
  // As for drafts below: the store cannot keep lone surrogates, so say so instead of INTERNAL.
  .refine((s) => !/\p{Cs}/u.test(s), 'unpaired surrogate characters are not allowed');
/**
 * Unsent text of a conversation: what a message body may become, so the same bound. Blank text
 * clears the draft. Lone UTF-16 surrogates (a broken paste) are refused here: the store could
 * not keep them faithfully, and the error should say so instead of being INTERNAL.
 */
export const DraftText = z
  .string()
  .max(MAX_MESSAGE_BODY_CHARS)
  .refine((s) => !/\p{Cs}/u.test(s), 'unpaired surrogate characters are not allowed');
export const InviteLink = z.string().max(MAX_INVITE_LINK_CHARS).startsWith('parley://invite/');
/** Binary values (QR payloads) cross as base64url without padding. */
export const Base64Url = z.string().max(8192).regex(/^[A-Za-z0-9_-]*$/);

export const MessageState = z.enum(['queued', 'sent', 'delivered', 'read', 'failed']);
export const MessagePath = z.enum(['lan', 'direct', 'relayed', 'mailbox']);
export const Theme = z.enum(['light', 'dark', 'system']);
/**
 * A relay's multiaddr naming the relay, `/ip4/198.51.100.7/tcp/4001/p2p/12D3KooW…`. This is
 * only its shape (printable, slash-separated, ending in a PeerId); the core parses it fully.
 */
export const RelayAddress = z
  .string()
  .trim()
  .max(MAX_RELAY_ADDRESS_CHARS)
  .regex(/^(\/[!-~]+)+\/p2p\/[1-9A-HJ-NP-Za-km-z]{32,128}$/, 'expected a relay address ending in /p2p/<peerId>');

export const Profile = z.strictObject({
  displayName: DisplayName,
  peerId: PeerIdString,
  /** Short fingerprint of the identity key for display. */
  fingerprint: z.string(),
  inviteLink: InviteLink,
});

export const IdentityStatus = z.strictObject({
  state: z.enum(['none', 'locked', 'unlocked']),
  /** True when the OS keychain can protect the database key instead of a passphrase (desktop). */
  keychainAvailable: z.boolean(),
  profile: Profile.optional(),
});

export const NearbyPeer = z.strictObject({
  peerId: PeerIdString,
  displayName: DisplayName,
  fingerprint: z.string(),
  contactId: Id.optional(),
  lastSeen: Timestamp,
});

export const Contact = z.strictObject({
  id: Id,
  displayName: DisplayName,
  fingerprint: z.string(),
  verified: z.boolean(),
  blocked: z.boolean(),
  /** The identity key changed and sending is stopped until the user accepts it. */
  keyChanged: z.boolean(),
  online: z.boolean(),
  conversationId: Id,
  createdAt: Timestamp,
});

export const ContactRequest = z.strictObject({
  id: Id,
  direction: z.enum(['incoming', 'outgoing']),
  peerId: PeerIdString,
  displayName: DisplayName,
  fingerprint: z.string(),
  createdAt: Timestamp,
});

export const Message = z.strictObject({
  id: Id,
  conversationId: Id,
  direction: z.enum(['in', 'out']),
  body: z.string().max(MAX_MESSAGE_BODY_CHARS),
  sentAt: Timestamp,
  receivedAt: Timestamp.optional(),
  state: MessageState,
  path: MessagePath.optional(),
});

export const Conversation = z.strictObject({
  id: Id,
  contactId: Id,
  title: DisplayName,
  lastActivity: Timestamp,
  unreadCount: z.number().int().nonnegative(),
  preview: z.string().max(200).optional(),
  /** The unsent text saved for this conversation (drafts.set), whole: the composer restores it. */
  draft: z.string().max(MAX_MESSAGE_BODY_CHARS).optional(),
  verified: z.boolean(),
  keyChanged: z.boolean(),
});

export const SafetyNumber = z.strictObject({
  digits: z.string().regex(/^[0-9]{60}$/),
  qrPayload: Base64Url,
  verified: z.boolean(),
});

export const NetworkStatus = z.strictObject({
  peerId: PeerIdString,
  addresses: z.array(z.string()).max(64),
  connections: z.array(z.strictObject({ peerId: PeerIdString, address: z.string(), path: MessagePath })).max(1024),
  lanDiscovery: z.boolean(),
  relays: z.array(z.strictObject({ address: z.string(), reserved: z.boolean() })).max(32),
});

export const Settings = z.strictObject({
  lanVisible: z.boolean(),
  theme: Theme,
  notifications: z.boolean(),
  /** Show message text in notifications; off means "New message" only. */
  notificationPreview: z.boolean(),
  /**
   * Relays this device keeps reservations on and names in its contact card, with a mailbox on
   * each for contacts to leave messages in while it is offline. None by default.
   */
  relays: z.array(RelayAddress).max(MAX_RELAYS).optional(),
});

export const MessagePage = z.strictObject({
  messages: z.array(Message).max(MAX_PAGE_SIZE),
  /** Pass as `before` to get the next (older) page; absent at the beginning of history. */
  nextCursor: z.string().max(128).optional(),
});

export type Profile = z.infer<typeof Profile>;
export type IdentityStatus = z.infer<typeof IdentityStatus>;
export type NearbyPeer = z.infer<typeof NearbyPeer>;
export type Contact = z.infer<typeof Contact>;
export type ContactRequest = z.infer<typeof ContactRequest>;
export type Message = z.infer<typeof Message>;
export type MessageState = z.infer<typeof MessageState>;
export type MessagePath = z.infer<typeof MessagePath>;
export type Conversation = z.infer<typeof Conversation>;
export type SafetyNumber = z.infer<typeof SafetyNumber>;
export type NetworkStatus = z.infer<typeof NetworkStatus>;
export type Settings = z.infer<typeof Settings>;
export type MessagePage = z.infer<typeof MessagePage>;
