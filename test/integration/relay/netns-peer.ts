/**
 * A peer process for the multi-namespace test (netns.test.ts), run inside a namespace the
 * test made: `ip netns exec NS node --import tsx test/integration/relay/netns-peer.ts MODE …`.
 * It reports on stdout, one JSON object per line, and takes commands on stdin.
 *
 *   behind --relay ADDR --listen ADDR --seed HEX
 *       reserves a slot on the relay, serves an echo protocol (limited connections allowed),
 *       prints {"circuit": addr, "direct": addr}; on stdin "fetch" fetches and acknowledges its
 *       mailbox on the relay (key from the seed) and prints {"fetched": [hex…], "limitedEchoes": n};
 *       on "stop" stops and exits 0.
 *   caller --relay ADDR --circuit ADDR --direct ADDR --mailbox HEX --envelope HEX…
 *       tries the direct address (must fail: no route), then the circuit address; echoes
 *       through it; deposits the envelopes into the mailbox on the relay; prints
 *       {"directError": name, "echo": text, "limited": bool, "deposited": n} and exits 0.
 */
import '../../../src/main/polyfills';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { multiaddr } from '@multiformats/multiaddr';
import { fromHex, initCrypto, toHex } from '../../../src/crypto';
import { admitAnyone, createParleyNode, generateDeviceKey, protocolId, RequestResponse, type ParleyNode } from '../../../src/main/net';
import { MailboxClient, MailboxKey } from '../../../src/main/net/protocols/mailbox';

const ECHO = protocolId('netns-echo', '1.0.0');
const STEP_TIMEOUT_MS = 15_000;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    relay: { type: 'string' },
    listen: { type: 'string' },
    seed: { type: 'string' },
    circuit: { type: 'string' },
    direct: { type: 'string' },
    mailbox: { type: 'string' },
    envelope: { type: 'string', multiple: true },
  },
});

function report(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== 'string') throw new Error(`--${name} is required`);
  return value;
}

async function node(listen: string[], relays: string[] = []): Promise<ParleyNode> {
  return createParleyNode({ privateKey: await generateDeviceKey(), listen, lan: false, relays });
}

async function behind(): Promise<void> {
  const relay = required('relay');
  const self = await node([required('listen')], [relay]);
  let limitedEchoes = 0;
  const echo = new RequestResponse(
    { host: self },
    {
      protocol: ECHO,
      admit: admitAnyone,
      runOnLimitedConnection: true,
      handler: (request, { connection }) => {
        if (connection.limits !== undefined) limitedEchoes++;
        return request;
      },
    },
  );
  await echo.start();
  const reserved = new Promise<string>((resolve) => {
    const check = (): void => {
      const circuit = self.getMultiaddrs().find((m) => m.toString().includes('/p2p-circuit'));
      if (circuit !== undefined) resolve(circuit.toString());
    };
    self.addEventListener('self:peer:update', check);
  });
  await self.start();
  const direct = self.getMultiaddrs().find((m) => !m.toString().includes('/p2p-circuit'))?.toString();
  report({ circuit: await withTimeout(reserved, 'a reservation'), direct });

  const key = MailboxKey.fromSeed(fromHex(required('seed')));
  const mailbox = new MailboxClient(self);
  const relayAddr = multiaddr(relay);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'fetch') {
      const fetched = await mailbox.fetchAll(relayAddr, key, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
      await mailbox.ack(relayAddr, key, fetched.map((e) => e.id), { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
      report({ fetched: fetched.map((e) => toHex(e.envelope)), limitedEchoes });
    } else if (line === 'stop') {
      break;
    }
  }
  await echo.stop();
  await self.stop();
}

async function caller(): Promise<void> {
  const self = await node([]);
  await self.start();
  // The direct address of the peer behind the relay: its namespace has no route to it.
  const directError = await self
    .dial(multiaddr(required('direct')), { signal: AbortSignal.timeout(5_000) })
    .then(() => 'none', (err: unknown) => (err instanceof Error ? err.name : 'error'));
  const connection = await self.dial(multiaddr(required('circuit')), { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  const echo = new RequestResponse(
    { host: self },
    { protocol: ECHO, admit: admitAnyone, handler: (r) => r, runOnLimitedConnection: true },
  );
  const reply = await echo.request(connection.remotePeer, new TextEncoder().encode('through the relay'));
  const mailbox = new MailboxClient(self);
  const mailboxId = fromHex(required('mailbox'));
  const envelopes = (values.envelope ?? []).map(fromHex);
  for (const envelope of envelopes) {
    await mailbox.deposit(multiaddr(required('relay')), mailboxId, envelope, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  }
  report({
    directError,
    echo: new TextDecoder().decode(reply),
    limited: connection.limits !== undefined,
    deposited: envelopes.length,
  });
  await self.stop();
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

await initCrypto();
const mode = positionals[0];
if (mode === 'behind') await behind();
else if (mode === 'caller') await caller();
else throw new Error(`unknown mode ${String(mode)}`);
process.exit(0);
