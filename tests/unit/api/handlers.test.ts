// API handlers over a real store: typed calls, request validation, binary voxels, events.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../../src-main/api/contract';
import { ApiRequestError, apiErrorOf } from '../../../src-main/api/errors';
import { createApiHandlers } from '../../../src-main/api/handlers';
import { writeNifti } from '../../../src-main/imaging/nifti';
import { ProjectStore } from '../../../src-main/store/project';
import { huPattern, makeVolume, tempDir } from '../helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function setup() {
  const t = tempDir('api');
  const store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'kidney' });
  cleanups.push(() => {
    store.close();
    t.cleanup();
  });
  return { store, api: createApiHandlers({ store }), dir: t.dir };
}

describe('API handlers', () => {
  it('answers project.info, cases.list and cases.open from the store', async () => {
    const { store, api } = setup();
    const image = makeVolume([5, 4, 3], huPattern);
    const c = await store.addCase(image, { name: 'one' });
    expect((await api.call('project.info', {})).caseCount).toBe(1);
    expect((await api.call('cases.list', {})).map((x) => x.name)).toEqual(['one']);
    const header = await api.call('cases.open', { caseId: c.id });
    expect(header).toMatchObject({
      caseId: c.id,
      dims: [5, 4, 3],
      dataType: 'int16',
      originMm: image.originMm,
      direction: image.direction,
    });
  });

  it('returns the voxels as little-endian int16 bytes, i fastest', async () => {
    const { store, api } = setup();
    const dims: [number, number, number] = [5, 4, 3];
    const c = await store.addCase(makeVolume(dims, huPattern));
    const bytes = await api.binary('cases.volumeData', { caseId: c.id });
    expect(bytes.byteLength).toBe(5 * 4 * 3 * 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Independent decode: DataView with explicit little-endian reads, against the formula.
    for (const [i, j, k] of [
      [0, 0, 0],
      [4, 0, 0],
      [0, 3, 0],
      [2, 1, 2],
      [4, 3, 2],
    ]) {
      expect(view.getInt16(2 * (i + 5 * (j + 4 * k)), true)).toBe(huPattern(i, j, k));
    }
  });

  it('imports files, emitting progress, done and cases.changed events', async () => {
    const { api, dir } = setup();
    const events: ApiEvent[] = [];
    const off = api.onEvent((e) => events.push(e));
    const file = join(dir, 'scan.nii.gz');
    await writeNifti(file, makeVolume([4, 4, 2], huPattern));
    const result = await api.call('cases.import', { paths: [file] });
    off();
    expect(result.imported).toHaveLength(1);
    expect(events.map((e) => e.name)).toEqual(['job.progress', 'job.progress', 'job.done', 'cases.changed']);
    expect(events.at(-1)).toEqual({ name: 'cases.changed', payload: { caseIds: [result.imported[0].id] } });
    await api.call('cases.list', {});
    expect(events).toHaveLength(4);
  });

  it('stages uploaded files under incoming/<batch>/, refusing folder names and bad batch ids', async () => {
    const { api, store } = setup();
    const bytes = new Uint8Array([1, 2, 3]);
    const req = { batchId: 'batch-0001', fileName: 'IM0001.dcm', size: 3 };
    expect(api.uploadSize('cases.uploadFile', req)).toBe(3);
    const res = await api.upload('cases.uploadFile', req, bytes);
    expect(res).toEqual({
      dir: join(store.dir, 'incoming', 'batch-0001'),
      path: join(store.dir, 'incoming', 'batch-0001', 'IM0001.dcm'),
    });
    expect(Array.from(readFileSync(res.path))).toEqual([1, 2, 3]);
    for (const fileName of ['../escape.nii', 'a/b.dcm', '..', 'back\\slash']) {
      await expect(api.upload('cases.uploadFile', { ...req, fileName }, bytes)).rejects.toThrow(
        /'fileName' must be a plain file name/,
      );
    }
    await expect(api.upload('cases.uploadFile', { ...req, batchId: '../x' }, bytes)).rejects.toThrow(/'batchId'/);
  });

  it('refuses malformed requests and unknown methods with 400/404', async () => {
    const { api } = setup();
    const statusOf = async (p: Promise<unknown>) => {
      try {
        await p;
        return 0;
      } catch (err) {
        return apiErrorOf(err).status;
      }
    };
    expect(await statusOf(api.call('cases.open', { caseId: 42 }))).toBe(400);
    expect(await statusOf(api.call('cases.open', [] as never))).toBe(400);
    expect(await statusOf(api.call('cases.import', { paths: [] }))).toBe(400);
    expect(await statusOf(api.call('cases.import', { paths: ['a', 3] }))).toBe(400);
    expect(await statusOf(api.call('cases.open', { caseId: 'missing' }))).toBe(404);
    expect(await statusOf(api.binary('cases.volumeData', { caseId: '../x' }))).toBe(404);
    expect(await statusOf(api.call('fs.readFile' as never, {}))).toBe(404);
    await expect(api.call('cases.open', {} as never)).rejects.toThrow(ApiRequestError);
  });

  it('keeps delivering events when one listener throws', async () => {
    const { api } = setup();
    const seen: string[] = [];
    api.onEvent(() => {
      throw new Error('closed window');
    });
    api.onEvent((e) => seen.push(e.name));
    api.emit({ name: 'cases.changed', payload: { caseIds: [] } });
    expect(seen).toEqual(['cases.changed']);
  });
});

describe('label versions and status through the API', () => {
  it('lists label versions, returns their uint8 voxels, and refuses bad versions', async () => {
    const { store, api } = setup();
    const c = await store.addCase(makeVolume([5, 4, 3], huPattern));
    const label = makeVolume([5, 4, 3], (i, j, k) => (i + j + k) % 4, { type: 'uint8' });
    await store.addLabelVersion(c.id, label, { kind: 'reference' });
    expect(await api.call('cases.labelVersions', { caseId: c.id })).toEqual([
      expect.objectContaining({ caseId: c.id, version: 1, kind: 'reference' }),
    ]);
    const bytes = await api.binary('cases.labelData', { caseId: c.id, version: 1 });
    expect(bytes.byteLength).toBe(60);
    expect(bytes[1 + 5 * (2 + 4 * 1)]).toBe((1 + 2 + 1) % 4);
    await expect(api.binary('cases.labelData', { caseId: c.id, version: 2 })).rejects.toThrow(/no label version 2/);
    await expect(api.binary('cases.labelData', { caseId: c.id, version: 0 })).rejects.toThrow(ApiRequestError);
  });

  it('sets a case status and announces the change', async () => {
    const { store, api } = setup();
    const c = await store.addCase(makeVolume([3, 3, 3], huPattern));
    const events: ApiEvent[] = [];
    api.onEvent((e) => events.push(e));
    expect((await api.call('cases.setStatus', { caseId: c.id, status: 'submitted' })).status).toBe('submitted');
    expect((await api.call('cases.list', {}))[0].status).toBe('submitted');
    expect(events).toEqual([{ name: 'cases.changed', payload: { caseIds: [c.id] } }]);
    await expect(api.call('cases.setStatus', { caseId: c.id, status: 'done' as never })).rejects.toThrow(
      /'status' must be one of/,
    );
  });
});
