// Pre-label jobs through the API handlers: engine worker, progress events, provenance, uncertainty, cancel, restart.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src-main/api/contract';
import { createApiHandlers, jobManagerOf } from '../../src-main/api/handlers';
import { ProjectStore } from '../../src-main/store/project';
import { insertJob, updateJob } from '../../src-main/store/job-rows';
import { loadModelFolder } from '../../src-main/engine/io/model_folder';
import { segmentationModelOf } from '../../src-main/engine/model/segmentation_model';
import { initEngine } from '../../src-main/engine/tf';
import { predictVolume } from '../../src-main/predict/predict';
import { smallCt, writeTinyModel } from '../predict-cli/tiny-model';

const root = mkdtempSync(join(tmpdir(), 'deformux-jobs-'));
let modelDir = '';
const stores: ProjectStore[] = [];
beforeAll(async () => {
  modelDir = await writeTinyModel(join(root, 'shared-models'), 'kidney');
}, 30_000);
afterAll(() => {
  for (const s of stores) s.close();
  rmSync(root, { recursive: true, force: true });
});

async function project(name: string, cases: number, withModel = true) {
  const dir = join(root, name);
  const store = ProjectStore.create(dir, { schema: 'kidney' });
  stores.push(store);
  if (withModel) {
    mkdirSync(join(dir, 'models'), { recursive: true });
    await writeTinyModel(join(dir, 'models'), 'kidney');
  }
  const ids: string[] = [];
  for (let c = 0; c < cases; c++)
    ids.push((await store.addCase(smallCt([30 - 2 * c, 26, 14], c + 1), { name: `case${c}` })).id);
  const api = createApiHandlers({ store });
  const events: ApiEvent[] = [];
  api.onEvent((e) => events.push(e));
  return { dir, store, api, ids, events, jobs: jobManagerOf(api)! };
}

describe('jobs.prelabel', () => {
  it('pre-labels the open case in the worker: first prediction version, provenance, uncertainty, status', async () => {
    const { store, api, ids, events, jobs } = await project('one', 1);
    const { jobId } = await api.call('jobs.prelabel', { caseIds: [ids[0]] });
    await jobs.idle();
    const job = (await api.call('jobs.list', {})).find((j) => j.id === jobId)!;
    expect(job.message).toMatch(/^Pre-labelled 1 of 1 case/);
    expect(job.status).toBe('done');
    expect(job.result).toEqual({ done: [ids[0]], failed: [] });

    const versions = await api.call('cases.labelVersions', { caseId: ids[0] });
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ version: 1, kind: 'prediction', parentVersion: null });
    expect(versions[0].modelId).toMatch(/^kidney:kidney-lite@0$/);
    expect((await api.call('cases.list', {}))[0].status).toBe('prelabelled');

    const prov = (await api.call('cases.provenance', { caseId: ids[0], version: 1 }))!;
    expect(prov.modelId).toBe(versions[0].modelId);
    expect(prov.modelVersion).toContain(join(store.dir, 'models', 'kidney-lite'));
    expect(prov.settings).toMatchObject({ tta: false, overlap: 0.5, patchSize: [16, 16, 16] });
    expect(prov.hasUncertainty).toBe(true);
    expect((await api.call('models.list', {})).map((m) => m.id)).toEqual([versions[0].modelId]);

    // The worker's label equals the pipeline run here on the same model and image (reference).
    await initEngine();
    const loaded = await loadModelFolder(join(store.dir, 'models', 'kidney-lite'));
    const ref = await predictVolume(await store.loadImage(ids[0]), segmentationModelOf(loaded), {
      schema: 'kidney',
      uncertaintyFormat: 'uint8',
    });
    loaded.net.dispose();
    const label = await api.binary('cases.labelData', { caseId: ids[0], version: 1 });
    expect(Buffer.from(label).equals(Buffer.from(ref.label.data as Uint8Array))).toBe(true);
    const unc = await api.binary('cases.uncertaintyData', { caseId: ids[0] });
    expect(unc.length).toBe(30 * 26 * 14);
    expect(Buffer.from(unc).equals(Buffer.from(ref.uncertainty!.data as Uint8Array))).toBe(true);

    const progress = events.filter((e) => e.name === 'job.progress').map((e) => e.payload as { fraction: number });
    expect(progress.length).toBeGreaterThan(2);
    for (let n = 1; n < progress.length; n++)
      expect(progress[n].fraction).toBeGreaterThanOrEqual(progress[n - 1].fraction);
    const done = events.find((e) => e.name === 'job.done')!.payload as { ok: boolean; jobId: string };
    expect(done).toMatchObject({ ok: true, jobId });
    expect(events.some((e) => e.name === 'cases.changed')).toBe(true);
  }, 60_000);

  it('pre-labels all unlabelled cases and skips ones already labelled; cancel stops a running job', async () => {
    const { api, ids, jobs } = await project('many', 3);
    const first = await api.call('jobs.prelabel', { caseIds: [ids[1]] });
    await jobs.idle();
    expect(first.caseIds).toEqual([ids[1]]);
    const all = await api.call('jobs.prelabel', { caseIds: 'unlabelled' });
    expect([...all.caseIds].sort()).toEqual([ids[0], ids[2]].sort());
    await jobs.idle();
    for (const id of ids)
      expect((await api.call('cases.labelVersions', { caseId: id })).map((v) => v.kind)).toEqual(['prediction']);
    await expect(api.call('jobs.prelabel', { caseIds: 'unlabelled' })).rejects.toThrow(/no unlabelled cases/);

    // Cancel as soon as the job reports it is loading the model: nothing new is saved.
    const before = await Promise.all(ids.map((id) => api.call('cases.labelVersions', { caseId: id })));
    const off = api.onEvent((e) => {
      if (e.name === 'job.progress') void api.call('jobs.cancel', { jobId: e.payload.jobId });
    });
    const again = await api.call('jobs.prelabel', { caseIds: ids });
    await jobs.idle();
    off();
    const job = (await api.call('jobs.list', {})).find((j) => j.id === again.jobId)!;
    expect(job.status).toBe('cancelled');
    const after = await Promise.all(ids.map((id) => api.call('cases.labelVersions', { caseId: id })));
    expect(after).toEqual(before);
  }, 90_000);

  it('refuses unknown cases and a missing model with clear messages; marks jobs interrupted on restart', async () => {
    const { store, api, ids } = await project('nomodel', 1, false);
    await expect(api.call('jobs.prelabel', { caseIds: ['nope'] })).rejects.toThrow(/no case with id 'nope'/);
    await expect(api.call('jobs.prelabel', { caseIds: [] as string[] })).rejects.toThrow(/caseIds/);
    const saved = process.env.DEFORMUX_MODELS_DIR;
    process.env.DEFORMUX_MODELS_DIR = join(root, 'empty');
    try {
      await expect(api.call('jobs.prelabel', { caseIds: [ids[0]] })).rejects.toThrow(/npm run train:starter/);
    } finally {
      if (saved === undefined) delete process.env.DEFORMUX_MODELS_DIR;
      else process.env.DEFORMUX_MODELS_DIR = saved;
    }
    await expect(api.binary('cases.uncertaintyData', { caseId: ids[0] })).rejects.toThrow(/no uncertainty map/);
    // A job left 'running' by a crashed app is reported as interrupted when the project opens again.
    insertJob(store, { id: 'j-old', kind: 'prelabel', caseId: ids[0], params: {} });
    updateJob(store, 'j-old', { status: 'running', fraction: 0.4 });
    const reopened = createApiHandlers({ store });
    const old = (await reopened.call('jobs.list', {})).find((j) => j.id === 'j-old')!;
    expect(old.status).toBe('failed');
    expect(old.message).toMatch(/interrupted/);
    expect(modelDir).not.toBe('');
  }, 60_000);
});
