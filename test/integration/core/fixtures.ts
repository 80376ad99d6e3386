/**
 * Real cores for integration tests: each with its own temporary data folder, listening on
 * loopback only, mDNS on (the tests run inside a private network namespace, see
 * scripts/in-netns.sh). Waits are on events with a bound, never sleeps.
 */
import '../../../src/main/polyfills';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCore } from '../../../src/main/core/core';
import type { Core, Logger } from '../../../src/main/core/types';
import type { CommandArgs, CommandName, CommandResult, EventName, EventPayload } from '../../../src/shared';
import { dispatchCommand } from '../../../src/main/core/dispatch';

export const LOOPBACK = ['/ip4/127.0.0.1/tcp/0'];

const debug = process.env.PARLEY_TEST_LOG ? (...a: unknown[]) => console.error(...a) : () => {};
export const silentLog: Logger = { info: debug, warn: debug, error: debug };

export interface TestPeer {
  core: Core;
  dir: string;
  call<C extends CommandName>(command: C, args?: CommandArgs<C>): Promise<CommandResult<C>>;
  next<E extends EventName>(event: E, match?: (payload: EventPayload<E>) => boolean, timeoutMs?: number): Promise<EventPayload<E>>;
  stop(): Promise<void>;
}

export async function startPeer(dir = mkdtempSync(path.join(tmpdir(), 'parley-core-')), lan = true): Promise<TestPeer> {
  const core = await startCore({ dataDir: dir, listen: LOOPBACK, lan, log: silentLog });
  const peer: TestPeer = {
    core,
    dir,
    async call(command, args) {
      const result = await dispatchCommand(core.api, command, args ?? {}, (c, e) => console.error('internal error in', c, e));
      if (!result.ok) throw Object.assign(new Error(`${command}: ${result.error.code} ${result.error.message}`), { code: result.error.code });
      return result.value as never;
    },
    next(event, match = () => true, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`timed out waiting for ${event}`));
        }, timeoutMs);
        const off = core.events.on(event, (payload) => {
          if (!match(payload)) return;
          clearTimeout(timer);
          off();
          resolve(payload);
        });
      });
    },
    async stop() {
      await core.stop();
    },
  };
  return peer;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Polls a condition on API state (used where the state, not an event, is what matters). */
export async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
