/**
 * A core in a child process, for netns.test.ts: run inside a network namespace the test made
 * (`ip netns exec NS node --import tsx test/integration/mailbox/netns-core.ts --data DIR
 * --listen ADDR`), where the test cannot reach a WebSocket API on its loopback. It speaks
 * JSON lines instead:
 *
 *   stdin   {"id": n, "op": "call", "command": "messages.send", "args": {…}}
 *           {"id": n, "op": "stop"}                      the core stops (network and store)
 *           {"id": n, "op": "start", "passphrase": "…"}  a new core on the folder, unlocked
 *   stdout  {"ready": true} once, then {"id": n, "result": Result} per request and
 *           {"event": name, "payload": …} per core event
 *
 * It exits when stdin closes.
 */
import '../../../src/main/polyfills';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startCore } from '../../../src/main/core/core';
import { dispatchCommand } from '../../../src/main/core/dispatch';
import type { Core, Logger } from '../../../src/main/core/types';
import { err, ok, type Result } from '../../../src/shared';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    listen: { type: 'string', multiple: true },
    // How often the core fetches its mailboxes (the app's default is two minutes).
    'mailbox-poll-ms': { type: 'string' },
  },
});
if (values.data === undefined) throw new Error('--data is required');
const dataDir = values.data;
const listen = values.listen ?? [];
const mailboxPollIntervalMs = values['mailbox-poll-ms'] === undefined ? undefined : Number(values['mailbox-poll-ms']);

const log: Logger = process.env.PARLEY_TEST_LOG
  ? { info: (m, f) => console.error(m, f ?? ''), warn: (m, f) => console.error(m, f ?? ''), error: (m, f) => console.error(m, f ?? '') }
  : { info: () => undefined, warn: () => undefined, error: () => undefined };

function write(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

let core: Core | undefined;
let unsubscribe: (() => void) | undefined;

async function open(): Promise<Core> {
  const started = await startCore({ dataDir, listen, lan: false, log, ...(mailboxPollIntervalMs ? { mailboxPollIntervalMs } : {}) });
  unsubscribe = started.events.subscribe((event, payload) => write({ event, payload }));
  core = started;
  return started;
}

async function handle(request: { op?: unknown; command?: unknown; args?: unknown; passphrase?: unknown }): Promise<Result<unknown>> {
  switch (request.op) {
    case 'call':
      if (!core) return err('LOCKED', 'the core is stopped');
      return dispatchCommand(core.api, request.command, request.args, (c, e) => console.error('internal error in', c, e));
    case 'stop': {
      const running = core;
      core = undefined;
      unsubscribe?.();
      await running?.stop();
      return ok({});
    }
    case 'start': {
      if (core) return err('ALREADY_EXISTS', 'already running');
      const started = await open();
      return dispatchCommand(started.api, 'identity.unlock', { passphrase: request.passphrase });
    }
    default:
      return err('UNKNOWN_COMMAND', 'unknown op');
  }
}

await open();
write({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const request = JSON.parse(line) as { id: number; op?: unknown; command?: unknown; args?: unknown; passphrase?: unknown };
  // Requests run concurrently (the API allows it); each answer carries its request's id.
  void handle(request).then(
    (result) => write({ id: request.id, result }),
    (error: unknown) => write({ id: request.id, result: err('INTERNAL', error instanceof Error ? error.name : 'error') }),
  );
}
await core?.stop();
process.exit(0);
