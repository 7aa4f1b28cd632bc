// Web shell: token and origin refusal, loopback only, static files without traversal, binary and SSE.
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandlers } from '../../../src-main/api/handlers';
import type { ApiHandlers } from '../../../src-main/api/handlers';
import { ProjectStore } from '../../../src-main/store/project';
import { startWebServer } from '../../../src-main/web/server';
import type { WebServer } from '../../../src-main/web/server';
import { huPattern, makeVolume, tempDir } from '../helpers';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function send(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const SECRET = 'this-file-is-outside-the-renderer';
let t: ReturnType<typeof tempDir>;
let store: ProjectStore;
let handlers: ApiHandlers;
let server: WebServer;
let caseId: string;
const dims: [number, number, number] = [6, 5, 4];

beforeAll(async () => {
  t = tempDir('web');
  const rendererDir = join(t.dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(rendererDir, 'assets', 'main.js'), 'console.log(1)');
  writeFileSync(join(t.dir, 'secret.txt'), SECRET);
  store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'kidney' });
  caseId = (await store.addCase(makeVolume(dims, huPattern))).id;
  handlers = createApiHandlers({ store });
  server = await startWebServer({ handlers, rendererDir, port: 0 });
});

afterAll(async () => {
  await server?.close();
  store?.close();
  t?.cleanup();
});

const api = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  send(server.port, `/api/${method}`, {
    method: 'POST',
    headers: { 'x-deformux-token': server.token, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('web shell server', () => {
  it('prints a loopback URL with a URL-safe token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32,}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });

  it('refuses requests without the token or with a wrong one', async () => {
    expect((await send(server.port, '/')).status).toBe(401);
    expect((await send(server.port, '/assets/main.js')).status).toBe(401);
    expect((await send(server.port, '/api/cases.list', { method: 'POST' })).status).toBe(401);
    expect((await send(server.port, '/?token=wrong')).status).toBe(401);
    expect((await api('cases.list', {}, { 'x-deformux-token': server.token.slice(0, -1) + 'x' })).status).toBe(401);
    expect((await send(server.port, '/api/events')).status).toBe(401);
  });

  it('refuses foreign origins and foreign Host names even with the token', async () => {
    expect((await api('cases.list', {}, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await api('cases.list', {}, { origin: 'null' })).status).toBe(403);
    expect((await api('cases.list', {}, { origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
    expect((await api('cases.list', {}, { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await api('cases.list', {}, { origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
  });

  it('accepts the token as query, header, or the cookie set when the page opens', async () => {
    const page = await send(server.port, `/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect(cookie).toBe(`deformux_token_${server.port}=${server.token}`);
    const asset = await send(server.port, '/assets/main.js', { headers: { cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.body.toString()).toBe('console.log(1)');
    expect(
      (await send(server.port, '/assets/main.js', { headers: { cookie: `deformux_token_1=${server.token}` } })).status,
    ).toBe(401);
  });

  it('never serves files outside the renderer folder', async () => {
    const q = `token=${server.token}`;
    for (const path of [
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/%00.js',
      '/%E0%A4%A',
    ]) {
      const reply = await send(server.port, `${path}?${q}`);
      expect(reply.body.toString(), path).not.toContain(SECRET);
      expect([400, 403, 404], path).toContain(reply.status);
    }
  });

  it('serves volume voxels as application/octet-stream little-endian int16', async () => {
    const header = JSON.parse((await api('cases.open', { caseId })).body.toString());
    expect(header).toMatchObject({ dims, dataType: 'int16' });
    const reply = await api('cases.volumeData', { caseId });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/octet-stream');
    expect(reply.body.length).toBe(dims[0] * dims[1] * dims[2] * 2);
    const [i, j, k] = [5, 3, 2];
    expect(reply.body.readInt16LE(2 * (i + dims[0] * (j + dims[1] * k)))).toBe(huPattern(i, j, k));
  });

  it('answers bad API requests with a JSON error and status', async () => {
    const missing = await api('cases.open', { caseId: 'nope' });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString()).error).toMatch(/no case with id 'nope'/);
    expect((await api('cases.open', { caseId: 1 })).status).toBe(400);
    expect((await api('no.such', {})).status).toBe(404);
    const notJson = await send(server.port, '/api/cases.list', {
      method: 'POST',
      headers: { 'x-deformux-token': server.token },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    expect((await send(server.port, `/api/cases.list?token=${server.token}`)).status).toBe(405);
  });

  it('streams events over SSE', async () => {
    const frame = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path: `/api/events?token=${server.token}` },
        (res) => {
          expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
            if (text.includes(': connected')) handlers.emit({ name: 'cases.changed', payload: { caseIds: ['x'] } });
            const data = text.split('\n').find((l) => l.startsWith('data: '));
            if (data) {
              req.destroy();
              resolve(data);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(JSON.parse(frame.slice(6))).toEqual({ name: 'cases.changed', payload: { caseIds: ['x'] } });
  });
});

describe('web shell without a built renderer', () => {
  it('serves a placeholder page that says how to build', async () => {
    const other = await startWebServer({ handlers, rendererDir: join(t.dir, 'not-built'), port: 0 });
    try {
      const page = await send(other.port, `/?token=${other.token}`);
      expect(page.status).toBe(200);
      expect(page.body.toString()).toContain('npm run build');
      expect((await send(other.port, `/assets/x.js?token=${other.token}`)).status).toBe(404);
    } finally {
      await other.close();
    }
  });
});
