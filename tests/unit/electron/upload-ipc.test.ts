// The Electron transport of uploads: the preload's upload verb, the envelope, and main's byte handling.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { IPC_UPLOAD_CHANNEL } from '../../../src-main/api/contract';
import { apiErrorOf } from '../../../src-main/api/errors';
import { createApiHandlers } from '../../../src-main/api/handlers';
import { ipcBytes } from '../../../src-main/electron/ipc-envelope';
import type { IpcResult } from '../../../src-main/electron/ipc-envelope';
import { createPreloadApi } from '../../../src-main/electron/preload-api';
import type { PreloadIpc } from '../../../src-main/electron/preload-api';
import { ProjectStore } from '../../../src-main/store/project';
import { huPattern, makeVolume, tempDir } from '../helpers';

function fakeIpc(reply: (channel: string, args: unknown[]) => Promise<unknown>) {
  const calls: [string, unknown[]][] = [];
  const ipc: PreloadIpc = {
    invoke: async (channel, ...args) => {
      calls.push([channel, args]);
      return reply(channel, args);
    },
    on: () => undefined,
    removeListener: () => undefined,
  };
  return { ipc, calls };
}

const req = { caseId: 'c1', parentVersion: null, submit: false, activeEditSeconds: 0 };

describe('IPC uploads', () => {
  it('sends method, request and the ArrayBuffer on the upload channel and unwraps the answer', async () => {
    const { ipc, calls } = fakeIpc(async () => ({ ok: true, value: { version: 4 } }));
    const data = new Uint8Array([1, 2, 3]).buffer;
    expect(await createPreloadApi(ipc).upload('cases.saveLabel', req, data)).toEqual({ version: 4 });
    expect(calls).toEqual([[IPC_UPLOAD_CHANNEL, ['cases.saveLabel', req, data]]]);
  });

  it('refuses unknown methods and non-buffers without touching IPC, and surfaces error sentences', async () => {
    const { ipc, calls } = fakeIpc(async () => ({ ok: false, status: 400, error: 'wrong size' }));
    const api = createPreloadApi(ipc);
    await expect(api.upload('fs.write' as never, req as never, new ArrayBuffer(1))).rejects.toThrow(
      /unknown upload API call/,
    );
    await expect(api.upload('cases.saveLabel', req, 'bytes' as never)).rejects.toThrow(/must be an ArrayBuffer/);
    expect(calls).toHaveLength(0);
    await expect(api.upload('cases.saveLabel', req, new ArrayBuffer(1))).rejects.toThrow('wrong size');
  });

  it('main reads ArrayBuffers and typed-array views exactly, and nothing else', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    expect(Array.from(ipcBytes(backing.buffer)!)).toEqual([9, 1, 2, 3, 9]);
    expect(Array.from(ipcBytes(backing.subarray(1, 4))!)).toEqual([1, 2, 3]);
    expect(Array.from(ipcBytes(Buffer.from([4, 5]))!)).toEqual([4, 5]);
    expect(ipcBytes('abc')).toBeNull();
    expect(ipcBytes({ length: 3 })).toBeNull();
  });

  it('round-trips through real handlers the way main wires them (structured clone in between)', async () => {
    const t = tempDir('ipc-upload');
    const store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'kidney' });
    try {
      const c = await store.addCase(makeVolume([4, 3, 2], huPattern));
      const handlers = createApiHandlers({ store });
      // As main.ts: ipcBytes on the cloned data, handlers.upload, errors into the envelope.
      const { ipc } = fakeIpc(async (_channel, [method, request, data]) => {
        const cloned = structuredClone(data);
        try {
          return { ok: true, value: await handlers.upload(method as 'cases.saveLabel', request, ipcBytes(cloned)!) };
        } catch (err) {
          const { status, message } = apiErrorOf(err);
          return { ok: false, status, error: message } satisfies IpcResult<never>;
        }
      });
      const api = createPreloadApi(ipc);
      const label = Uint8Array.from({ length: 24 }, (_, n) => n % 4);
      const saved = await api.upload('cases.saveLabel', { ...req, caseId: c.id, submit: true }, label.buffer);
      expect(saved).toMatchObject({ version: 1, submitted: true });
      expect(store.getCase(c.id).status).toBe('submitted');
      expect(Array.from((await store.loadLabel(c.id, 1)).data)).toEqual(Array.from(label));
      await expect(api.upload('cases.saveLabel', { ...req, caseId: c.id }, new ArrayBuffer(5))).rejects.toThrow(
        /24 voxels, but 5 bytes/,
      );
    } finally {
      store.close();
      t.cleanup();
    }
  });
});
