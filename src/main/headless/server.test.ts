import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WS_FRAME_BYTES } from '../../shared';
import {
  ApiClient,
  CANARY,
  fakeCore,
  get,
  makeStaticDir,
  rawHttp,
  recordingLogger,
  upgrade,
  type FakeCore,
  type RawResponse,
} from './headless.test-util';
import { startHeadlessServer, type HeadlessLimits, type HeadlessServer } from './server';

const CONTACT_ID = 'a'.repeat(32);
const STATUS = { state: 'locked', keychainAvailable: false };

let folder: ReturnType<typeof makeStaticDir>;
beforeAll(() => {
  folder = makeStaticDir();
});
afterAll(() => folder.cleanup());

const open: Array<{ server: HeadlessServer; clients: ApiClient[] }> = [];
afterEach(async () => {
  for (const { server, clients } of open.splice(0)) {
    for (const client of clients) client.close();
    await server.close();
  }
});

async function start(limits: Partial<HeadlessLimits> = {}, fake: FakeCore = fakeCore({ 'identity.status': async () => STATUS })) {
  const log = recordingLogger();
  const server = await startHeadlessServer({ core: fake.core, staticDir: folder.staticDir, log, limits });
  const clients: ApiClient[] = [];
  open.push({ server, clients });
  const connect = async (options?: { autoPong?: boolean }): Promise<ApiClient> => {
    const client = await ApiClient.connect(server, options);
    clients.push(client);
    return client;
  };
  return { server, fake, log, connect, host: `Host: 127.0.0.1:${server.port}`, origin: `Origin: http://127.0.0.1:${server.port}` };
}

/** 403 with an empty body and no header beyond framing: no hint, no CORS. */
function expectBareForbidden(response: RawResponse): void {
  expect(response.status).toBe(403);
  expect(response.body).toBe('');
  expect(response.headerNames.filter((name) => name !== 'content-length' && name !== 'connection')).toEqual([]);
  expect(response.headers['content-length']).toBe('0');
}

describe('headless server - binding and token', () => {
  it('binds 127.0.0.1 only and prints the token in the URL fragment', async () => {
    const { server } = await start();
    expect(server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: server.port });
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`);
  });

  it('draws a new token on every start', async () => {
    const a = await start();
    const b = await start();
    expect(a.server.token).not.toBe(b.server.token);
  });
});

describe('headless server - static files', () => {
  it('serves index.html for / with the security headers', async () => {
    const { server, host } = await start();
    const response = await get(server.port, '/', [host]);
    expect(response.status).toBe(200);
    expect(response.body).toContain('<title>Parley</title>');
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['cache-control']).toBe('no-store');
    const csp = response.headers['content-security-policy'] ?? '';
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      `connect-src 'self' ws://127.0.0.1:${server.port} ws://localhost:${server.port}`,
      "img-src 'self' data: blob:",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
      "form-action 'none'",
    ]) {
      expect(csp.split('; ')).toContain(directive);
    }
    expect(csp).not.toContain('unsafe');
    expect(response.headerNames.some((name) => name.startsWith('access-control-'))).toBe(false);
  });

  it('serves assets with their content types, under localhost too', async () => {
    const { server } = await start();
    const localhost = `Host: localhost:${server.port}`;
    expect((await get(server.port, '/assets/app.js', [localhost])).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(server.port, '/assets/style.css', [localhost])).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(server.port, '/assets/logo.svg?v=1', [localhost])).headers['content-type']).toBe('image/svg+xml');
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const { server, host } = await start();
    const head = await rawHttp(server.port, `HEAD /assets/app.js HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`);
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const post = await rawHttp(server.port, `POST / HTTP/1.1\r\n${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    expect(post.status).toBe(405);
  });

  it.each([
    '/../secret.txt',
    '/../../../../etc/passwd',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..\\secret.txt',
    '/assets\\..\\..\\secret.txt',
    '/%5c..%5csecret.txt',
    '/%00',
    '/index.html%00.js',
    '/../ui-evil.txt',
    '//etc/passwd',
    '/link-out.txt',
    '/.env',
    '/assets/',
    '/%',
    'http://127.0.0.1/../secret.txt',
  ])('does not leave the static folder for %s', async (target) => {
    const { server, host } = await start();
    const response = await get(server.port, target, [host]);
    expect([400, 404]).toContain(response.status);
    expect(response.raw).not.toContain(CANARY);
    expect(response.raw).not.toContain('root:');
  });

  it('answers 404 for every file when the renderer is not built', async () => {
    const fake = fakeCore();
    const server = await startHeadlessServer({ core: fake.core, staticDir: `${folder.root}/missing`, log: recordingLogger() });
    open.push({ server, clients: [] });
    const response = await get(server.port, '/', [`Host: 127.0.0.1:${server.port}`]);
    expect(response.status).toBe(404);
    expect(response.body).toBe('');
  });
});

describe('headless server - Host checks (DNS rebinding)', () => {
  it.each([
    ['a wrong host', () => ['Host: example.com']],
    ['a rebinding host', (port: number) => [`Host: evil.example:${port}`]],
    ['another port', (port: number) => [`Host: 127.0.0.1:${port + 1}`]],
    ['no port', () => ['Host: 127.0.0.1']],
    ['a repeated host', (port: number) => [`Host: 127.0.0.1:${port}`, 'Host: evil.example']],
    ['no host', () => []],
  ])('refuses %s with a bare 403', async (_name, headers) => {
    const { server } = await start();
    expectBareForbidden(await get(server.port, '/', headers(server.port)));
  });

  it('refuses HTTP/1.0 without a Host', async () => {
    const { server } = await start();
    expectBareForbidden(await rawHttp(server.port, 'GET / HTTP/1.0\r\n\r\n'));
  });
});

describe('headless server - WebSocket handshake', () => {
  const same = (s: HeadlessServer): string => `http://127.0.0.1:${s.port}`;
  it.each<[string, (s: HeadlessServer) => { target: string; origin?: string }]>([
    ['no token', (s) => ({ target: '/api', origin: same(s) })],
    ['an empty token', (s) => ({ target: '/api?token=', origin: same(s) })],
    ['a wrong token', (s) => ({ target: `/api?token=${'A'.repeat(43)}`, origin: same(s) })],
    ['a token prefix', (s) => ({ target: `/api?token=${s.token.slice(0, 42)}`, origin: same(s) })],
    ['a wrong path', (s) => ({ target: `/?token=${s.token}`, origin: same(s) })],
    ['an extra parameter', (s) => ({ target: `/api?token=${s.token}&x=1`, origin: same(s) })],
    ['a repeated token', (s) => ({ target: `/api?token=${s.token}&token=${s.token}`, origin: same(s) })],
    ['a foreign origin', (s) => ({ target: `/api?token=${s.token}`, origin: 'https://evil.example' })],
    ['a rebinding origin', (s) => ({ target: `/api?token=${s.token}`, origin: `http://evil.example:${s.port}` })],
    ['an origin for the other host name', (s) => ({ target: `/api?token=${s.token}`, origin: `http://localhost:${s.port}` })],
    ['a null origin', (s) => ({ target: `/api?token=${s.token}`, origin: 'null' })],
    ['no origin', (s) => ({ target: `/api?token=${s.token}` })],
  ])('refuses an upgrade with %s', async (_name, make) => {
    const { server, fake } = await start();
    const { target, origin } = make(server);
    const headers = [`Host: 127.0.0.1:${server.port}`, ...(origin === undefined ? [] : [`Origin: ${origin}`])];
    expectBareForbidden(await upgrade(server.port, target, headers));
    expect(fake.calls).toEqual([]);
  });

  it.each([
    ['a rebinding host', (port: number) => `evil.example:${port}`],
    ['no host', () => undefined],
  ])('refuses an upgrade with the right token but %s', async (_name, host) => {
    const { server } = await start();
    const value = host(server.port);
    const headers = [...(value === undefined ? [] : [`Host: ${value}`]), `Origin: http://${value ?? '127.0.0.1'}`];
    expectBareForbidden(await upgrade(server.port, `/api?token=${server.token}`, headers));
  });

  it('accepts the right Host, Origin and token, as 127.0.0.1 or localhost', async () => {
    const { server, origin } = await start();
    const ok = await upgrade(server.port, `/api?token=${encodeURIComponent(server.token)}`, [`Host: 127.0.0.1:${server.port}`, origin]);
    expect(ok.status).toBe(101);
    const local = await upgrade(server.port, `/api?token=${server.token}`, [`Host: localhost:${server.port}`, `Origin: http://localhost:${server.port}`]);
    expect(local.status).toBe(101);
  });

  it('refuses connections past the limit and accepts again when one leaves', async () => {
    const { server, connect, log } = await start({ maxConnections: 2 });
    const first = await connect();
    await connect();
    await expect(connect()).rejects.toThrow('HTTP 503');
    first.close();
    await log.waitFor((line) => line.message === 'headless: ui disconnected');
    await expect(connect()).resolves.toBeInstanceOf(ApiClient);
    expect(server.port).toBeGreaterThan(0);
  });
});

describe('headless server - API frames', () => {
  it('dispatches a command and answers with its result', async () => {
    const { connect, fake } = await start();
    const client = await connect();
    expect(await client.request('identity.status')).toEqual({ type: 'response', id: 1, result: { ok: true, value: STATUS } });
    expect(fake.calls).toEqual([{ command: 'identity.status', args: {} }]);
  });

  it('passes typed failures through and hides internal errors', async () => {
    const fake = fakeCore({
      'contacts.list': async () => {
        throw new Error('disk full at /home/alice/.parley');
      },
    });
    const { connect, log } = await start({}, fake);
    const client = await connect();
    const notFound = await client.request('contacts.safetyNumber', { contactId: CONTACT_ID });
    expect(notFound.result).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'not found' } });
    const internal = await client.request('contacts.list');
    expect(internal.result).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(internal)).not.toContain('alice');
    expect(JSON.stringify(log.lines)).not.toContain('alice');
    expect(log.lines).toContainEqual({ level: 'error', message: 'headless: command failed', fields: { command: 'contacts.list' } });
  });

  it('answers UNKNOWN_COMMAND for a command outside the contract', async () => {
    const { connect, fake } = await start();
    const client = await connect();
    for (const command of ['nope', 'constructor', '__proto__', 'toString', 'identity.status ']) {
      expect((await client.request(command)).result).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
    }
    expect(fake.calls).toEqual([]);
  });

  it('answers INVALID_ARGUMENT for wrong types, huge strings and __proto__ keys without calling the core', async () => {
    const { connect, fake } = await start();
    const client = await connect();
    const invalid = { ok: false, error: { code: 'INVALID_ARGUMENT' } };
    expect((await client.request('contacts.setVerified', { contactId: 5, verified: 'yes' })).result).toMatchObject(invalid);
    expect((await client.request('contacts.setVerified', [CONTACT_ID, true])).result).toMatchObject(invalid);
    expect((await client.request('contacts.list', 'x')).result).toMatchObject(invalid);
    expect((await client.request('messages.send', { conversationId: CONTACT_ID, body: 'x'.repeat(200_000) })).result).toMatchObject(invalid);
    expect((await client.request('identity.setDisplayName', { displayName: 'n'.repeat(100_000) })).result).toMatchObject(invalid);
    const proto = `{"type":"request","id":90,"command":"contacts.setVerified","args":{"contactId":"${CONTACT_ID}","verified":true,"__proto__":{"polluted":true}}}`;
    expect((await client.sendRaw(proto, 90)).result).toMatchObject(invalid);
    const ctor = `{"type":"request","id":91,"command":"contacts.list","args":{"constructor":{"prototype":{"polluted":true}}}}`;
    expect((await client.sendRaw(ctor, 91)).result).toMatchObject(invalid);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(fake.calls).toEqual([]);
  });

  it('answers a malformed frame with a recoverable id, and closes with 1008 after repeated garbage', async () => {
    const { connect, fake } = await start({ maxBadFrames: 3 });
    const client = await connect();
    const bad = await client.sendRaw('{"type":"request","id":7,"command":"identity.status","extra":1}', 7);
    expect(bad).toEqual({ type: 'response', id: 7, result: { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'malformed request frame' } } });
    expect((await client.sendRaw('{"id":8,"type":"reply"}', 8)).result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    client.ws.send('not json {');
    client.ws.send('{"id":-1}');
    expect(await client.closed).toEqual({ code: 1008, reason: 'too many malformed frames' });
    expect(fake.calls).toEqual([]);
  });

  it('survives garbage, binary and deeply nested frames while other clients keep working', async () => {
    const { connect } = await start({ maxBadFrames: 1_000 });
    const bystander = await connect();
    const attacker = await connect();
    for (const garbage of ['', 'null', '[]', '"request"', '1e999', '{"__proto__":{"id":1}}', '{"id":1e400}', '\u0000\uffff', '{'.repeat(10_000)]) {
      attacker.ws.send(garbage);
    }
    attacker.ws.send(Buffer.from([0xff, 0x00, 0x01]), { binary: true });
    attacker.ws.send(`{"type":"request","id":5,"command":"contacts.list","args":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect((await attacker.request('identity.status')).result.ok).toBe(true);
    expect((await bystander.request('identity.status')).result.ok).toBe(true);
  });

  it('closes a socket that sends an oversize frame with 1009 while other clients keep working', async () => {
    const { connect } = await start();
    const bystander = await connect();
    const attacker = await connect();
    attacker.ws.send('x'.repeat(MAX_WS_FRAME_BYTES + 1));
    expect((await attacker.closed).code).toBe(1009);
    expect((await bystander.request('identity.status')).result.ok).toBe(true);
    const again = await connect();
    expect((await again.request('identity.status')).result.ok).toBe(true);
  });

  it('accepts a frame of exactly the maximum size', async () => {
    const { connect } = await start();
    const client = await connect();
    const prefix = '{"type":"request","id":1,"command":"contacts.list","args":{"pad":"';
    const frame = `${prefix}${'p'.repeat(MAX_WS_FRAME_BYTES - prefix.length - 3)}"}}`;
    expect(Buffer.byteLength(frame)).toBe(MAX_WS_FRAME_BYTES);
    expect((await client.sendRaw(frame, 1)).result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('answers RATE_LIMITED past the token bucket without calling the core', async () => {
    const { connect, fake } = await start({ rateLimitBurst: 3, rateLimitPerSecond: 0.001 });
    const client = await connect();
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => client.request('identity.status')));
    expect(results.map((r) => (r.result.ok ? 'ok' : r.result.error.code))).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(fake.calls).toHaveLength(3);
  });

  it('answers RATE_LIMITED past the in-flight bound', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fake = fakeCore({ 'network.status': async () => gate.then(() => ({ listening: [] })) });
    const { connect } = await start({ maxInFlight: 2 }, fake);
    const client = await connect();
    const slow = [client.request('network.status'), client.request('network.status')];
    expect((await client.request('network.status')).result).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    release();
    for (const response of await Promise.all(slow)) expect(response.result.ok).toBe(true);
  });
});

describe('headless server - events, backpressure, lifecycle', () => {
  it('forwards core events to every client', async () => {
    const { connect, fake } = await start();
    const a = await connect();
    const b = await connect();
    const payload = { contactId: CONTACT_ID, online: true };
    const [eventA, eventB] = [a.nextEvent(), b.nextEvent()];
    fake.events.emit('presence.changed', payload);
    expect(await eventA).toEqual({ type: 'event', event: 'presence.changed', payload });
    expect(await eventB).toEqual({ type: 'event', event: 'presence.changed', payload });
  });

  it('drops a client that stops reading, and keeps serving the others', async () => {
    const { connect, fake, log } = await start({ maxBufferedBytes: 256 * 1024 });
    const reader = await connect();
    const stalled = await connect();
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const dropped = log.waitFor((line) => line.message === 'headless: ui disconnected');
    let emitted = 0;
    let done = false;
    void dropped.then(() => (done = true));
    const payload = { peers: [], pad: 'x'.repeat(1024 * 1024) } as never;
    // 1 MiB per event: far past the bound after a few, bounded in memory if the drop never comes.
    while (!done && emitted < 100) {
      fake.events.emit('nearby.changed', payload);
      emitted += 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(done).toBe(true);
    expect(emitted).toBeLessThan(100);
    expect((await reader.request('identity.status')).result.ok).toBe(true);
  });

  it('terminates a client that does not answer pings', async () => {
    const { connect } = await start({ heartbeatIntervalMs: 50 });
    const silent = await connect({ autoPong: false });
    const alive = await connect();
    expect((await silent.closed).code).toBe(1006);
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
  });

  it('closes clients with 1001 and stops listening on close()', async () => {
    const { server, connect, fake } = await start();
    const client = await connect();
    await server.close();
    expect((await client.closed).code).toBe(1001);
    await expect(get(server.port, '/', [`Host: 127.0.0.1:${server.port}`])).rejects.toThrow(/ECONNREFUSED/);
    fake.events.emit('network.status', { listening: [] } as never);
    await server.close(); // idempotent
  });
});
