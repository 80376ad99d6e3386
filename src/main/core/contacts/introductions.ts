/**
 * Introductions we owe (ARCHITECTURE.md §3, issue 5). The first message to a new contact is
 * our signed card, with the invite secret when we used their invite link, end-to-end
 * encrypted as the first message of the session: an X3DH prekey message sealed to the signed
 * prekey their card names, so it can be written while they are offline. Until it is out, our
 * other messages to them wait behind it (the outbox asks `ready`): they can open those only
 * after it, and from a mailbox they take nothing from a stranger.
 *
 * One attempt at a time per contact. The envelope is encrypted once and kept with what is
 * owed, and every attempt sends those same bytes (ARCHITECTURE.md §6: the identical ciphertext
 * is resent): encrypting afresh per attempt would step the sending chain each time, and after
 * MAX_FORWARD_JUMP attempts the contact could no longer open it. The contact recognises a
 * repeated copy by its session's base key and answers as it did the first time.
 *
 *   1. /parley/hello INTRODUCE, when the contact can be reached: its answer says whether it
 *      accepted us (an invite), took a request (pending) or refused;
 *   2. otherwise (unreachable through every rung of the network's ladder, or no answer within
 *      the hello bounds) the same envelope goes into the contact's mailboxes on the relays its
 *      card names, on MAILBOX_COPIES of them like the outbox's deposits; the contact opens it
 *      on its next fetch, before our messages deposited after it;
 *   3. neither, or refused over hello: tried again after the outbox's backoff (at most every
 *      RETRY_MAX_MS), and at once when the peer shows up.
 *
 * The store keeps what is owed (PENDING_INTRO), so a restart resumes it.
 */
import type { IntroduceStatus } from '../../net';
import type { Contact, Device, Store } from '../../store';
import type { MailboxTarget } from '../messaging/deposit-policy';
import { MAILBOX_COPIES, retryDelay } from '../messaging/outbox-policy';
import type { Logger } from '../types';

/** Settings key of an introduction still owed to a contact (value: invite secret hex or ''). */
const PENDING_INTRO = (contactId: number) => `intro.pending.${contactId}`;
/**
 * How long stopping waits for attempts in flight: an answer already on its way (the contact
 * took our introduction a moment before we quit) is worth recording, or the next start sends
 * the introduction again; a contact that does not answer must not hold up quitting.
 */
export const STOP_GRACE_MS = 2_000;
/** Settings key of the owed introduction's envelope, once encrypted (value: `<device id>:<base64>`). */
const INTRO_ENVELOPE = (contactId: number) => `intro.envelope.${contactId}`;
/** An invite secret as stored: 16 bytes in hex (contacts/card.ts INVITE_SECRET_BYTES). */
const SECRET_HEX = /^[0-9a-f]{32}$/;
const SAVED_ENVELOPE = /^([1-9][0-9]{0,15}):([A-Za-z0-9+/]+={0,2})$/;

/** Why an introduction that reached us was refused; logged as such, never with the sender. */
export type IntroductionRefusal =
  /** Sealed to no signed prekey of ours (not for us, or sealed to one long retired). */
  | 'unknown-recipient'
  /** It did not open, decrypt or parse (corrupted, forged, or from a broken client). */
  | 'undecryptable'
  /** A stranger's message that is no introduction: nothing to attach it to. */
  | 'not-introduction'
  /** The card inside is not the sender's (another identity key or, over hello, another PeerId). */
  | 'wrong-card'
  /** From a mailbox, a card claiming the device of another contact (only Noise may prove a key change). */
  | 'device-of-another-contact'
  | 'blocked'
  /** A request beyond MAX_INCOMING_REQUESTS unanswered ones. */
  | 'too-many-requests'
  /** Its session was started once already and is gone since: an old copy served again. */
  | 'replayed';

export type IntroductionResult =
  | { readonly status: 'accepted' | 'pending' }
  | { readonly status: 'rejected'; readonly reason: IntroductionRefusal };

/** What became of an envelope from our mailbox that no known session claimed. */
export type MailboxIntroduction = { readonly status: 'stored' } | { readonly status: 'rejected'; readonly reason: IntroductionRefusal };

/** Mailbox deposits (the outbox's, in the app): the device's mailboxes in card order. */
export interface IntroductionMailbox {
  targets(deviceId: number): MailboxTarget[];
  deposit(target: MailboxTarget, envelope: Uint8Array): Promise<void>;
}

/** How an owed introduction went out: the contact's answer over hello, or into its mailboxes. */
export type IntroductionOutcome = 'accepted' | 'pending' | 'deposited';

export interface IntroductionDeps {
  store: Store;
  /** Encrypts our introduction for the device and commits the session (Messenger.encryptIntroduction). */
  encrypt(device: Device, inviteSecret?: Uint8Array): Uint8Array;
  /** hello INTRODUCE; throws when the peer cannot be reached or does not answer in time. */
  introduce(peerId: string, envelope: Uint8Array): Promise<IntroduceStatus>;
  mailbox?: IntroductionMailbox;
  /** The introduction went out (already forgotten here, the contact's outbox released). */
  delivered(contactId: number, device: Device, outcome: IntroductionOutcome): void;
  log: Logger;
  random?: () => number;
}

export class Introductions {
  readonly #deps: IntroductionDeps;
  readonly #store: Store;
  /** Attempts on the wire, by contact: discovery, a request and a retry must not send two. */
  readonly #inFlight = new Map<number, Promise<void>>();
  /** One retry timer per contact that owes one; bounded by the contacts we have. */
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #failures = new Map<number, number>();
  #stopped = false;

  constructor(deps: IntroductionDeps) {
    this.#deps = deps;
    this.#store = deps.store;
  }

  /** Records that we owe the contact an introduction; call inside the adopting transaction. */
  owe(contactId: number, inviteSecret: Uint8Array | undefined): void {
    this.#store.settings.set(PENDING_INTRO(contactId), inviteSecret ? Buffer.from(inviteSecret).toString('hex') : '');
  }

  owes(contactId: number): boolean {
    return this.#store.settings.get(PENDING_INTRO(contactId)) !== undefined;
  }

  /**
   * Nothing is owed any more (it went out, or the contact introduced itself to us): the
   * contact's messages held behind it may go.
   */
  forget(contactId: number): void {
    this.#store.settings.delete(INTRO_ENVELOPE(contactId));
    if (this.#store.settings.delete(PENDING_INTRO(contactId))) this.#store.outbox.releaseForContact(contactId);
    this.#failures.delete(contactId);
    clearTimeout(this.#timers.get(contactId));
    this.#timers.delete(contactId);
  }

  /** The outbox's question: may this device's messages go out, or do they wait for our introduction? */
  ready(deviceId: number): boolean {
    const device = this.#store.devices.get(deviceId);
    return !device || !this.owes(device.contactId);
  }

  /** Tries every owed introduction (at start: those a previous run could not deliver). */
  resume(): void {
    for (const contact of this.#store.contacts.list()) {
      if (!this.owes(contact.id)) continue;
      const device = this.#store.devices.listByContact(contact.id)[0];
      if (device) void this.deliver(contact, device);
    }
  }

  /** Stops retrying; waits up to STOP_GRACE_MS for attempts in flight, before the network and store close. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    if (this.#inFlight.size === 0) return;
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inFlight.values()]),
      new Promise<void>((resolve) => (grace = setTimeout(resolve, STOP_GRACE_MS))),
    ]);
    clearTimeout(grace);
  }

  /** Sends the introduction we owe the contact, if any; resolves when this attempt is over. */
  deliver(contact: Contact, device: Device): Promise<void> {
    if (this.#stopped || contact.blocked || !this.#store.isOpen) return Promise.resolve();
    const running = this.#inFlight.get(contact.id);
    if (running) return running;
    const pending = this.#store.settings.get(PENDING_INTRO(contact.id));
    if (pending === undefined) return Promise.resolve();
    clearTimeout(this.#timers.get(contact.id));
    this.#timers.delete(contact.id);
    const secret = SECRET_HEX.test(pending) ? new Uint8Array(Buffer.from(pending, 'hex')) : undefined;
    const attempt = this.#attempt(contact.id, device, secret)
      .catch((error: unknown) => {
        this.#deps.log.warn('introduction failed', { error: error instanceof Error ? error.name : 'unknown' });
        this.#retryLater(contact.id);
      })
      .finally(() => this.#inFlight.delete(contact.id));
    this.#inFlight.set(contact.id, attempt);
    return attempt;
  }

  /**
   * The introduction's envelope for this device: the one encrypted by an earlier attempt, or
   * encrypted now and kept in the same transaction as the session step it took.
   */
  #envelopeFor(contactId: number, device: Device, secret: Uint8Array | undefined): Uint8Array {
    const saved = SAVED_ENVELOPE.exec(this.#store.settings.get(INTRO_ENVELOPE(contactId)) ?? '');
    if (saved && Number(saved[1]) === device.id) return new Uint8Array(Buffer.from(saved[2] as string, 'base64'));
    return this.#store.transaction(() => {
      const envelope = this.#deps.encrypt(device, secret);
      this.#store.settings.set(INTRO_ENVELOPE(contactId), `${device.id}:${Buffer.from(envelope).toString('base64')}`);
      return envelope;
    });
  }

  async #attempt(contactId: number, device: Device, secret: Uint8Array | undefined): Promise<void> {
    const envelope = this.#envelopeFor(contactId, device, secret);
    let outcome: IntroductionOutcome;
    try {
      const status = await this.#deps.introduce(device.peerId, envelope);
      // They said no (blocked us, too many requests, or their store failed): nothing to leave
      // in their mailbox either; asked again after a backoff, or when they show up.
      if (status === 'rejected') {
        this.#retryLater(contactId);
        return;
      }
      outcome = status;
    } catch {
      if (!(await this.#deposit(device, envelope))) {
        this.#retryLater(contactId);
        return;
      }
      outcome = 'deposited';
    }
    // Recorded even while stopping (see STOP_GRACE_MS); not once the store is closed.
    if (!this.#store.isOpen) return;
    this.#store.transaction(() => this.forget(contactId));
    this.#deps.delivered(contactId, device, outcome);
  }

  /** Leaves the envelope in the device's mailboxes, card order, on up to MAILBOX_COPIES relays. */
  async #deposit(device: Device, envelope: Uint8Array): Promise<boolean> {
    const mailbox = this.#deps.mailbox;
    if (!mailbox) return false;
    let copies = 0;
    for (const target of mailbox.targets(device.id)) {
      if (copies >= MAILBOX_COPIES || this.#stopped) break;
      try {
        await mailbox.deposit(target, envelope);
        copies++;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        this.#deps.log.info('introduction deposit failed; trying the next relay', {
          error: error instanceof Error ? error.name : 'unknown',
          ...(typeof code === 'string' ? { code } : {}),
        });
      }
    }
    return copies > 0;
  }

  #retryLater(contactId: number): void {
    if (this.#stopped) return;
    const failures = this.#failures.get(contactId) ?? 0;
    this.#failures.set(contactId, failures + 1);
    clearTimeout(this.#timers.get(contactId));
    const timer = setTimeout(() => {
      this.#timers.delete(contactId);
      if (this.#stopped || !this.#store.isOpen) return;
      try {
        const contact = this.#store.contacts.get(contactId);
        const device = contact && this.#store.devices.listByContact(contact.id)[0];
        if (contact && device) void this.deliver(contact, device);
      } catch (error) {
        this.#deps.log.warn('introduction retry failed', { error: error instanceof Error ? error.name : 'unknown' });
      }
    }, retryDelay(failures, this.#deps.random));
    timer.unref?.();
    this.#timers.set(contactId, timer);
  }
}
