// The engine client against a scripted thread: answers matched by id (also out of order), progress to the
// right caller, an engine error as EngineError, a pre-label abort terminating the thread, a fine-tune abort
// sent as a cancel of that request (also when the stop came first), and a dead thread failing every call.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EngineClient, EngineError } from '../../src-main/jobs/engine-client';
import type { EngineThread } from '../../src-main/jobs/engine-client';
import type { FromWorker, ModelSummary, ToWorker } from '../../src-main/worker/protocol';
import type { FinetuneResult } from '../../src-main/train/finetune';
import type { PredictSettings } from '../../src-main/predict/predict';
import { isAbortError } from '../../src-main/util/abort';

class FakeThread extends EventEmitter implements EngineThread {
  readonly sent: ToWorker[] = [];
  terminated = 0;
  postMessage(m: ToWorker): void {
    this.sent.push(m);
  }
  answer(m: FromWorker): void {
    this.emit('message', m);
  }
  async terminate(): Promise<number> {
    this.terminated++;
    this.emit('exit', 1);
    return 1;
  }
}

const settings: PredictSettings = {
  overlap: 0.5,
  ttaAxes: [],
  postprocess: true,
  cropToBody: true,
  anatomyRegion: true,
  uncertainty: 'none',
  patchSize: [8, 8, 8],
  targetSpacingMm: [3, 3, 3],
};

const result = (id: number, value: number): FromWorker => ({
  type: 'result',
  id,
  label: new Uint8Array([value]),
  uncertainty: null,
  voxelsPerClass: [1],
  dims: [1, 1, 1],
  settings,
  seconds: 0.1,
});

const finetuneResult = (cancelled: boolean): FinetuneResult => ({
  cancelled,
  steps: 3,
  losses: [1, 0.9, 0.8],
  modelDir: cancelled ? null : '/tmp/x',
  holdout: { base: null, candidate: null, perCase: [] },
  seconds: 1,
});

const request = { baseModelDir: '/m', outDir: '/o', train: [], holdout: [], steps: 3 };

describe('EngineClient', () => {
  it('matches answers to requests by id, progress included, whatever their order', async () => {
    const t = new FakeThread();
    const engine = new EngineClient(t);
    const progA: string[] = [];
    const progB: string[] = [];
    const a = engine.predict('/a.nii.gz', false, { onProgress: (_f, m) => progA.push(m) });
    const b = engine.predict('/b.nii.gz', true, { onProgress: (_f, m) => progB.push(m) });
    const [ma, mb] = t.sent as Extract<ToWorker, { type: 'predict' }>[];
    expect([ma.imagePath, mb.imagePath, mb.tta]).toEqual(['/a.nii.gz', '/b.nii.gz', true]);
    expect(ma.id).not.toBe(mb.id);
    t.answer({ type: 'progress', id: mb.id, fraction: 0.5, message: 'b half' });
    t.answer({ type: 'progress', id: ma.id, fraction: 0.2, message: 'a fifth' });
    t.answer(result(mb.id, 2));
    t.answer(result(ma.id, 1));
    expect([...(await a).label, ...(await b).label]).toEqual([1, 2]);
    expect(progA).toEqual(['a fifth']);
    expect(progB).toEqual(['b half']);
  });

  it('a load answers with the model; an engine error rejects as EngineError keeping its input flag', async () => {
    const t = new FakeThread();
    const engine = new EngineClient(t);
    const loaded = engine.load('/models/k', 'kidney');
    const bad = engine.predict('/broken.nii.gz', false);
    const [load, predict] = t.sent;
    const model: ModelSummary = {
      modelId: 'm',
      modelVersion: 'v',
      classes: ['bg'],
      patchSize: [8, 8, 8],
      targetSpacingMm: [3, 3, 3],
    };
    t.answer({ type: 'loaded', id: load.id, model });
    t.answer({ type: 'error', id: predict.id, message: '/broken.nii.gz: not a NIfTI file', input: true });
    expect(await loaded).toEqual(model);
    const err = await bad.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ message: '/broken.nii.gz: not a NIfTI file', input: true });
  });

  it('aborting a pre-label or a load terminates the thread at once and rejects with an AbortError; later calls fail', async () => {
    const t = new FakeThread();
    const engine = new EngineClient(t);
    const abort = new AbortController();
    const p = engine.predict('/a.nii.gz', false, { signal: abort.signal });
    abort.abort();
    const err = await p.catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(t.terminated).toBe(1);
    await expect(engine.load('/m', 'kidney')).rejects.toThrow(/cancelled/);
    expect(t.sent.map((m) => m.type)).toEqual(['predict']);
    // A load is stopped the same way (a cancel while the model loads).
    const t2 = new FakeThread();
    const abort2 = new AbortController();
    const loading = new EngineClient(t2).load('/m', 'kidney', { signal: abort2.signal });
    abort2.abort();
    expect(isAbortError(await loading.catch((e: unknown) => e))).toBe(true);
    expect(t2.terminated).toBe(1);
  });

  it('aborting a fine-tune sends a cancel for that request and resolves with the stopped result', async () => {
    const t = new FakeThread();
    const engine = new EngineClient(t);
    const abort = new AbortController();
    const steps: number[] = [];
    const run = engine.finetune(request, { signal: abort.signal, onProgress: (p) => steps.push(p.step) });
    const id = t.sent[0].id;
    t.answer({
      type: 'finetune-progress',
      id,
      progress: { phase: 'train', step: 1, steps: 3, loss: 1, etaS: 2, fraction: 0.3, message: 'step 1/3' },
    });
    abort.abort();
    expect(t.sent[1]).toEqual({ type: 'cancel', id });
    expect(t.terminated).toBe(0);
    t.answer({ type: 'finetune-result', id, result: finetuneResult(true) });
    expect(await run).toMatchObject({ cancelled: true, steps: 3 });
    expect(steps).toEqual([1]);
  });

  it('a stop asked for before the fine-tune started still reaches it, right after the request', async () => {
    const t = new FakeThread();
    const engine = new EngineClient(t);
    const abort = new AbortController();
    abort.abort();
    const run = engine.finetune(request, { signal: abort.signal });
    expect(t.sent.map((m) => m.type)).toEqual(['finetune', 'cancel']);
    expect(t.sent[1].id).toBe(t.sent[0].id);
    t.answer({ type: 'finetune-result', id: t.sent[0].id, result: finetuneResult(true) });
    expect((await run).cancelled).toBe(true);
  });

  it('a thread that dies fails every open call with the reason, and answers for unknown ids are ignored', async () => {
    const t = new FakeThread();
    const engine = new EngineClient(t);
    const a = engine.predict('/a.nii.gz', false);
    const b = engine.finetune(request);
    t.answer(result(999, 1));
    t.emit('error', new Error('out of memory in the engine'));
    await expect(a).rejects.toThrow('out of memory in the engine');
    await expect(b).rejects.toThrow('out of memory in the engine');
  });
});
