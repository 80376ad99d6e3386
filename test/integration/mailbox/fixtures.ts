/**
 * Helpers for the app-level relay and mailbox tests: in-process cores (startCore) that reach
 * each other only through relays, relays on fixed loopback ports (so a restarted relay is found
 * again at the address cards name), and the checks every scenario shares. Loopback only; run
 * inside a private network namespace:
 *   scripts/in-netns.sh npx vitest run test/integration/mailbox
 */
import '../../../src/main/polyfills';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startCore } from '../../../src/main/core/core';
import { dispatchCommand } from '../../../src/main/core/dispatch';
import type { Core, Logger } from '../../../src/main/core/types';
import { startRelay, type Relay, type RelayLog } from '../../../src/main/relay';
import type { CommandArgs, CommandName, CommandResult, EventName, EventPayload, Message } from '../../../src/shared';

export { LogCapture, filesContaining, readFolder } from '../relay/fixtures';

const debug = process.env.PARLEY_TEST_LOG ? (...a: unknown[]) => console.error(...a) : () => {};
export const silentLog: Logger = { info: debug, warn: debug, error: debug };

/** A bounded wait for an API condition; polls because the state, not one event, is what counts. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A free TCP port on loopback (asked of the kernel, then released for the relay to take). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A random marker that must never show up on a relay's disk or in its log. */
export function newCanary(): string {
  return `parley-canary-${randomBytes(12).toString('hex')}`;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A relay on a fixed loopback port and folder, so it can stop and come back where it was. */
export class TestRelay {
  readonly dir: string;
  readonly port: number;
  readonly log: RelayLog;
  relay: Relay | undefined;

  private constructor(dir: string, port: number, log: RelayLog) {
    this.dir = dir;
    this.port = port;
    this.log = log;
  }

  static async start(log: RelayLog): Promise<TestRelay> {
    const relay = new TestRelay(tempDir('parley-mailbox-relay-'), await freePort(), log);
    await relay.restart();
    return relay;
  }

  get address(): string {
    const relay = this.#require();
    return `/ip4/127.0.0.1/tcp/${this.port}/p2p/${relay.peerId}`;
  }

  #require(): Relay {
    if (!this.relay) throw new Error('the relay is stopped');
    return this.relay;
  }

  /** Starts the relay (again) on its folder and port. */
  async restart(): Promise<void> {
    if (this.relay) throw new Error('stop the relay first');
    this.relay = await startRelay(
      {
        dataDir: this.dir,
        listen: [`/ip4/127.0.0.1/tcp/${this.port}`],
        announce: [],
        bootstrap: [],
        dhtKeepPrivateAddresses: false,
        relay: {},
        mailbox: {},
      },
      { log: this.log },
    );
  }

  async stop(): Promise<void> {
    const relay = this.relay;
    this.relay = undefined;
    await relay?.stop();
  }

  async dispose(): Promise<void> {
    await this.stop();
    removeDir(this.dir);
  }
}

/** A Parley peer as the tests drive it: in this process (TestPeer) or in a namespace (netns.test.ts). */
export interface ApiPeer {
  readonly name: string;
  conversationId: string;
  call<C extends CommandName>(command: C, args?: CommandArgs<C>): Promise<CommandResult<C>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** Sets a peer's relays and waits until every one of them holds its reservation. */
export async function useRelays(peer: ApiPeer, addresses: string[], timeoutMs = 30_000): Promise<void> {
  await peer.call('settings.update', { relays: addresses });
  await until(
    `${peer.name}'s reservations`,
    async () => {
      const { relays } = await peer.call('network.status');
      return relays.length === addresses.length && relays.every((r) => r.reserved) ? true : undefined;
    },
    timeoutMs,
  );
}

/** The whole timeline of a peer's conversation, oldest first, through messages.page. */
export async function timeline(peer: ApiPeer): Promise<Message[]> {
  const newestFirst: Message[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await peer.call('messages.page', { conversationId: peer.conversationId, limit: 200, ...(before ? { before } : {}) });
    newestFirst.push(...page.messages);
    if (!page.nextCursor) return newestFirst.reverse();
    before = page.nextCursor;
  }
}

export interface PeerOptions {
  /** Listen addresses; none (dial-only, as behind a NAT that takes no inbound connection) by default. */
  listen?: string[];
  /** Mailbox poll interval (the app's default otherwise). */
  mailboxPollIntervalMs?: number;
  /** First re-deposit of a message with no delivery receipt (the app's default otherwise: hours). */
  outboxRedepositAfterMs?: number;
}

/** A core on its own folder, no LAN discovery, driven through the validated API. */
export class TestPeer implements ApiPeer {
  readonly name: string;
  readonly dir: string;
  readonly passphrase: string;
  readonly #options: PeerOptions;
  core: Core | undefined;
  conversationId = '';

  private constructor(name: string, dir: string, options: PeerOptions) {
    this.name = name;
    this.dir = dir;
    this.passphrase = `${name} passphrase`;
    this.#options = options;
  }

  static async create(name: string, options: PeerOptions = {}): Promise<TestPeer> {
    const peer = new TestPeer(name, tempDir(`parley-mailbox-${name}-`), options);
    await peer.#open();
    await peer.call('identity.create', { displayName: name, passphrase: peer.passphrase });
    return peer;
  }

  async #open(): Promise<void> {
    this.core = await startCore({
      dataDir: this.dir,
      listen: this.#options.listen ?? [],
      lan: false,
      log: silentLog,
      ...(this.#options.mailboxPollIntervalMs !== undefined ? { mailboxPollIntervalMs: this.#options.mailboxPollIntervalMs } : {}),
      ...(this.#options.outboxRedepositAfterMs !== undefined ? { outboxRedepositAfterMs: this.#options.outboxRedepositAfterMs } : {}),
    });
  }

  get running(): boolean {
    return this.core !== undefined;
  }

  async call<C extends CommandName>(command: C, args?: CommandArgs<C>): Promise<CommandResult<C>> {
    const core = this.core;
    if (!core) throw new Error(`${this.name} is stopped`);
    const result = await dispatchCommand(core.api, command, args ?? {}, (c, e) => console.error('internal error in', c, e));
    if (!result.ok) throw Object.assign(new Error(`${this.name} ${command}: ${result.error.code} ${result.error.message}`), { code: result.error.code });
    return result.value as CommandResult<C>;
  }

  /** Calls `listener` for every `event` of the running core; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    if (!this.core) throw new Error(`${this.name} is stopped`);
    return this.core.events.on(event, listener);
  }

  /** Stops the core (network and store); the folder stays. */
  async stop(): Promise<void> {
    const core = this.core;
    this.core = undefined;
    await core?.stop();
  }

  /** Starts the core again on the same folder and unlocks it. */
  async restart(): Promise<void> {
    if (this.core) throw new Error(`${this.name} is running`);
    await this.#open();
    await this.call('identity.unlock', { passphrase: this.passphrase });
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    removeDir(this.dir);
  }

  async useRelays(addresses: string[]): Promise<void> {
    await useRelays(this, addresses);
  }

  async timeline(): Promise<Message[]> {
    return timeline(this);
  }
}

/**
 * Makes `inviter` and `invitee` contacts through the inviter's invite link, the way users do
 * across the internet: the invitee reaches the inviter through the relays its card names.
 */
export async function becomeContacts(inviter: ApiPeer, invitee: ApiPeer, timeoutMs = 30_000): Promise<void> {
  const { profile } = await inviter.call('identity.status');
  if (!profile) throw new Error('the inviter is locked');
  const added = new Promise<void>((resolve) => {
    const off = inviter.on('contact.updated', () => {
      off();
      resolve();
    });
  });
  const contact = await invitee.call('contacts.addFromInvite', { link: profile.inviteLink });
  invitee.conversationId = contact.conversationId;
  await added;
  const contacts = await until(
    `${inviter.name}'s new contact`,
    async () => {
      const list = await inviter.call('contacts.list');
      return list.length === 1 ? list : undefined;
    },
    timeoutMs,
  );
  inviter.conversationId = (contacts[0] as { conversationId: string }).conversationId;
}

/** Messages `sender` sent (ids) are each in `receiver`'s timeline exactly once, with their exact bodies. */
export async function receivedExactlyOnce(receiver: ApiPeer, sent: Map<string, string>): Promise<Message[]> {
  const incoming = (await timeline(receiver)).filter((m) => m.direction === 'in' && sent.has(m.id));
  const ids = new Set(incoming.map((m) => m.id));
  if (ids.size !== incoming.length) throw new Error('a message shows twice');
  for (const m of incoming) if (sent.get(m.id) !== m.body) throw new Error('a message body changed on the way');
  return incoming;
}
