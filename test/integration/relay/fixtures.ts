/**
 * Helpers for the relay and mailbox integration tests: in-process relays on temporary
 * folders (loopback only), a hand-driven clock, canary envelopes, and scans of a relay's
 * folder and log. Run only inside a private network namespace:
 *   scripts/in-netns.sh npx vitest run test/integration/relay
 */
import '../../../src/main/polyfills';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { initCrypto, randomBytes, toHex, utf8 } from '../../../src/crypto';
import { MailboxKey } from '../../../src/main/net/protocols/mailbox';
import type { MailboxLimits } from '../../../src/main/net/protocols/mailbox';
import type { RelayServerLimits } from '../../../src/main/net';
import { startRelay, type LogFields, type Relay, type RelayLog } from '../../../src/main/relay';
import { LOOPBACK_TCP } from '../net/fixtures';

export { LOOPBACK_TCP, Nodes, within } from '../net/fixtures';

/** A clock the test moves by hand. */
export class ManualClock {
  #now = Date.now();
  readonly now = (): number => this.#now;
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Every log line a relay wrote, as text, for leak checks. */
export class LogCapture implements RelayLog {
  readonly lines: string[] = [];
  info(message: string, fields?: LogFields): void {
    this.#add('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.#add('warn', message, fields);
  }
  get text(): string {
    return this.lines.join('\n');
  }
  #add(level: string, message: string, fields?: LogFields): void {
    const extra = fields === undefined ? '' : Object.entries(fields).map(([k, v]) => ` ${k}=${String(v)}`).join('');
    this.lines.push(`relay ${level}: ${message}${extra}`);
  }
}

export interface TestRelayOptions {
  dir?: string;
  mailbox?: Partial<MailboxLimits>;
  relay?: RelayServerLimits;
  clock?: ManualClock;
  log?: LogCapture;
}

/** Starts relays on loopback and temporary folders; `stopAll` stops them and removes the folders. */
export class Relays {
  readonly #relays: Relay[] = [];
  readonly #dirs: string[] = [];

  tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-relay-test-'));
    this.#dirs.push(dir);
    return dir;
  }

  async start(options: TestRelayOptions = {}): Promise<Relay> {
    await initCrypto();
    const relay = await startRelay(
      {
        dataDir: options.dir ?? this.tempDir(),
        listen: [LOOPBACK_TCP],
        announce: [],
        bootstrap: [],
        dhtKeepPrivateAddresses: false,
        relay: options.relay ?? {},
        mailbox: options.mailbox ?? {},
      },
      { log: options.log, now: options.clock?.now },
    );
    this.#relays.push(relay);
    return relay;
  }

  async stopAll(): Promise<void> {
    for (const relay of this.#relays.splice(0)) await relay.stop();
    for (const dir of this.#dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The relay's first address, for dialing. */
export function addressOf(relay: Relay): Multiaddr {
  const address = relay.addresses()[0];
  if (address === undefined) throw new Error('relay has no address');
  return multiaddr(address);
}

export async function newMailboxKey(): Promise<MailboxKey> {
  await initCrypto();
  return MailboxKey.fromSeed(randomBytes(32));
}

/**
 * An opaque "sealed envelope" of `size` bytes (a bucket size by default) whose ciphertext
 * region carries a unique ASCII canary, so its bytes can be searched for in files and logs.
 */
export function canaryEnvelope(size = 256): { envelope: Uint8Array; canary: string } {
  const canary = `PARLEY-CANARY-${toHex(randomBytes(8))}`;
  const envelope = randomBytes(size);
  envelope[0] = 1;
  envelope.set(utf8(canary), 17);
  return { envelope, canary };
}

/** Every file under `dir`, recursively, with its bytes. */
export function readFolder(dir: string): { file: string; bytes: Buffer }[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file: path.relative(dir, file), bytes: fs.readFileSync(file) };
    });
}

/** Files under `dir` that contain `needle` (as bytes). */
export function filesContaining(dir: string, needle: Uint8Array): string[] {
  return readFolder(dir)
    .filter(({ bytes }) => bytes.includes(Buffer.from(needle)))
    .map(({ file }) => file);
}

/** The forms in which bytes could show up in a text log. */
export function textForms(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  return [buffer.toString('hex'), buffer.toString('base64'), buffer.toString('base64url')];
}
