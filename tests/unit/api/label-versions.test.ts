// Saving, submitting, statistics and exports of label versions through the API handlers (real store).
import { readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent, SaveLabelRequest } from '../../../src-main/api/contract';
import { createApiHandlers } from '../../../src-main/api/handlers';
import { ProjectStore } from '../../../src-main/store/project';
import { hasPythonModules, runPythonJson } from '../../export/helpers';
import { huPattern, makeVolume, tempDir } from '../helpers';

const HAS_NIBABEL = hasPythonModules('nibabel', 'numpy');
const DIMS: [number, number, number] = [6, 5, 4];
const N = DIMS[0] * DIMS[1] * DIMS[2];

interface NibInfo {
  shape: number[];
  dtype: string;
  affine: number[][];
  voxels: number[];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function setup() {
  const t = tempDir('labels');
  const store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'kidney', name: 'Label tests' });
  cleanups.push(() => {
    store.close();
    t.cleanup();
  });
  const api = createApiHandlers({ store });
  const events: ApiEvent[] = [];
  api.onEvent((e) => events.push(e));
  const c = await store.addCase(makeVolume(DIMS, huPattern), { name: 'one' });
  return { store, api, events, caseId: c.id, dir: t.dir };
}

/** A label whose voxel n is f(n). */
const labelOf = (f: (n: number) => number): Uint8Array => Uint8Array.from({ length: N }, (_, n) => f(n));
const req = (caseId: string, over: Partial<SaveLabelRequest> = {}): SaveLabelRequest => ({
  caseId,
  parentVersion: null,
  submit: false,
  activeEditSeconds: 0,
  ...over,
});
const differing = (a: Uint8Array, b: Uint8Array): number => a.reduce((s, x, n) => s + (x !== b[n] ? 1 : 0), 0);

/** Reference Dice (plain counting) averaged over the classes present in either map. */
function meanDiceRef(a: Uint8Array, b: Uint8Array, classes: number[]): number {
  const dices: number[] = [];
  for (const c of classes) {
    let na = 0;
    let nb = 0;
    let both = 0;
    for (let n = 0; n < a.length; n++) {
      na += a[n] === c ? 1 : 0;
      nb += b[n] === c ? 1 : 0;
      both += a[n] === c && b[n] === c ? 1 : 0;
    }
    if (na + nb > 0) dices.push((2 * both) / (na + nb));
  }
  return dices.reduce((s, d) => s + d, 0) / dices.length;
}

describe('cases.saveLabel', () => {
  it('refuses a wrong byte count, classes outside the schema and unknown parents, saving nothing', async () => {
    const { api, store, caseId } = await setup();
    await expect(api.upload('cases.saveLabel', req(caseId), new Uint8Array(N - 1))).rejects.toThrow(
      new RegExp(`6×5×4 = ${N} voxels, but ${N - 1} bytes`),
    );
    await expect(
      api.upload(
        'cases.saveLabel',
        req(caseId),
        labelOf((n) => (n === 17 ? 4 : 0)),
      ),
    ).rejects.toThrow(/voxel 17 holds class 4, which the kidney schema does not have/);
    await expect(api.upload('cases.saveLabel', req(caseId, { parentVersion: 3 }), new Uint8Array(N))).rejects.toThrow(
      /no label version 3/,
    );
    await expect(
      api.upload('cases.saveLabel', { ...req(caseId), activeEditSeconds: -1 }, new Uint8Array(N)),
    ).rejects.toThrow(/activeEditSeconds/);
    await expect(api.upload('cases.saveLabel', { caseId }, new Uint8Array(N))).rejects.toThrow(
      /'parentVersion' must be given/,
    );
    await expect(api.upload('cases.saveLabel', { caseId, parentVersion: null }, new Uint8Array(N))).rejects.toThrow(
      /'submit' must be true or false/,
    );
    expect(store.listLabelVersions(caseId)).toEqual([]);
    expect(store.getCase(caseId).status).toBe('new');
  });

  it('saves edits with parent, changed voxels, editor and time; submit marks the case; events fire', async () => {
    const { api, store, caseId, events } = await setup();
    const pred = makeVolume(DIMS, (i, j) => (i > 2 && j > 1 ? 1 : 0), { type: 'uint8' });
    // A model row, as training will register them (the store has no model API yet).
    const db = new Database(join(store.dir, 'project.sqlite'));
    db.prepare(
      `INSERT INTO models (id, schema_name, folder, created_at) VALUES ('kidney-v3', 'kidney', 'models/kidney-v3', ?)`,
    ).run(new Date().toISOString());
    db.close();
    await store.addLabelVersion(caseId, pred, { kind: 'prediction', modelId: 'kidney-v3' });
    expect(store.getCase(caseId).status).toBe('prelabelled');

    const edit = labelOf((n) => (n % 7 === 0 ? 2 : (pred.data[n] as number)));
    const v2 = await api.upload('cases.saveLabel', req(caseId, { parentVersion: 1, activeEditSeconds: 42.5 }), edit);
    expect(v2).toMatchObject({
      caseId,
      version: 2,
      kind: 'edit',
      submitted: false,
      parentVersion: 1,
      modelId: 'kidney-v3',
      editor: userInfo().username,
      voxelsChanged: differing(Uint8Array.from(pred.data), edit),
      activeEditSeconds: 42.5,
    });
    expect(v2).not.toHaveProperty('voxelsSha256');
    expect(store.getCase(caseId).status).toBe('in_progress');
    expect(Array.from(await api.binary('cases.labelData', { caseId, version: 2 }))).toEqual(Array.from(edit));

    const final = labelOf((n) => (n < 10 ? 3 : edit[n]));
    const v3 = await api.upload('cases.saveLabel', req(caseId, { parentVersion: 2, submit: true }), final);
    expect(v3).toMatchObject({ version: 3, submitted: true, parentVersion: 2, voxelsChanged: differing(edit, final) });
    expect(store.getCase(caseId).status).toBe('submitted');
    expect((await api.call('cases.labelVersions', { caseId })).map((v) => [v.version, v.kind, v.submitted])).toEqual([
      [1, 'prediction', false],
      [2, 'edit', false],
      [3, 'edit', true],
    ]);
    expect(events.filter((e) => e.name === 'cases.changed')).toHaveLength(2);
  });

  it('serialises concurrent saves of one case: each gets its own version and keeps its own voxels', async () => {
    const { api, caseId } = await setup();
    const labels = [1, 2, 3, 0].map((c) => labelOf((n) => (n % 4 === c % 4 ? c : 0)));
    const saved = await Promise.all(
      labels.map((l, n) => api.upload('cases.saveLabel', req(caseId, { activeEditSeconds: n }), l)),
    );
    expect(saved.map((v) => v.version).sort()).toEqual([1, 2, 3, 4]);
    for (const [n, v] of saved.entries()) {
      expect(v.activeEditSeconds).toBe(n);
      expect(Array.from(await api.binary('cases.labelData', { caseId, version: v.version }))).toEqual(
        Array.from(labels[n]),
      );
    }
  });
});

/** A sparse body: uint32 LE indices, then uint8 values. */
function sparseBody(indices: number[], values: number[]): Uint8Array {
  const body = new Uint8Array(indices.length * 5);
  const view = new DataView(body.buffer);
  indices.forEach((i, n) => view.setUint32(n * 4, i, true));
  body.set(values, indices.length * 4);
  return body;
}

describe('cases.saveLabel sparse and restore', () => {
  it('applies a sparse change to the parent voxels, counting only voxels that really changed', async () => {
    const { api, caseId } = await setup();
    const first = labelOf((n) => (n % 3 === 0 ? 1 : 0));
    await api.upload('cases.saveLabel', req(caseId), first);
    // Voxel 0 is set to the value it already holds: sent, but not a change.
    const indices = [0, 5, 17, N - 1];
    const values = [first[0], 2, 3, 1];
    const v2 = await api.upload(
      'cases.saveLabel',
      req(caseId, { parentVersion: 1, encoding: 'sparse', changes: indices.length }),
      sparseBody(indices, values),
    );
    const want = first.slice();
    indices.forEach((i, n) => (want[i] = values[n]));
    expect(v2).toMatchObject({ version: 2, parentVersion: 1, voxelsChanged: differing(first, want) });
    expect(Array.from(await api.binary('cases.labelData', { caseId, version: 2 }))).toEqual(Array.from(want));
    // Without a parent the change applies to an empty map.
    const v3 = await api.upload(
      'cases.saveLabel',
      req(caseId, { encoding: 'sparse', changes: 1 }),
      sparseBody([4], [2]),
    );
    const empty = new Uint8Array(N);
    empty[4] = 2;
    expect(Array.from(await api.binary('cases.labelData', { caseId, version: v3.version }))).toEqual(Array.from(empty));
  });

  it('refuses sparse bodies of the wrong size, unsorted or out-of-range indices and foreign classes', async () => {
    const { api, caseId } = await setup();
    const send = (indices: number[], values: number[], changes = indices.length) =>
      api.upload('cases.saveLabel', req(caseId, { encoding: 'sparse', changes }), sparseBody(indices, values));
    await expect(send([1, 2], [1, 1], 3)).rejects.toThrow(/needs 15 bytes .* but 10 were sent/);
    await expect(send([3, 2], [1, 1])).rejects.toThrow(/sparse index 1 is 2; indices must increase strictly/);
    await expect(send([N], [1])).rejects.toThrow(new RegExp(`stay below the case's ${N} voxels`));
    await expect(send([7], [9])).rejects.toThrow(/voxel 7 holds class 9/);
    expect(await api.call('cases.labelVersions', { caseId })).toEqual([]);
  });

  it('records a restore as restored from the earlier version', async () => {
    const { api, caseId } = await setup();
    const a = labelOf((n) => (n % 2 ? 1 : 0));
    await api.upload('cases.saveLabel', req(caseId), a);
    await api.upload(
      'cases.saveLabel',
      req(caseId, { parentVersion: 1 }),
      labelOf(() => 2),
    );
    const v3 = await api.upload('cases.saveLabel', req(caseId, { parentVersion: 2, restoredFrom: 1 }), a);
    expect(v3).toMatchObject({ version: 3, kind: 'edit', restoredFrom: 1, parentVersion: 2 });
    const listed = await api.call('cases.labelVersions', { caseId });
    expect(listed.map((v) => v.restoredFrom)).toEqual([null, null, 1]);
    await expect(api.upload('cases.saveLabel', req(caseId, { parentVersion: 3, restoredFrom: 9 }), a)).rejects.toThrow(
      /has no version 9 to restore/,
    );
  });
});

describe('cases.stats', () => {
  it('counts changes since the pre-label, Dice pre-label vs submitted, and active minutes', async () => {
    const { api, store, caseId } = await setup();
    const empty = await api.call('cases.stats', { caseId });
    expect(empty).toEqual({
      caseId,
      status: 'new',
      voxelsChangedSincePrelabel: null,
      dicePrelabelVsSubmitted: null,
      activeEditMinutes: 0,
    });
    const pred = labelOf((n) => (n % 5 === 0 ? 1 : n % 11 === 0 ? 2 : 0));
    const header = store.caseHeader(caseId);
    await store.addLabelVersion(
      caseId,
      { ...makeVolume(DIMS, () => 0, { type: 'uint8' }), data: pred, originMm: header.originMm },
      { kind: 'prediction' },
    );
    const edit = labelOf((n) => (n % 3 === 0 ? 1 : pred[n]));
    await api.upload('cases.saveLabel', req(caseId, { parentVersion: 1, activeEditSeconds: 90 }), edit);
    const inProgress = await api.call('cases.stats', { caseId });
    expect(inProgress.voxelsChangedSincePrelabel).toBe(differing(pred, edit));
    expect(inProgress.dicePrelabelVsSubmitted).toBeNull();

    const submitted = labelOf((n) => (n % 13 === 0 ? 3 : edit[n]));
    await api.upload(
      'cases.saveLabel',
      req(caseId, { parentVersion: 2, submit: true, activeEditSeconds: 30 }),
      submitted,
    );
    const stats = await api.call('cases.stats', { caseId });
    expect(stats.status).toBe('submitted');
    expect(stats.voxelsChangedSincePrelabel).toBe(differing(pred, submitted));
    expect(stats.dicePrelabelVsSubmitted).toBeCloseTo(meanDiceRef(pred, submitted, [1, 2, 3]), 12);
    expect(stats.activeEditMinutes).toBeCloseTo(2, 12);
  });
});

describe('exports', () => {
  it.skipIf(!HAS_NIBABEL)('writes the label as NIfTI on the image grid (read back with nibabel)', async () => {
    const { api, store, caseId } = await setup();
    const label = labelOf((n) => n % 4);
    await api.upload('cases.saveLabel', req(caseId), label);
    const { path } = await api.call('cases.export', { caseId, format: 'nifti' });
    expect(path).toBe(join(store.dir, 'exports', `${caseId}_v1.nii.gz`));
    const [lab, img] = runPythonJson<NibInfo[]>('nib_read.py', [
      path,
      join(store.dir, 'cases', caseId, 'image.nii.gz'),
    ]);
    expect(lab.shape).toEqual(DIMS);
    expect(lab.dtype).toBe('uint8');
    expect(lab.voxels).toEqual(Array.from(label));
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(lab.affine[r][c]).toBeCloseTo(img.affine[r][c], 5);
    await expect(api.call('cases.export', { caseId, format: 'nifti', version: 2 })).rejects.toThrow(
      /no label version 2/,
    );
  });

  it('refuses DICOM SEG for a case that did not come from DICOM, and export without a label', async () => {
    const { api, caseId } = await setup();
    await expect(api.call('cases.export', { caseId, format: 'nifti' })).rejects.toThrow(/has no label to export/);
    await api.upload('cases.saveLabel', req(caseId), new Uint8Array(N));
    await expect(api.call('cases.export', { caseId, format: 'dicom-seg' })).rejects.toThrow(
      /not imported from DICOM.*export NIfTI instead/,
    );
    await expect(api.call('cases.export', { caseId, format: 'png' as never })).rejects.toThrow(/'format' must be/);
  });

  it.skipIf(!HAS_NIBABEL)('exports submitted cases only as an nnU-Net v2 dataset', async () => {
    const { api, store, caseId, events } = await setup();
    await expect(api.call('project.exportNnunet', {})).rejects.toThrow(/no submitted cases/);
    const other = await store.addCase(
      makeVolume(DIMS, (i, j, k) => huPattern(k, j, i)),
      { name: 'two' },
    );
    await api.upload(
      'cases.saveLabel',
      req(other.id),
      labelOf((n) => n % 2),
    );
    const submitted = labelOf((n) => (n % 3 === 1 ? 2 : 0));
    await api.upload('cases.saveLabel', req(caseId, { submit: true }), submitted);
    // A later, unsubmitted edit does not replace the submitted version in the training data.
    await api.upload('cases.saveLabel', req(caseId, { parentVersion: 1 }), new Uint8Array(N));
    const res = await api.call('project.exportNnunet', {});
    expect(res.cases).toBe(1);
    expect(res.path.startsWith(join(store.dir, 'exports'))).toBe(true);
    expect(readdirSync(join(res.path, 'labelsTr'))).toHaveLength(1);
    const json = JSON.parse(readFileSync(join(res.path, 'dataset.json'), 'utf8'));
    expect(json.labels).toEqual({ background: 0, kidney: 1, tumor: 2, cyst: 3 });
    const labelFile = join(res.path, 'labelsTr', readdirSync(join(res.path, 'labelsTr'))[0]);
    const [lab] = runPythonJson<NibInfo[]>('nib_read.py', [labelFile]);
    expect(lab.voxels).toEqual(Array.from(submitted));
    expect(events.some((e) => e.name === 'job.done' && e.payload.kind === 'export-nnunet' && e.payload.ok)).toBe(true);
  });
});
