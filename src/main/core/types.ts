/**
 * What the composition roots (Electron main, headless peer, tests) hold once the core runs.
 * Transports need only `api` and `events`; the root owns `stop()`.
 */
import type { CoreApi } from '../../shared';
import type { EventBus } from './events';

export interface Core {
  /** One async function per contract command; arguments are already validated. */
  readonly api: CoreApi;
  readonly events: EventBus;
  /** Stops the network node and closes the store; pending work stays queued on disk. */
  stop(): Promise<void>;
}

/** Diagnostic log for the core: codes and counts only, never plaintext, keys or identities. */
export interface Logger {
  info(message: string, fields?: Record<string, string | number | boolean>): void;
  warn(message: string, fields?: Record<string, string | number | boolean>): void;
  error(message: string, fields?: Record<string, string | number | boolean>): void;
}

/** Where the desktop app keeps the database key when the user chooses the OS keychain. */
export interface KeychainProtector {
  isAvailable(): boolean;
  encrypt(plain: Uint8Array): Uint8Array;
  decrypt(sealed: Uint8Array): Uint8Array;
}

export interface CoreOptions {
  /** The data folder: the encrypted database and the wrapped key live here, nothing else. */
  readonly dataDir: string;
  /** libp2p listen addresses; the app passes 0.0.0.0, tests 127.0.0.1. */
  readonly listen: readonly string[];
  /** mDNS on the LAN (off in tests that must not see each other). */
  readonly lan: boolean;
  readonly keychain?: KeychainProtector;
  readonly log: Logger;
  /** Injected clock (ms), for tests. */
  readonly now?: () => number;
  /** How often our mailboxes are polled (default MAILBOX_POLL_INTERVAL_MS); tests shorten it. */
  readonly mailboxPollIntervalMs?: number;
  /** First re-deposit of a message with no delivery receipt (default MAILBOX_REDEPOSIT_AFTER_MS); tests shorten it. */
  readonly outboxRedepositAfterMs?: number;
}
