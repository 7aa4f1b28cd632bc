// The renderer's HTTP API client against the real web server (fake handlers): the token travels on
// every call, binary payloads arrive intact, and server errors surface as readable messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpApi } from '../../../src-renderer/lib/api/httpApi';
import { startWebServer, type WebServer } from '../../../src-main/web/server';
import type { ApiHandlers } from '../../../src-main/api/handlers';
import { ApiRequestError } from '../../../src-main/api/errors';
import type { ApiEvent } from '../../../src-main/api/contract';

const voxels = Int16Array.from({ length: 4 * 3 * 2 }, (_, n) => n * 37 - 400);
const seen: { method: string; req: unknown }[] = [];
const uploaded: Uint8Array[] = [];
const UPLOAD_BYTES = 4 * 3 * 2;

const handlers: ApiHandlers = {
  async call(method, req) {
    seen.push({ method, req });
    if (method === 'cases.open') {
      const caseId = (req as { caseId?: string }).caseId;
      if (caseId !== 'c1') throw new ApiRequestError(404, `no case '${caseId}' in this project.`);
      return {
        caseId: 'c1',
        dims: [4, 3, 2],
        spacingMm: [1, 1, 2],
        originMm: [0, 0, 0],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
        dataType: 'int16',
        modality: 'CT',
        description: 'test',
        synthetic: true,
      } as never;
    }
    return [] as never;
  },
  async binary(method, req) {
    seen.push({ method, req });
    return new Uint8Array(voxels.buffer);
  },
  async upload(method, req, data) {
    seen.push({ method, req });
    uploaded.push(Uint8Array.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data));
    return { caseId: 'c1', version: uploaded.length } as never;
  },
  uploadSize: () => UPLOAD_BYTES,
  onEvent: (_listener: (e: ApiEvent) => void) => () => {},
  emit() {},
};

let server: WebServer;
beforeAll(async () => {
  server = await startWebServer({ handlers, rendererDir: '/nonexistent', port: 0 });
});
afterAll(async () => {
  await server.close();
});

describe('HttpApi', () => {
  it('makes typed calls with the token', async () => {
    const api = new HttpApi(`http://127.0.0.1:${server.port}`, server.token);
    const header = await api.call('cases.open', { caseId: 'c1' });
    expect(header.dims).toEqual([4, 3, 2]);
    expect(seen.at(-1)).toEqual({ method: 'cases.open', req: { caseId: 'c1' } });
  });

  it('receives voxels as bytes, unchanged', async () => {
    const api = new HttpApi(`http://127.0.0.1:${server.port}`, server.token);
    const buf = await api.binary('cases.volumeData', { caseId: 'c1' });
    expect(Array.from(new Int16Array(buf))).toEqual(Array.from(voxels));
  });

  it('streams voxels with progress up to 1 and can be cancelled', async () => {
    const api = new HttpApi(`http://127.0.0.1:${server.port}`, server.token);
    const fractions: number[] = [];
    const buf = await api.binary('cases.volumeData', { caseId: 'c1' }, { onProgress: (f) => fractions.push(f) });
    expect(Array.from(new Int16Array(buf))).toEqual(Array.from(voxels));
    expect(fractions.length).toBeGreaterThan(0);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f, n) => f > 0 && (n === 0 || f >= fractions[n - 1]))).toBe(true);
    const abort = new AbortController();
    abort.abort();
    await expect(api.binary('cases.volumeData', { caseId: 'c1' }, { signal: abort.signal })).rejects.toThrow(/abort/i);
  });

  it("turns the server's error body into the message", async () => {
    const api = new HttpApi(`http://127.0.0.1:${server.port}`, server.token);
    await expect(api.call('cases.open', { caseId: 'nope' })).rejects.toThrow(
      "cases.open failed: no case 'nope' in this project.",
    );
  });

  it('is refused with a wrong token', async () => {
    const api = new HttpApi(`http://127.0.0.1:${server.port}`, 'wrong-token');
    await expect(api.call('cases.list', {})).rejects.toThrow(/cases\.list failed: Missing or wrong token/);
  });
});

describe('HttpApi events', () => {
  /** A stand-in for the browser's EventSource: counts the streams opened and lets the test push messages. */
  class FakeSource {
    static opened: FakeSource[] = [];
    onmessage: ((msg: { data: string }) => void) | null = null;
    closed = false;
    constructor(readonly url: string) {
      FakeSource.opened.push(this);
    }
    close(): void {
      this.closed = true;
    }
  }
  const g = globalThis as unknown as { EventSource?: unknown };

  it('every listener of the page shares one event stream (a browser holds 6 connections per host)', () => {
    const before = g.EventSource;
    g.EventSource = FakeSource;
    try {
      const api = new HttpApi(`http://127.0.0.1:${server.port}`, server.token);
      const got: string[][] = Array.from({ length: 8 }, () => []);
      const offs = got.map((list) => api.onEvent((e) => list.push(e.name)));
      expect(FakeSource.opened).toHaveLength(1);
      const event: ApiEvent = { name: 'cases.changed', payload: { caseIds: ['c1'] } };
      FakeSource.opened[0].onmessage!({ data: JSON.stringify(event) });
      FakeSource.opened[0].onmessage!({ data: 'not json' });
      expect(got.every((list) => list.join() === 'cases.changed')).toBe(true);
      // The stream stays while anyone listens, closes with the last, and a later listener opens a new one.
      offs.slice(0, 7).forEach((off) => off());
      offs[0](); // a second call of the same unsubscribe changes nothing
      expect(FakeSource.opened[0].closed).toBe(false);
      FakeSource.opened[0].onmessage!({ data: JSON.stringify(event) });
      expect(got[7]).toHaveLength(2);
      expect(got[0]).toHaveLength(1);
      offs[7]();
      expect(FakeSource.opened[0].closed).toBe(true);
      api.onEvent(() => {});
      expect(FakeSource.opened).toHaveLength(2);
      expect(FakeSource.opened[1].url).toContain(`token=${encodeURIComponent(server.token)}`);
    } finally {
      g.EventSource = before;
    }
  });
});
