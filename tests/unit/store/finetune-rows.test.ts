// The fine-tune bookkeeping (issue 7): schema 4 migration of existing models, model versions with
// promote/roll back, the holdout rule, loss curves, paused/interrupted jobs, and the promotion rule.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../../src-main/store/project';
import { MIGRATIONS } from '../../../src-main/store/schema';
import { getJob, insertJob, markInterruptedJobs, updateJob } from '../../../src-main/store/job-rows';
import {
  activeModel,
  canRollback,
  listModels,
  promoteModel,
  registerModel,
  rollbackModel,
} from '../../../src-main/store/model-rows';
import {
  downsample,
  holdoutCaseIds,
  holdoutTarget,
  lossCurves,
  saveLossCurve,
  submittedCases,
  updateHoldout,
} from '../../../src-main/store/training-rows';
import { promotionDecision } from '../../../src-main/jobs/finetune-plan';
import { replayClassDrop } from '../../../src-main/train/holdout';
import { nextHoldoutIds } from '../../../src-main/domain/holdout-rule';
import { validateRequest } from '../../../src-main/api/validate';
import { huPattern, makeVolume, tempDir } from '../helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function newStore(name: string): ProjectStore {
  const t = tempDir(name);
  const store = ProjectStore.create(join(t.dir, 'p'), { schema: 'kidney' });
  cleanups.push(() => {
    store.close();
    t.cleanup();
  });
  return store;
}

const label = makeVolume([4, 3, 2], (i) => i % 2, { type: 'uint8' });

async function submittedCase(store: ProjectStore, name: string): Promise<string> {
  const { id } = await store.addCase(makeVolume([4, 3, 2], huPattern), { name });
  await store.addLabelVersion(id, label, { kind: 'edit', submitted: true, status: 'submitted' });
  return id;
}

describe('model versions', () => {
  it('migrates schema-3 model rows to numbered versions per schema', () => {
    const t = tempDir('mig4');
    cleanups.push(t.cleanup);
    const file = join(t.dir, 'project.sqlite');
    const db = new Database(file);
    for (const step of MIGRATIONS.slice(0, 3)) db.exec(step);
    db.pragma('user_version = 3');
    db.prepare(`INSERT INTO project VALUES (1, 'old', 'kidney', 0, '2026-01-01T00:00:00.000Z')`).run();
    const add = db.prepare(`INSERT INTO models (id, schema_name, folder, created_at) VALUES (?, ?, ?, ?)`);
    add.run('kidney:b@2', 'kidney', '/m/b', '2026-01-02T00:00:00.000Z');
    add.run('kidney:a@1', 'kidney', '/m/a', '2026-01-01T00:00:00.000Z');
    add.run('pancreas:p@1', 'pancreas', '/m/p', '2026-01-03T00:00:00.000Z');
    db.close();
    const store = ProjectStore.open(t.dir);
    cleanups.push(() => store.close());
    expect(listModels(store).map((m) => [m.id, m.version, m.parentId, m.promotedAt])).toEqual([
      ['kidney:a@1', 1, null, null],
      ['kidney:b@2', 2, null, null],
      ['pancreas:p@1', 1, null, null],
    ]);
  });

  it('promotes one active model per schema and rolls back through the promotion history', () => {
    const store = newStore('promote');
    const v1 = registerModel(store, { id: 'k:v1@0', schema: 'kidney', folder: '/m/1', status: 'active' });
    const v2 = registerModel(store, { id: 'k:v2@5', schema: 'kidney', folder: '/m/2', parentId: v1.id });
    const v3 = registerModel(store, { id: 'k:v3@9', schema: 'kidney', folder: '/m/3', parentId: v2.id });
    expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3]);
    expect(v2.parentId).toBe(v1.id);
    expect(canRollback(store, 'kidney')).toBe(false);
    // Promotions in the same millisecond must still be ordered.
    promoteModel(store, v2.id, 'test');
    promoteModel(store, v3.id, 'test');
    expect(listModels(store).map((m) => m.status)).toEqual(['retired', 'retired', 'active']);
    expect(rollbackModel(store, 'kidney').id).toBe(v2.id);
    expect(activeModel(store, 'kidney')!.id).toBe(v2.id);
    expect(rollbackModel(store, 'kidney').id).toBe(v1.id);
    expect(listModels(store).map((m) => m.status)).toEqual(['active', 'retired', 'retired']);
    expect(() => rollbackModel(store, 'kidney')).toThrow(/first active kidney model: nothing to roll back to/);
    expect(() => promoteModel(store, 'nope', 'x')).toThrow(/no model with id 'nope'/);
    // An explicit version already taken falls back to the next free one.
    expect(registerModel(store, { id: 'k:x@1', schema: 'kidney', folder: '/m/x', version: 2 }).version).toBe(4);
  });
});

describe('holdout, curves, jobs', () => {
  it('grows the holdout by its rule, keeps chosen cases, and never picks a trained-on case', async () => {
    expect([0, 1, 2, 3, 4, 7, 8, 13].map(holdoutTarget)).toEqual([0, 0, 0, 1, 1, 1, 2, 3]);
    const store = newStore('holdout');
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push(await submittedCase(store, `c${n}`));
    expect(submittedCases(store).map((c) => c.caseId)).toEqual(ids);
    expect([...updateHoldout(store, new Set())]).toEqual([ids[2]]); // the 3rd submitted case
    for (let n = 3; n < 8; n++) ids.push(await submittedCase(store, `c${n}`));
    // The 8th case (rule place) was trained on: another untrained case is taken instead.
    const held = updateHoldout(store, new Set([ids[7], ids[0], ids[1]]));
    expect(held.size).toBe(2);
    expect(held.has(ids[2])).toBe(true);
    expect(held.has(ids[7])).toBe(false);
    expect([...holdoutCaseIds(store)].sort()).toEqual([...held].sort());
  });

  it('the holdout rule on its own (the store and bench finetune --sequence share it)', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    expect(nextHoldoutIds(ids.slice(0, 2), new Set(), new Set(['a']))).toEqual([]);
    expect(nextHoldoutIds(ids.slice(0, 3), new Set(), new Set(['a', 'b']))).toEqual(['c']);
    // The 3rd was trained on: the latest untrained case instead.
    expect(nextHoldoutIds(ids.slice(0, 4), new Set(), new Set(['a', 'c']))).toEqual(['d']);
    // Held cases count toward the target and are not returned again.
    expect(nextHoldoutIds(ids.slice(0, 7), new Set(['c']), new Set(['a', 'b']))).toEqual([]);
    expect(nextHoldoutIds(ids, new Set(['c']), new Set(['a', 'b']))).toEqual(['h']);
    expect(nextHoldoutIds(ids, new Set(), new Set())).toEqual(['c', 'h']);
  });

  it('downsamples loss curves to at most 500 points keeping the ends', () => {
    const xs = Array.from({ length: 2001 }, (_, n) => n);
    const d = downsample(xs, 500);
    expect(d).toHaveLength(500);
    expect([d[0], d[499]]).toEqual([0, 2000]);
    expect(downsample([1, 2], 500)).toEqual([1, 2]);
    const store = newStore('curve');
    insertJob(store, { id: 'j1', kind: 'finetune', params: {} });
    saveLossCurve(
      store,
      'j1',
      Array.from({ length: 1200 }, (_, n) => 1 / (n + 1)),
    );
    const curve = lossCurves(store);
    expect(curve).toHaveLength(500);
    expect(curve[0]).toEqual({ jobId: 'j1', step: 1, loss: 1 });
    expect(curve[499].step).toBe(1200);
  });

  it('stores paused jobs and marks an interrupted fine-tune resumable, other jobs failed', () => {
    const store = newStore('jobs');
    insertJob(store, { id: 'ft', kind: 'finetune', params: {} });
    insertJob(store, { id: 'pl', kind: 'prelabel', params: {} });
    insertJob(store, { id: 'pz', kind: 'finetune', params: {} });
    updateJob(store, 'ft', { status: 'running' });
    updateJob(store, 'pl', { status: 'running' });
    updateJob(store, 'pz', { status: 'paused', message: 'Paused at step 3/9' });
    expect(getJob(store, 'pz')!.status).toBe('paused');
    expect(markInterruptedJobs(store)).toBe(2);
    expect(getJob(store, 'ft')!.status).toBe('interrupted');
    expect(getJob(store, 'ft')!.message).toMatch(/resume continues from the last checkpoint/);
    expect(getJob(store, 'pl')!.status).toBe('failed');
    expect(getJob(store, 'pz')!.status).toBe('paused');
    updateJob(store, 'ft', { status: 'done' });
    expect(getJob(store, 'ft')!.status).toBe('done');
  });
});

describe('promotion rule and requests', () => {
  it('promotes only when the holdout Dice is not worse and the setting allows', () => {
    const d = (baseDice: number | null, candidateDice: number | null, promoteIfNotWorse = true) =>
      promotionDecision({ promoteIfNotWorse, baseDice, candidateDice, baseVersion: 1 });
    expect(d(0.7, 0.65)).toMatchObject({ promote: false });
    expect(d(0.7, 0.65).reason).toMatch(/0\.650 is worse than 0\.700 of version 1/);
    expect(d(0.7, 0.7).promote).toBe(true);
    expect(d(0.7, 0.8).promote).toBe(true);
    expect(d(0.7, 0.8, false)).toMatchObject({ promote: false });
    expect(d(0.7, 0.8, false).reason).toMatch(/automatic promotion is off/);
    expect(d(null, null).reason).toMatch(/no holdout case/);
    expect(d(null, null).promote).toBe(false);
  });

  it('with one or two cases the replay holdout decides; both checks must pass when both exist', () => {
    const d = (
      baseDice: number | null,
      candidateDice: number | null,
      replay: [number, number] | null,
      promoteIfNotWorse = true,
    ) =>
      promotionDecision({
        promoteIfNotWorse,
        baseDice,
        candidateDice,
        baseVersion: 1,
        ...(replay ? { replay: { base: replay[0], candidate: replay[1], tolerance: 0.01 } } : {}),
      });
    expect(d(null, null, [0.8, 0.795]).promote).toBe(true);
    expect(d(null, null, [0.8, 0.795]).reason).toMatch(/replay holdout Dice 0\.795 vs 0\.800/);
    expect(d(null, null, [0.8, 0.78])).toMatchObject({ promote: false });
    expect(d(null, null, [0.8, 0.78]).reason).toMatch(/forgets/);
    expect(d(0.7, 0.75, [0.8, 0.7]).promote).toBe(false);
    expect(d(0.7, 0.65, [0.8, 0.9]).promote).toBe(false);
    expect(d(0.7, 0.75, [0.8, 0.8]).promote).toBe(true);
    expect(d(null, null, [0.8, 0.9], false).promote).toBe(false);
    // Without a real holdout, the cases trained on must not get worse (a run gone wrong can keep the phantoms).
    const withTrained = (base: number, candidate: number) =>
      promotionDecision({
        promoteIfNotWorse: true,
        baseDice: null,
        candidateDice: null,
        baseVersion: 1,
        replay: { base: 0.543, candidate: 0.544, tolerance: 0.01 },
        trained: { base, candidate },
      });
    expect(withTrained(0.772, 0.628)).toMatchObject({ promote: false });
    expect(withTrained(0.772, 0.628).reason).toMatch(/cases it trained on fell from 0\.772 to 0\.628/);
    expect(withTrained(0.772, 0.88).promote).toBe(true);
  });

  it('each class of the replay holdout must hold too: a gain in one does not hide a loss in another', () => {
    // bench finetune with the eleventh kidney starter, case seed 200001: the mean rose, the cysts fell.
    const d = (candidate: (number | null)[], classNames?: string[]) =>
      promotionDecision({
        promoteIfNotWorse: true,
        baseDice: null,
        candidateDice: null,
        baseVersion: 1,
        replay: {
          base: 0.469,
          candidate: 0.4904,
          tolerance: 0.01,
          byClass: { base: [0.9022, 0.3491, 0.1557], candidate },
          ...(classNames ? { classNames } : {}),
        },
      });
    const fell = d([0.8982, 0.433, 0.1401], ['kidney', 'tumor', 'cyst']);
    expect(fell.promote).toBe(false);
    expect(fell.reason).toMatch(
      /forgets what the base knew of the cyst \(replay holdout Dice of the cyst 0\.140 vs 0\.156/,
    );
    expect(d([0.8982, 0.433, 0.1401]).reason).toMatch(/of the class 3 /);
    // Case seed 200002: every class rose. A class within the tolerance, or absent on one side, does not refuse.
    expect(d([0.9085, 0.3961, 0.177]).promote).toBe(true);
    expect(d([0.8932, 0.433, 0.1501]).promote).toBe(true);
    expect(d([0.9085, 0.3961, null]).promote).toBe(true);
    // The largest drop is named.
    expect(replayClassDrop({ base: [0.9, 0.5, 0.2], candidate: [0.85, 0.3, 0.19] }, 0.01)).toEqual({
      index: 1,
      base: 0.5,
      candidate: 0.3,
    });
    expect(replayClassDrop({ base: [0.9, null], candidate: [0.895, 0.1] }, 0.01)).toBeNull();
  });

  it('a label submitted unchanged from its pre-label is no evidence: marked unedited', async () => {
    const store = newStore('unedited');
    const { id } = await store.addCase(makeVolume([4, 3, 2], huPattern), { name: 'same' });
    await store.addLabelVersion(id, label, { kind: 'prediction' });
    await store.addLabelVersion(id, label, { kind: 'edit', submitted: true, status: 'submitted' });
    const { id: fixed } = await store.addCase(makeVolume([4, 3, 2], huPattern), { name: 'fixed' });
    await store.addLabelVersion(fixed, label, { kind: 'prediction' });
    const corrected = makeVolume([4, 3, 2], (i) => (i + 1) % 2, { type: 'uint8' });
    await store.addLabelVersion(fixed, corrected, { kind: 'edit', submitted: true, status: 'submitted' });
    const byName = new Map(submittedCases(store).map((c) => [c.name, c]));
    expect(byName.get('same')!.edited).toBe(false);
    expect(byName.get('fixed')!.edited).toBe(true);
  });

  it('validates fine-tune, pause/resume, promote and settings requests', () => {
    expect(validateRequest('jobs.finetune', {})).toEqual({});
    expect(validateRequest('jobs.finetune', { steps: 4, correctionWeight: 2 })).toEqual({
      steps: 4,
      correctionWeight: 2,
    });
    expect(() => validateRequest('jobs.finetune', { steps: 1.5 })).toThrow(/'steps' must be a whole number/);
    expect(() => validateRequest('jobs.finetune', { correctionWeight: -1 })).toThrow(/'correctionWeight'/);
    expect(() => validateRequest('jobs.pause', {})).toThrow(/'jobId' must be a non-empty string/);
    expect(() => validateRequest('models.promote', { modelId: 3 })).toThrow(/'modelId'/);
    expect(() => validateRequest('project.setSettings', { other: 1 })).toThrow(/unknown setting\(s\) other/);
    expect(() => validateRequest('project.setSettings', { promoteIfNotWorse: 'yes' })).toThrow(/true or false/);
  });
});
