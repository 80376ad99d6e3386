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
 *
 * For the DHT lookup test (dht-lookup.test.ts), the app's own pieces:
 *
 *   relay RELAY-ARGS…
 *       the relay node (startRelay, as `npm run relay` runs it) with the same arguments;
 *       prints {"relay": [address…]}, then {"knows": peerId, "circuit": addr} the first time
 *       its peer store holds a circuit address of a peer (what its DHT server answers with);
 *       stops and exits 0 on stdin "stop" (or when stdin closes).
 *   contact --key HEX --contact PEERID --relay ADDR --listen ADDR
 *       a ParleyNetwork (the app's network) with device key HEX, keeping a reservation on the
 *       relay; PEERID is its one contact. Prints {"reserved": relayPeerId} once the
 *       reservation is in place and {"delivered": [hex…], "from": peerId, "path": path} for
 *       each msg batch; on stdin "stop" stops and exits 0.
 *   finder --key HEX --contact PEERID --relay ADDR --listen ADDR --stale-relay ADDR
 *          --stale-address ADDR --envelope HEX
 *       a ParleyNetwork with its own relay, to which PEERID's card names only --stale-relay
 *       and whose remembered address is --stale-address. Prints {"ready": true} once its
 *       reservation is in place; on stdin "send" sends the envelope to PEERID (the app's
 *       ladder: remembered addresses, the card's relays, the DHT) and prints
 *       {"sent": [status…], "connections": [{address, path}…]}, then sends to a PeerId nobody
 *       has and prints {"stranger": errorName}; stops and exits 0.
 */
import '../../../src/main/polyfills';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { multiaddr } from '@multiformats/multiaddr';
import { fromHex, initCrypto, toHex } from '../../../src/crypto';
import {
  admitAnyone,
  createParleyNode,
  generateDeviceKey,
  ParleyNetwork,
  peerIdFromDeviceKey,
  protocolId,
  RequestResponse,
  type NetworkHandlers,
  type ParleyNode,
} from '../../../src/main/net';
import { MailboxClient, MailboxKey } from '../../../src/main/net/protocols/mailbox';
import { parseRelayArgs, startRelay } from '../../../src/main/relay';

const ECHO = protocolId('netns-echo', '1.0.0');
const STEP_TIMEOUT_MS = 15_000;

const mode = process.argv[2];
// The relay mode passes its arguments on to the relay's own parser.
const { values } = parseArgs({
  args: mode === 'relay' ? [] : process.argv.slice(3),
  options: {
    relay: { type: 'string' },
    listen: { type: 'string' },
    seed: { type: 'string' },
    circuit: { type: 'string' },
    direct: { type: 'string' },
    mailbox: { type: 'string' },
    envelope: { type: 'string', multiple: true },
    key: { type: 'string' },
    contact: { type: 'string' },
    'stale-relay': { type: 'string' },
    'stale-address': { type: 'string' },
  },
});

function report(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function required(name: Exclude<keyof typeof values, 'envelope'>): string {
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

async function relay(): Promise<void> {
  const command = parseRelayArgs(process.argv.slice(3));
  if (command.kind !== 'relay') throw new Error('relay arguments expected');
  const running = await startRelay(command);
  const seen = new Set<string>();
  // What the relay's DHT server answers for a peer is what its peer store holds (identify).
  running.node.addEventListener('peer:update', (event) => {
    const { peer } = event.detail;
    for (const { multiaddr: address } of peer.addresses) {
      const text = address.toString();
      if (!text.includes('/p2p-circuit') || seen.has(`${peer.id.toString()} ${text}`)) continue;
      seen.add(`${peer.id.toString()} ${text}`);
      report({ knows: peer.id.toString(), circuit: text });
    }
  });
  report({ relay: running.addresses() });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'stop') break;
  }
  await running.stop();
}

/** The handlers of an app whose one contact is `contact`; deliveries are reported. */
function appHandlers(contact: string, relaysOf: readonly string[], reserved: (relayPeerId: string) => void): NetworkHandlers {
  return {
    isContact: (peerId) => peerId === contact,
    isBlocked: () => false,
    card: () => new Uint8Array(0),
    introduce: () => Promise.resolve('rejected'),
    deliver: (peerId, envelopes, path) => {
      report({ delivered: envelopes.map(toHex), from: peerId, path });
      return Promise.resolve(envelopes.map(() => 'stored'));
    },
    peerDiscovered: () => undefined,
    connectionChanged: () => undefined,
    peerAddresses: () => undefined,
    relaysOf: (peerId) => (peerId === contact ? relaysOf : []),
    relayReserved: reserved,
  };
}

async function app(relaysOfContact: readonly string[]): Promise<{ network: ParleyNetwork; reserved: Promise<string> }> {
  let reserved: (relayPeerId: string) => void = () => undefined;
  const ready = new Promise<string>((resolve) => (reserved = resolve));
  const network = await ParleyNetwork.start({
    deviceKey: fromHex(required('key')),
    listen: [required('listen')],
    lan: false,
    relays: [required('relay')],
    handlers: appHandlers(required('contact'), relaysOfContact, (relayPeerId) => reserved(relayPeerId)),
  });
  return { network, reserved: withTimeout(ready, 'a reservation') };
}

async function contact(): Promise<void> {
  const { network, reserved } = await app([]);
  report({ reserved: await reserved });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'stop') break;
  }
  await network.stop();
}

async function finder(): Promise<void> {
  const peer = required('contact');
  const { network, reserved } = await app([required('stale-relay')]);
  // What the store would give at start (peer.ts): the address the contact had last time.
  await network.rememberAddresses(peer, [required('stale-address')]);
  await reserved;
  report({ ready: true });
  // Only "send" starts the attempt; stdin closing means the test is gone.
  let go = false;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'send') {
      go = true;
      break;
    }
  }
  if (!go) {
    await network.stop();
    return;
  }
  const envelopes = (values.envelope ?? []).map(fromHex);
  const sent = await network.send(peer, envelopes, AbortSignal.timeout(STEP_TIMEOUT_MS));
  const connections = network.connections().filter((c) => c.peerId === peer).map(({ address, path }) => ({ address, path }));
  report({ sent, connections });
  const nobody = peerIdFromDeviceKey(await generateDeviceKey()).toString();
  const stranger = await network.send(nobody, [new Uint8Array(1)]).then(
    () => 'none',
    (err: unknown) => (err instanceof Error ? err.name : 'error'),
  );
  report({ stranger });
  await network.stop();
}

await initCrypto();
if (mode === 'behind') await behind();
else if (mode === 'caller') await caller();
else if (mode === 'relay') await relay();
else if (mode === 'contact') await contact();
else if (mode === 'finder') await finder();
else throw new Error(`unknown mode ${String(mode)}`);
process.exit(0);
