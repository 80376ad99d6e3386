/**
 * The API contract: every command the UI can send to the core and every event the core
 * pushes, each with its runtime schema. Both transports (Electron IPC through the preload, and
 * the headless WebSocket) are generated from these two maps and validate every argument as
 * `unknown` before it reaches the core.
 *
 * @example
 * ```ts
 * const parsed = parseCommandArgs('messages.send', untrusted);   // Result<args>
 * if (parsed.ok) await core['messages.send'](parsed.value);
 * ```
 */
import { z } from 'zod';
import { err, ok, type Result } from './result';
import {
  Contact,
  ContactRequest,
  Conversation,
  DisplayName,
  DraftText,
  Id,
  IdentityStatus,
  InviteLink,
  MAX_PAGE_SIZE,
  Message,
  MessageBody,
  MessagePage,
  MessagePath,
  MessageState,
  NearbyPeer,
  NetworkStatus,
  Passphrase,
  PeerIdString,
  Profile,
  SafetyNumber,
  Settings,
  Timestamp,
} from './schemas';

const None = z.strictObject({});
const ContactRef = z.strictObject({ contactId: Id });

function command<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res) {
  return { request, response };
}

export const COMMANDS = {
  // Identity and unlock
  'identity.status': command(None, IdentityStatus),
  'identity.create': command(
    z.strictObject({ displayName: DisplayName, passphrase: Passphrase.optional(), useKeychain: z.boolean().optional() }),
    Profile,
  ),
  'identity.unlock': command(z.strictObject({ passphrase: Passphrase.optional() }), Profile),
  'identity.changePassphrase': command(z.strictObject({ current: Passphrase, next: Passphrase }), None),
  'identity.setDisplayName': command(z.strictObject({ displayName: DisplayName }), Profile),

  // Discovery and contacts
  'nearby.list': command(None, z.array(NearbyPeer).max(MAX_PAGE_SIZE)),
  'contacts.list': command(None, z.array(Contact).max(10_000)),
  'contacts.requests': command(None, z.array(ContactRequest).max(MAX_PAGE_SIZE)),
  'contacts.request': command(z.strictObject({ peerId: PeerIdString }), ContactRequest),
  'contacts.accept': command(z.strictObject({ requestId: Id }), Contact),
  'contacts.decline': command(z.strictObject({ requestId: Id }), None),
  'contacts.addFromInvite': command(z.strictObject({ link: InviteLink }), Contact),
  'contacts.safetyNumber': command(ContactRef, SafetyNumber),
  'contacts.setVerified': command(z.strictObject({ contactId: Id, verified: z.boolean() }), Contact),
  'contacts.setBlocked': command(z.strictObject({ contactId: Id, blocked: z.boolean() }), Contact),
  'contacts.acceptKeyChange': command(ContactRef, Contact),

  // Conversations and messages
  'conversations.list': command(None, z.array(Conversation).max(10_000)),
  'messages.page': command(
    z.strictObject({
      conversationId: Id,
      before: z.string().max(128).optional(),
      limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
    }),
    MessagePage,
  ),
  'messages.send': command(z.strictObject({ conversationId: Id, body: MessageBody }), Message),
  'messages.markRead': command(z.strictObject({ conversationId: Id }), None),
  'messages.retry': command(z.strictObject({ messageId: Id }), Message),
  /** Saves the conversation's unsent text in the encrypted store; blank text clears it. */
  'drafts.set': command(z.strictObject({ conversationId: Id, text: DraftText }), None),

  // Network and settings
  'network.status': command(None, NetworkStatus),
  'settings.get': command(None, Settings),
  'settings.update': command(Settings.partial(), Settings),
} as const;

export const EVENTS = {
  'message.received': z.strictObject({ message: Message }),
  'message.stateChanged': z.strictObject({
    messageId: Id,
    conversationId: Id,
    state: MessageState,
    path: MessagePath.optional(),
  }),
  'contact.request': z.strictObject({ request: ContactRequest }),
  'contact.updated': z.strictObject({ contact: Contact }),
  'contact.keyChanged': z.strictObject({ contactId: Id, at: Timestamp }),
  'presence.changed': z.strictObject({ contactId: Id, online: z.boolean(), path: MessagePath.optional() }),
  'nearby.changed': z.strictObject({ peers: z.array(NearbyPeer).max(MAX_PAGE_SIZE) }),
  'network.status': NetworkStatus,
} as const;

export type CommandName = keyof typeof COMMANDS;
export type EventName = keyof typeof EVENTS;
export type CommandArgs<C extends CommandName> = z.infer<(typeof COMMANDS)[C]['request']>;
export type CommandResult<C extends CommandName> = z.infer<(typeof COMMANDS)[C]['response']>;
export type EventPayload<E extends EventName> = z.infer<(typeof EVENTS)[E]>;

export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

/** The core's side of the contract: one async function per command. */
export type CoreApi = { [C in CommandName]: (args: CommandArgs<C>) => Promise<CommandResult<C>> };

/** What a UI holds: the same functions, returning Results instead of throwing. */
export type ClientApi = { [C in CommandName]: (args: CommandArgs<C>) => Promise<Result<CommandResult<C>>> };

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(COMMANDS, value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(EVENTS, value);
}

/** Validates untrusted arguments for a command; a missing argument object means `{}`. */
export function parseCommandArgs<C extends CommandName>(command: C, args: unknown): Result<CommandArgs<C>> {
  const parsed = COMMANDS[command].request.safeParse(args === undefined ? {} : args);
  if (!parsed.success) return err('INVALID_ARGUMENT', describeIssue(parsed.error));
  return ok(parsed.data as CommandArgs<C>);
}

/** A short, data-free description of the first schema violation (path and rule, never the value). */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid arguments';
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'arguments';
  return `${where}: ${issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message}`.slice(0, 200);
}
