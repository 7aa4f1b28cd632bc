// Web shell under hostile input: symlinks out of the renderer folder, FIFOs (static and import),
// oversized and half-sent bodies: a clear status, no hang, no stack on the console.
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiHandlers } from '../../../src-main/api/handlers';
import { ProjectStore } from '../../../src-main/store/project';
import { startWebServer } from '../../../src-main/web/server';
import type { WebServer } from '../../../src-main/web/server';
import { tempDir } from '../helpers';

interface Reply {
  status: number;
  body: Buffer;
}

/** One request; rejects after `timeoutMs` so a hang fails the test instead of stalling it. */
function send(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; timeoutMs?: number } = {},
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
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${path}: no answer within ${opts.timeoutMs ?? 5000} ms`));
    }, opts.timeoutMs ?? 5000);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw headers announcing `declared` bytes and only `sent` of them; resolves with what came back. */
function halfSend(port: number, path: string, headers: Record<string, string>, declared: number, sent: number) {
  return new Promise<{ head: string; socket: ReturnType<typeof connect> }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const lines = [`POST ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`, `content-length: ${declared}`];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      socket.write(Buffer.alloc(sent, 0x20));
    });
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no answer to a half-sent body within 5 s: '${got}'`)), 5000);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        clearTimeout(timer);
        resolve({ head: got, socket });
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const SECRET = 'this-file-is-outside-the-renderer';
let t: ReturnType<typeof tempDir>;
let store: ProjectStore;
let server: WebServer;
let fifo: string;

beforeAll(async () => {
  t = tempDir('web-hostile');
  const rendererDir = join(t.dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(rendererDir, 'assets', 'main.js'), 'console.log(1)');
  writeFileSync(join(t.dir, 'secret.txt'), SECRET);
  mkdirSync(join(t.dir, 'outside'));
  writeFileSync(join(t.dir, 'outside', 'x.js'), SECRET);
  symlinkSync(join(t.dir, 'secret.txt'), join(rendererDir, 'assets', 'leak.js'));
  symlinkSync(join(t.dir, 'outside'), join(rendererDir, 'linked'));
  symlinkSync(join(rendererDir, 'assets', 'main.js'), join(rendererDir, 'assets', 'alias.js'));
  fifo = join(t.dir, 'pipe.nii.gz');
  execFileSync('mkfifo', [fifo]);
  execFileSync('mkfifo', [join(rendererDir, 'assets', 'pipe.js')]);
  store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'kidney' });
  server = await startWebServer({ handlers: createApiHandlers({ store }), rendererDir, port: 0 });
});

afterAll(async () => {
  await server?.close();
  store?.close();
  t?.cleanup();
});

afterEach(() => vi.restoreAllMocks());

const auth = () => ({ 'x-deformux-token': server.token, 'content-type': 'application/json' });

describe('static files', () => {
  it('never follows a symlink out of the renderer folder, but serves one that stays inside', async () => {
    const leak = await send(server.port, '/assets/leak.js', { headers: auth() });
    expect(leak.status).toBe(403);
    expect(leak.body.toString()).not.toContain(SECRET);
    const dir = await send(server.port, '/linked/x.js', { headers: auth() });
    expect(dir.status).toBe(403);
    expect(dir.body.toString()).not.toContain(SECRET);
    // A folder inside is not a file: 404, as before.
    expect((await send(server.port, '/assets', { headers: auth() })).status).toBe(404);
    const alias = await send(server.port, '/assets/alias.js', { headers: auth() });
    expect(alias.status).toBe(200);
    expect(alias.body.toString()).toBe('console.log(1)');
  });

  it('refuses a FIFO in the renderer folder at once instead of hanging', async () => {
    const reply = await send(server.port, '/assets/pipe.js', { headers: auth(), timeoutMs: 3000 });
    expect(reply.status).toBe(403);
  });
});

describe('import of non-regular files', () => {
  it('refuses a FIFO by name, and the server keeps serving afterwards', async () => {
    for (let n = 0; n < 4; n++) {
      const reply = await send(server.port, '/api/cases.import', {
        method: 'POST',
        headers: auth(),
        body: JSON.stringify({ paths: [fifo] }),
        timeoutMs: 4000,
      });
      expect(reply.status).toBe(200);
      const result = JSON.parse(reply.body.toString()) as { imported: unknown[]; errors: string[] };
      expect(result.imported).toEqual([]);
      expect(result.errors[0]).toContain(fifo);
      expect(result.errors[0]).toMatch(/named pipe \(FIFO\)/);
    }
    const index = await send(server.port, '/index.html', { headers: auth(), timeoutMs: 3000 });
    expect(index.status).toBe(200);
  });

  it('refuses a symlink to a device and a /proc file', async () => {
    const dev = join(t.dir, 'zero.nii');
    symlinkSync('/dev/zero', dev);
    const proc = join(t.dir, 'status.nii');
    symlinkSync('/proc/self/status', proc);
    const reply = await send(server.port, '/api/cases.import', {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ paths: [dev, proc] }),
    });
    const result = JSON.parse(reply.body.toString()) as { imported: unknown[]; errors: string[] };
    expect(result.imported).toEqual([]);
    expect(result.errors[0]).toMatch(new RegExp(`^${dev}: .*(character device|pseudo-file)`));
    expect(result.errors[1]).toMatch(new RegExp(`^${proc}: .*pseudo-file`));
  });
});

describe('oversized and half-sent bodies', () => {
  it('answers 413 with a sentence to a JSON body over the limit, without a connection reset', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const big = Buffer.alloc(3 * 1024 * 1024, 0x20);
    const reply = await send(server.port, '/api/cases.list', { method: 'POST', headers: auth(), body: big });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body.toString()).error).toMatch(/larger than 1048576 bytes/);
    // Chunked: no length announced, the overflow is seen while reading.
    const chunked = await send(server.port, '/api/cases.list', {
      method: 'POST',
      headers: { ...auth(), 'transfer-encoding': 'chunked' },
      body: big,
    });
    expect(chunked.status).toBe(413);
    expect(errors).not.toHaveBeenCalled();
  });

  it('answers 413 at once to a 10 GB announced body and logs one line, no stack, when the client gives up', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { head, socket } = await halfSend(server.port, '/api/cases.list', auth(), 10 * 1024 ** 3, 64 * 1024);
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    socket.destroy();
    // A body under the limit abandoned half-way: the server notices the abort.
    const half = await new Promise<void>((resolve) => {
      const s = connect(server.port, '127.0.0.1', () => {
        const h = auth();
        s.write(
          `POST /api/cases.list HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\ncontent-length: 1000\r\n` +
            `x-deformux-token: ${h['x-deformux-token']}\r\ncontent-type: application/json\r\n\r\n{"a":`,
        );
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 200);
      });
    });
    expect(half).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(errors).not.toHaveBeenCalled();
    const lines = warnings.mock.calls.map((c) => c.map(String).join(' '));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) {
      expect(line).not.toMatch(/\n\s+at /);
      expect(line.split('\n')).toHaveLength(1);
    }
    // The server still answers.
    expect((await send(server.port, '/index.html', { headers: auth() })).status).toBe(200);
  });
});
