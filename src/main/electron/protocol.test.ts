import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const registered = vi.hoisted(() => ({ schemes: [] as unknown[] }));
vi.mock('electron', () => ({
  protocol: { registerSchemesAsPrivileged: (schemes: unknown[]) => registered.schemes.push(...schemes) },
}));

const { APP_SCHEME_REGISTRATION, createAppRequestHandler, registerAppScheme, resolveAppPath, serveAppScheme } =
  await import('./protocol');
const { CONTENT_SECURITY_POLICY } = await import('./csp');

const SECRET = 'top secret: outside the renderer folder';
let base: string;
let rendererDir: string;
let handle: (request: Request) => Promise<Response>;

function get(url: string, method = 'GET') {
  return handle(new Request(url, { method }));
}

describe('app:// protocol', () => {
  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'parley-protocol-')));
    rendererDir = path.join(base, 'renderer');
    await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
    await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Parley</title>');
    await writeFile(path.join(rendererDir, 'assets', 'index-abc.js'), 'console.log(1)');
    await writeFile(path.join(rendererDir, 'assets', 'index-abc.css'), 'body{}');
    await writeFile(path.join(rendererDir, 'assets', 'index-abc.js.map'), '{}');
    await writeFile(path.join(rendererDir, '.env'), 'SECRET=1');
    await writeFile(path.join(base, 'passwd'), SECRET);
    await writeFile(path.join(base, 'renderer-evil.html'), SECRET);
    await symlink(path.join(base, 'passwd'), path.join(rendererDir, 'assets', 'link.js'));
    handle = createAppRequestHandler(rendererDir);
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('protocol - serves index.html at / and assets with their types and the CSP header', async () => {
    for (const url of ['app://parley/', 'app://parley/index.html']) {
      const response = await get(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(await response.text()).toContain('<title>Parley</title>');
    }
    const script = await get('app://parley/assets/index-abc.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await script.text()).toBe('console.log(1)');
    expect((await get('app://parley/assets/index-abc.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('protocol - refuses path traversal in every spelling', async () => {
    for (const url of [
      'app://x/../../etc/passwd',
      'app://parley/../passwd',
      'app://parley/../../../../etc/passwd',
      'app://parley/%2e%2e/passwd',
      'app://parley/%2E%2E/%2E%2E/etc/passwd',
      'app://parley/..%2fpasswd',
      'app://parley/..%2Fpasswd',
      'app://parley/assets/..%2f..%2fpasswd',
      'app://parley/%2e%2e%2fpasswd',
      'app://parley/..%5cpasswd',
      'app://parley/assets\\..\\..\\passwd',
      'app://parley/%252e%252e/passwd',
      'app://parley/.%2e/passwd',
      'app://parley//etc/passwd',
      `app://parley/${encodeURIComponent(path.join(base, 'passwd'))}`,
      'app://parley/index.html%00.js',
      'app://parley/%c0%ae%c0%ae/passwd',
      'app://parley/../renderer-evil.html',
    ]) {
      const response = await get(url);
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).toBe('');
    }
  });

  it('protocol - the path resolver never returns a path outside the folder', () => {
    for (const url of ['app://parley/..%2fpasswd', 'app://parley/..%5cpasswd', 'app://x/../../etc/passwd', 'app://parley/%252e%252e/x']) {
      expect(resolveAppPath(rendererDir, url), url).toBeUndefined();
    }
    // The URL parser clamps literal dot segments at the root: what is left stays inside.
    for (const url of ['app://parley/../passwd', 'app://parley/%2e%2e/passwd', 'app://parley/.%2e/x', 'app://parley/a/../../../../passwd']) {
      const resolved = resolveAppPath(rendererDir, url);
      expect(resolved === undefined || resolved.startsWith(rendererDir + path.sep), url).toBe(true);
    }
    expect(resolveAppPath(rendererDir, 'app://parley/assets/index-abc.js')).toBe(path.join(rendererDir, 'assets', 'index-abc.js'));
  });

  it('protocol - a symlink inside the folder that leads out of it is refused', async () => {
    expect((await get('app://parley/assets/link.js')).status).toBe(404);
  });

  it('protocol - unknown files, dotfiles, source maps and directories are 404', async () => {
    for (const url of [
      'app://parley/missing.js',
      'app://parley/.env',
      'app://parley/assets/index-abc.js.map',
      'app://parley/assets',
      'app://parley/assets/',
    ]) {
      const response = await get(url);
      expect(response.status, url).toBe(404);
      expect(response.headers.get('content-security-policy'), url).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  it('protocol - only the parley host, without port or credentials, is served', async () => {
    for (const url of ['app://evil/index.html', 'app://parley:8080/index.html', 'app://PARLEY.evil/index.html']) {
      expect((await get(url)).status, url).toBe(404);
    }
    // (A Request cannot even carry credentials; the resolver refuses them anyway.)
    expect(resolveAppPath(rendererDir, 'app://user:pw@parley/index.html')).toBeUndefined();
  });

  it('protocol - only GET and HEAD; HEAD has no body', async () => {
    expect((await get('app://parley/index.html', 'POST')).status).toBe(405);
    expect((await get('app://parley/index.html', 'PUT')).status).toBe(405);
    const head = await get('app://parley/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('protocol - a renderer folder that does not exist serves nothing', async () => {
    const missing = createAppRequestHandler(path.join(base, 'not-built'));
    expect((await missing(new Request('app://parley/index.html'))).status).toBe(404);
  });

  it('protocol - the scheme is standard and secure, without CORS, CSP bypass or service workers', () => {
    registerAppScheme();
    expect(registered.schemes).toEqual([APP_SCHEME_REGISTRATION]);
    const privileges: Record<string, unknown> = APP_SCHEME_REGISTRATION.privileges;
    expect(APP_SCHEME_REGISTRATION.scheme).toBe('app');
    expect(privileges.standard).toBe(true);
    expect(privileges.secure).toBe(true);
    for (const flag of ['bypassCSP', 'corsEnabled', 'allowServiceWorkers', 'supportFetchAPI', 'allowExtensions']) {
      expect(privileges[flag], flag).toBeUndefined();
    }
  });

  it('protocol - serveAppScheme registers the handler for the app scheme on the given session', () => {
    const handleFn = vi.fn();
    serveAppScheme({ handle: handleFn }, rendererDir);
    expect(handleFn).toHaveBeenCalledWith('app', expect.any(Function));
  });
});
