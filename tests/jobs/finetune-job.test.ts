// Fine-tune jobs through the API handlers with a tiny model: too few cases, a candidate with parent and
// metrics, the promotion setting, promote/roll back and the next pre-label's model, pause → restart → resume.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiEvent, JobInfo } from '../../src-main/api/contract';
import { createApiHandlers, jobManagerOf } from '../../src-main/api/handlers';
import type { ApiHandlers } from '../../src-main/api/handlers';
import { ProjectStore } from '../../src-main/store/project';
import { updateJob } from '../../src-main/store/job-rows';
import { smallCt, sphereLabel as sphereLabelOn, writeTinyModel } from '../predict-cli/tiny-model';

const root = mkdtempSync(join(tmpdir(), 'deformux-finetune-'));
const stores: ProjectStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
  rmSync(root, { recursive: true, force: true });
});

const DIMS: [number, number, number] = [24, 22, 12];

const sphereLabel = (shift: number): Uint8Array => sphereLabelOn(DIMS, shift);

async function project(name: string, cases: number) {
  const dir = join(root, name);
  const store = ProjectStore.create(dir, { schema: 'kidney' });
  stores.push(store);
  mkdirSync(join(dir, 'models'), { recursive: true });
  // 6 mm voxels keep the tiny network's patches few; the project-local model is the fine-tune's base.
  await writeTinyModel(join(dir, 'models'), 'kidney', 'kidney-lite', [6, 6, 6]);
  const ids: string[] = [];
  for (let c = 0; c < cases; c++) ids.push((await store.addCase(smallCt(DIMS, c + 1), { name: `case${c}` })).id);
  const api = createApiHandlers({ store });
  const events: ApiEvent[] = [];
  api.onEvent((e) => events.push(e));
  return { dir, store, api, ids, events };
}

async function submit(api: ApiHandlers, caseId: string, shift: number, parentVersion: number | null) {
  return api.upload(
    'cases.saveLabel',
    { caseId, parentVersion, submit: true, activeEditSeconds: 90 },
    sphereLabel(shift),
  );
}

async function job(api: ApiHandlers, jobId: string): Promise<JobInfo> {
  await jobManagerOf(api)!.idle();
  return (await api.call('jobs.list', {})).find((j) => j.id === jobId)!;
}

describe('jobs.finetune', () => {
  it('needs a corrected case; trains a candidate with parent, metrics and curve; honours the promotion setting; promote and roll back steer the next pre-label', async () => {
    const { dir, api, ids, events } = await project('main', 4);
    await expect(api.call('jobs.finetune', { steps: 2 })).rejects.toThrow(/at least 1 corrected training case/);
    await expect(api.call('jobs.finetune', { steps: 0 })).rejects.toThrow(/'steps' must be a whole number/);

    // Case 0 is corrected from a pre-label; cases 1 and 2 are labelled from scratch.
    const pre = await api.call('jobs.prelabel', { caseIds: [ids[0]] });
    expect((await job(api, pre.jobId)).status).toBe('done');
    await submit(api, ids[0], 1, 1);
    await submit(api, ids[1], -1, null);
    // The 3rd submitted case starts the holdout: it is scored, never trained on.
    await submit(api, ids[2], 0, null);

    const { jobId } = await api.call('jobs.finetune', { steps: 3, correctionWeight: 2 });
    const done = await job(api, jobId);
    expect(done.status, done.message).toBe('done');
    const models = await api.call('models.list', {});
    expect(models.map((m) => m.version)).toEqual([1, 2]);
    const [v1, v2] = models;
    expect(v1.folder).toBe(join(dir, 'models', 'kidney-lite'));
    expect(v2).toMatchObject({ parentId: v1.id, folder: join(dir, 'models', 'kidney-v2'), id: 'kidney:kidney-v2@3' });
    expect(existsSync(join(v2.folder, 'model.json'))).toBe(true);
    expect(v2.training).toMatchObject({ jobId, steps: 3, correctionWeight: 2, trainCaseIds: [ids[0], ids[1]] });
    expect(v2.training.holdoutCaseIds).toEqual([ids[2]]);
    expect(v2.metrics.holdoutDice).toBeGreaterThanOrEqual(0);
    expect(v2.metrics.holdoutDice).toBeLessThanOrEqual(1);
    // Both checks: the real holdout not worse, and the replay holdout (synthetic recipe) within 0.01.
    expect(v2.metrics.replayHoldoutDice).toBeGreaterThanOrEqual(0);
    expect(v2.metrics.baseReplayHoldoutDice).toBeGreaterThanOrEqual(0);
    const realOk = v2.metrics.holdoutDice >= v2.metrics.baseHoldoutDice - 1e-6;
    const replayOk = v2.metrics.replayHoldoutDice >= v2.metrics.baseReplayHoldoutDice - 0.01 - 1e-6;
    const promoted = realOk && replayOk;
    expect(v2.status).toBe(promoted ? 'active' : 'candidate');
    expect(v1.status).toBe(promoted ? 'retired' : 'active');
    expect(v2.note).toMatch(promoted ? /^promoted/ : realOk ? /forgets/ : /worse than/);
    expect(done.message).toContain('Fine-tuned version 2');
    const progress = events.filter((e) => e.name === 'job.progress' && e.payload.jobId === jobId);
    expect(
      progress.some((e) => e.name === 'job.progress' && e.payload.step === 3 && /loss/.test(e.payload.message)),
    ).toBe(true);

    const curve = await api.call('project.learningCurve', {});
    expect(curve.trainingLoss.filter((p) => p.jobId === jobId).map((p) => p.step)).toEqual([1, 2, 3]);
    expect(curve.trainingLoss[0].modelId).toBe(v2.id);
    expect(curve.modelDice.map((d) => d.version)).toEqual([1, 2]);
    expect(curve.cases.map((c) => c.caseId)).toEqual(ids.slice(0, 3));
    expect(curve.cases[0]).toMatchObject({ modelVersion: 1, activeEditMinutes: 1.5, holdout: false });
    expect(curve.cases[0].voxelsChanged).toBeGreaterThan(0);
    expect(curve.cases[1]).toMatchObject({ modelId: null, dicePrelabelVsSubmitted: null });
    expect(curve.cases[2].holdout).toBe(true);

    // With automatic promotion off the next candidate stays one, saying why.
    expect(await api.call('project.setSettings', { promoteIfNotWorse: false })).toEqual({ promoteIfNotWorse: false });
    const second = await api.call('jobs.finetune', { steps: 2 });
    expect((await job(api, second.jobId)).status).toBe('done');
    const v3 = (await api.call('models.list', {})).find((m) => m.version === 3)!;
    expect(v3).toMatchObject({ status: 'candidate', parentId: promoted ? v2.id : v1.id });
    expect(v3.note).toMatch(/automatic promotion is off/);

    // Promote by hand, then roll back: the previous active model is active again and pre-labels with it.
    const before = (await api.call('models.list', {})).find((m) => m.status === 'active')!;
    const afterPromote = await api.call('models.promote', { modelId: v3.id });
    expect(afterPromote.find((m) => m.status === 'active')!.id).toBe(v3.id);
    const afterRollback = await api.call('models.rollback', {});
    expect(afterRollback.find((m) => m.status === 'active')!.id).toBe(before.id);
    expect(afterRollback.find((m) => m.id === v3.id)!.status).toBe('retired');
    const next = await api.call('jobs.prelabel', { caseIds: [ids[3]] });
    expect((await job(api, next.jobId)).status).toBe('done');
    const versions = await api.call('cases.labelVersions', { caseId: ids[3] });
    expect(versions[0].modelId).toBe(before.id);
    await expect(api.call('models.promote', { modelId: 'nope' })).rejects.toThrow(/no model with id 'nope'/);
  }, 240_000);

  it('pauses with a checkpoint, is marked interrupted after a restart, and resumes where it stopped', async () => {
    const { store, api, ids, events } = await project('pause', 2);
    await submit(api, ids[0], 0, null);
    await submit(api, ids[1], 1, null);
    // Pause as soon as step 2 is reported.
    const off = api.onEvent((e) => {
      if (e.name === 'job.progress' && (e.payload.step ?? 0) >= 2)
        void api.call('jobs.pause', { jobId: e.payload.jobId });
    });
    const { jobId } = await api.call('jobs.finetune', { steps: 6 });
    const paused = await job(api, jobId);
    off();
    expect(paused.status, paused.message).toBe('paused');
    const stoppedAt = paused.result.steps as number;
    expect(stoppedAt).toBeGreaterThanOrEqual(2);
    expect(stoppedAt).toBeLessThan(6);
    expect(paused.message).toMatch(/^Paused at step \d\/6/);
    expect((await api.call('models.list', {})).map((m) => m.version)).toEqual([1]); // nothing half-written registered
    await expect(api.call('jobs.finetune', { steps: 2 })).rejects.toThrow(/already paused.*resume or cancel/);

    // A crash while it ran again: the row says running; the next app start marks it interrupted.
    updateJob(store, jobId, { status: 'running' });
    const reopened = createApiHandlers({ store });
    const after: ApiEvent[] = [];
    reopened.onEvent((e) => after.push(e));
    expect((await reopened.call('jobs.list', {})).find((j) => j.id === jobId)!.status).toBe('interrupted');
    await reopened.call('jobs.resume', { jobId });
    const done = await job(reopened, jobId);
    expect(done.status, done.message).toBe('done');
    const steps = after.flatMap((e) => (e.name === 'job.progress' && e.payload.step ? [e.payload.step] : []));
    expect(Math.min(...steps.filter((s) => s > 0))).toBe(stoppedAt + 1);
    const curve = await reopened.call('project.learningCurve', {});
    expect(curve.trainingLoss.filter((p) => p.jobId === jobId).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const v2 = (await reopened.call('models.list', {})).find((m) => m.version === 2)!;
    expect(v2.training.steps).toBe(6);
    // Two submitted cases, no real holdout: the replay holdout alone decides.
    const replayOk = v2.metrics.replayHoldoutDice >= v2.metrics.baseReplayHoldoutDice - 0.01 - 1e-6;
    expect(v2.status).toBe(replayOk ? 'active' : 'candidate');
    expect(v2.note).toMatch(/replay holdout Dice/);
    await expect(reopened.call('jobs.resume', { jobId })).rejects.toThrow(/only a paused or interrupted fine-tune/);
    expect(events.length).toBeGreaterThan(0);
    await jobManagerOf(reopened)!.close();
  }, 240_000);

  it('cancel stops a running fine-tune: no model, no checkpoint left, and a new one may start', async () => {
    const { dir, api, ids } = await project('cancel', 2);
    await submit(api, ids[0], 0, null);
    await submit(api, ids[1], 1, null);
    const off = api.onEvent((e) => {
      if (e.name === 'job.progress' && (e.payload.step ?? 0) >= 1)
        void api.call('jobs.cancel', { jobId: e.payload.jobId });
    });
    const { jobId } = await api.call('jobs.finetune', { steps: 50 });
    const cancelled = await job(api, jobId);
    off();
    expect(cancelled.status, cancelled.message).toBe('cancelled');
    expect(cancelled.message).toMatch(/^Cancelled at step \d+\/50/);
    expect(existsSync(join(dir, 'models', 'kidney-v2'))).toBe(false);
    expect(existsSync(join(dir, 'models', 'kidney-v2.checkpoint'))).toBe(false);
    expect((await api.call('models.list', {})).map((m) => m.version)).toEqual([1]);
    await expect(api.call('jobs.resume', { jobId })).rejects.toThrow(/only a paused or interrupted/);
    const again = await api.call('jobs.finetune', { steps: 1 });
    expect((await job(api, again.jobId)).status).toBe('done');
  }, 180_000);
});
