// Web shell uploads (cases.saveLabel over POST /api/upload/<method>): token required, the JSON request
// in its header, the exact byte count enforced before buffering, and the payload saved as a version.
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_REQUEST_HEADER, WEB_TOKEN_HEADER, WEB_UPLOAD_PREFIX } from '../../../src-main/api/contract';
import type { ApiEvent, SaveLabelRequest } from '../../../src-main/api/contract';
import { createApiHandlers } from '../../../src-main/api/handlers';
import { ProjectStore } from '../../../src-main/store/project';
import { startWebServer } from '../../../src-main/web/server';
import type { WebServer } from '../../../src-main/web/server';
import { HttpApi } from '../../../src-renderer/lib/api/httpApi';
import { huPattern, makeVolume, tempDir } from '../helpers';

const DIMS: [number, number, number] = [7, 6, 5];
const N = DIMS[0] * DIMS[1] * DIMS[2];
let t: ReturnType<typeof tempDir>;
let store: ProjectStore;
let server: WebServer;
let caseId: string;
const events: ApiEvent[] = [];

beforeAll(async () => {
  t = tempDir('upload');
  store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'pancreas' });
  caseId = (await store.addCase(makeVolume(DIMS, huPattern))).id;
  const handlers = createApiHandlers({ store });
  handlers.onEvent((e) => events.push(e));
  server = await startWebServer({ handlers, rendererDir: join(t.dir, 'none'), port: 0 });
});

afterAll(async () => {
  await server?.close();
  store?.close();
  t?.cleanup();
});

/** A raw POST, so the test controls every header (and can lie about content-length). */
function post(
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<{ status: number; json: { error?: string } & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: 'POST',
        headers: { host: `127.0.0.1:${server.port}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    // The server may answer and close before the whole body is sent: that is the point.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    req.end(body);
  });
}

const saveReq = (over: Partial<SaveLabelRequest> = {}): SaveLabelRequest => ({
  caseId,
  parentVersion: null,
  submit: false,
  activeEditSeconds: 3,
  ...over,
});
const headersFor = (req: unknown, extra: Record<string, string> = {}) => ({
  [WEB_TOKEN_HEADER]: server.token,
  [WEB_REQUEST_HEADER]: encodeURIComponent(JSON.stringify(req)),
  'content-type': 'application/octet-stream',
  ...extra,
});
const path = `${WEB_UPLOAD_PREFIX}cases.saveLabel`;

describe('web shell uploads', () => {
  it('saves the payload through the renderer client, and it reads back byte for byte', async () => {
    const api = new HttpApi(`http://127.0.0.1:${server.port}`, server.token);
    const label = Uint8Array.from({ length: N }, (_, n) => (n * 7) % 3);
    const saved = await api.upload('cases.saveLabel', saveReq({ activeEditSeconds: 12 }), label.slice().buffer);
    expect(saved).toMatchObject({ caseId, kind: 'edit', submitted: false, activeEditSeconds: 12, parentVersion: null });
    const back = new Uint8Array(await api.binary('cases.labelData', { caseId, version: saved.version }));
    expect(Array.from(back)).toEqual(Array.from(label));
    expect(events.some((e) => e.name === 'cases.changed' && e.payload.caseIds.includes(caseId))).toBe(true);
    // A client error surfaces as the server's sentence.
    await expect(api.upload('cases.saveLabel', saveReq(), new ArrayBuffer(N + 1))).rejects.toThrow(
      /cases\.saveLabel failed: .*exactly 210 bytes/,
    );
  });

  it('requires the token', async () => {
    const before = store.listLabelVersions(caseId).length;
    const { [WEB_TOKEN_HEADER]: _token, ...noToken } = headersFor(saveReq());
    expect((await post(path, noToken, new Uint8Array(N))).status).toBe(401);
    expect((await post(path, { ...noToken, [WEB_TOKEN_HEADER]: 'wrong' }, new Uint8Array(N))).status).toBe(401);
    expect(store.listLabelVersions(caseId).length).toBe(before);
  });

  it('refuses wrong sizes, bad classes, bad request headers and other verbs with clear messages', async () => {
    const before = store.listLabelVersions(caseId).length;
    const short = await post(path, headersFor(saveReq()), new Uint8Array(N - 10));
    expect(short.status).toBe(400);
    expect(short.json.error).toMatch(/exactly 210 bytes \(one per voxel\), but 200 were announced/);
    const long = await post(path, headersFor(saveReq()), new Uint8Array(4 * N));
    expect(long.status).toBe(413);
    // Chunked (no content-length): the overflow is caught while streaming.
    const chunked = await post(path, headersFor(saveReq(), { 'transfer-encoding': 'chunked' }), new Uint8Array(2 * N));
    expect(chunked.status).toBe(413);
    const badClass = await post(
      path,
      headersFor(saveReq()),
      Uint8Array.from({ length: N }, (_, n) => (n === 5 ? 3 : 0)),
    );
    expect(badClass.status).toBe(400);
    expect(badClass.json.error).toMatch(/voxel 5 holds class 3, which the pancreas schema does not have/);
    const noHeader = await post(path, { [WEB_TOKEN_HEADER]: server.token }, new Uint8Array(N));
    expect(noHeader.json.error).toMatch(/x-deformux-request/);
    const badJson = await post(
      path,
      { [WEB_TOKEN_HEADER]: server.token, [WEB_REQUEST_HEADER]: '%7Bnope' },
      new Uint8Array(N),
    );
    expect(badJson.status).toBe(400);
    const unknownCase = await post(path, headersFor(saveReq({ caseId: 'cnope' })), new Uint8Array(N));
    expect(unknownCase.status).toBe(404);
    expect((await post(`${WEB_UPLOAD_PREFIX}cases.rm`, headersFor(saveReq()), new Uint8Array(N))).status).toBe(404);
    expect(store.listLabelVersions(caseId).length).toBe(before);
  });
});
