// A fine-tune stopped while its cases are being read (pause, or the app closing on SIGTERM) pauses
// instead of failing with "there are no training cases", and resumes on the same cases, however often.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiEvent, JobInfo } from '../../src-main/api/contract';
import { createApiHandlers, jobManagerOf } from '../../src-main/api/handlers';
import type { ApiHandlers } from '../../src-main/api/handlers';
import { runFinetuneMessage } from '../../src-main/worker/finetune-worker';
import type { FromWorker } from '../../src-main/worker/protocol';
import { ProjectStore } from '../../src-main/store/project';
import { smallCt, sphereLabel as sphereLabelOn, writeTinyModel } from '../predict-cli/tiny-model';

const root = mkdtempSync(join(tmpdir(), 'deformux-finetune-stop-'));
const stores: ProjectStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
  rmSync(root, { recursive: true, force: true });
});

const DIMS: [number, number, number] = [24, 22, 12];

const sphereLabel = (shift: number): Uint8Array => sphereLabelOn(DIMS, shift);

describe('a fine-tune stopped while reading its cases', () => {
  it('the worker reports a stop (no fine-tune on a partial or empty case list)', async () => {
    const models = join(root, 'worker-models');
    mkdirSync(models, { recursive: true });
    const base = await writeTinyModel(models, 'kidney', 'kidney-lite', [6, 6, 6]);
    const sent: FromWorker[] = [];
    const running = new Map<number, AbortController>();
    const cases = [0, 1, 2].map((n) => ({
      id: `c${n}`,
      image: join(root, `img${n}.nii.gz`),
      label: join(root, `lab${n}.nii.gz`),
    }));
    const done = runFinetuneMessage(
      {
        type: 'finetune',
        id: 0,
        options: {
          baseModelDir: base,
          baseModelId: 'm1',
          outDir: join(models, 'kidney-v2'),
          train: cases,
          holdout: [],
          steps: 3,
        },
      },
      (m) => sent.push(m),
      running,
    );
    // The stop arrives before the first case is read (as a pause or SIGTERM can).
    running.get(0)!.abort();
    await done;
    const errors = sent.filter((m) => m.type === 'error');
    expect(errors).toEqual([]);
    const result = sent.find((m) => m.type === 'finetune-result');
    expect(result).toMatchObject({ type: 'finetune-result', result: { cancelled: true, steps: 0, modelDir: null } });
  });

  it('closing the app while the cases are read, three times over, then finishing on the same cases', async () => {
    const dir = join(root, 'project');
    const store = ProjectStore.create(dir, { schema: 'kidney' });
    stores.push(store);
    mkdirSync(join(dir, 'models'), { recursive: true });
    await writeTinyModel(join(dir, 'models'), 'kidney', 'kidney-lite', [6, 6, 6]);
    const ids: string[] = [];
    for (let c = 0; c < 3; c++) ids.push((await store.addCase(smallCt(DIMS, c + 1), { name: `case${c}` })).id);
    let api: ApiHandlers = createApiHandlers({ store });
    for (const [n, id] of ids.entries())
      await api.upload(
        'cases.saveLabel',
        { caseId: id, parentVersion: null, submit: true, activeEditSeconds: 60 },
        sphereLabel(n - 1),
      );

    const jobOf = async (h: ApiHandlers, jobId: string): Promise<JobInfo> =>
      (await h.call('jobs.list', {})).find((j) => j.id === jobId)!;
    /** Closes the job manager (what SIGTERM does) as the job starts: the stop reaches the worker while it reads the cases. */
    const closeWhileReading = (h: ApiHandlers): (() => void) =>
      h.onEvent((e: ApiEvent) => {
        if (e.name === 'job.progress' && /^reading \d+ submitted case/.test(e.payload.message))
          void jobManagerOf(h)!.close();
      });

    let off = closeWhileReading(api);
    const { jobId } = await api.call('jobs.finetune', { steps: 3 });
    const planned = (await jobOf(api, jobId)).params as { train: { caseId: string }[] };
    const trainIds = planned.train.map((c) => c.caseId);
    expect(trainIds.length).toBeGreaterThanOrEqual(2);
    await jobManagerOf(api)!.idle();
    off();
    for (let cycle = 0; cycle < 3; cycle++) {
      const stopped = await jobOf(api, jobId);
      expect(stopped.status, `cycle ${cycle}: ${stopped.message}`).toBe('paused');
      expect((stopped.params as typeof planned).train.map((c) => c.caseId)).toEqual(trainIds);
      api = createApiHandlers({ store }); // the next app start
      off = closeWhileReading(api);
      await api.call('jobs.resume', { jobId });
      await jobManagerOf(api)!.idle();
      off();
    }
    api = createApiHandlers({ store });
    await api.call('jobs.resume', { jobId });
    await jobManagerOf(api)!.idle();
    const done = await jobOf(api, jobId);
    expect(done.status, done.message).toBe('done');
    const model = (await api.call('models.list', {})).find((m) => m.version === 2)!;
    expect(model.training.trainCaseIds).toEqual(trainIds);
    expect(model.training.steps).toBe(3);
    await jobManagerOf(api)!.close();
  }, 180_000);
});
