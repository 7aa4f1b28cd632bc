// A fine-tune job through the web shell, its server SIGKILLed at random moments, restarted and the job
// resumed each time, ends with the same model (bit-identical weights, same holdout Dice) as a run that
// was never interrupted.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobInfo, ModelInfo } from '../../src-main/api/contract';
import { createApiHandlers, jobManagerOf } from '../../src-main/api/handlers';
import { Rng } from '../../src-main/engine/model/rng';
import { ProjectStore } from '../../src-main/store/project';
import { smallCt, sphereLabel as sphereLabelOn, writeTinyModel } from '../predict-cli/tiny-model';

const ROOT = join(__dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'deformux-finetune-kill-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const DIMS: [number, number, number] = [24, 22, 12];
const STEPS = 60; // fine-tunes checkpoint every 25 steps: kills land before, between and after checkpoints

const sphereLabel = (shift: number): Uint8Array => sphereLabelOn(DIMS, shift);

/** A project with a tiny base model and three submitted cases (two to train on, one holdout). */
async function makeProject(dir: string): Promise<void> {
  const store = ProjectStore.create(dir, { schema: 'kidney' });
  mkdirSync(join(dir, 'models'), { recursive: true });
  await writeTinyModel(join(dir, 'models'), 'kidney', 'kidney-lite', [6, 6, 6]);
  const api = createApiHandlers({ store });
  for (let c = 0; c < 3; c++) {
    const { id } = await store.addCase(smallCt(DIMS, c + 1), { name: `case${c}` });
    await api.upload(
      'cases.saveLabel',
      { caseId: id, parentVersion: null, submit: true, activeEditSeconds: 60 },
      sphereLabel(c - 1),
    );
  }
  await jobManagerOf(api)!.close();
  store.close();
}

interface Server {
  child: ChildProcess;
  call<T>(method: string, body?: unknown): Promise<T>;
}

/** `npm run web` on the project, in a child process; resolves once it serves. */
function startServer(dir: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'web.mjs'), '--project', dir, '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+))/.exec(out);
      if (!m) return;
      const base = `http://127.0.0.1:${m[2]}`;
      const token = m[3];
      resolve({
        child,
        async call<T>(method: string, body: unknown = {}): Promise<T> {
          const res = await fetch(`${base}/api/${method}`, {
            method: 'POST',
            headers: { 'x-deformux-token': token, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          const json = (await res.json()) as T & { error?: string };
          if (!res.ok) throw new Error(`${method}: ${res.status} ${json.error}`);
          return json;
        },
      });
    });
    child.on('exit', (code) => reject(new Error(`web server exited (${code}) before serving: ${err}`)));
  });
}

function kill(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForEnd(server: Server, jobId: string): Promise<JobInfo> {
  for (;;) {
    const job = (await server.call<JobInfo[]>('jobs.list')).find((j) => j.id === jobId)!;
    if (!['queued', 'running'].includes(job.status)) return job;
    await sleep(250);
  }
}

function candidateOf(models: ModelInfo[]): ModelInfo {
  const m = models.find((x) => x.version === 2);
  expect(m, JSON.stringify(models)).toBeDefined();
  return m!;
}

describe('fine-tune job under SIGKILL through the web API', () => {
  it('killed at random moments, restarted and resumed each time, ends with the uninterrupted run’s model', async () => {
    const straightDir = join(root, 'straight');
    await makeProject(straightDir);
    const killedDir = join(root, 'killed');
    cpSync(straightDir, killedDir, { recursive: true });

    let server = await startServer(straightDir);
    const ref = await server.call<{ jobId: string }>('jobs.finetune', { steps: STEPS });
    const refJob = await waitForEnd(server, ref.jobId);
    expect(refJob.status, refJob.message).toBe('done');
    const refModel = candidateOf(await server.call<ModelInfo[]>('models.list'));
    await kill(server);

    server = await startServer(killedDir);
    const { jobId } = await server.call<{ jobId: string }>('jobs.finetune', { steps: STEPS });
    const rng = new Rng(1616);
    const log: string[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      await sleep(rng.uniform(1500, 7000));
      const before = (await server.call<JobInfo[]>('jobs.list')).find((j) => j.id === jobId)!;
      log.push(`killed while ${before.status}: ${before.message}`);
      await kill(server);
      server = await startServer(killedDir);
      const after = (await server.call<JobInfo[]>('jobs.list')).find((j) => j.id === jobId)!;
      if (after.status === 'done') break;
      expect(after.status, log.join(' | ')).toBe('interrupted');
      await server.call('jobs.resume', { jobId });
    }
    const done = await waitForEnd(server, jobId);
    console.log(`fine-tune kill cycles: ${log.join(' | ')}`);
    expect(done.status, `${done.message} | ${log.join(' | ')}`).toBe('done');
    const model = candidateOf(await server.call<ModelInfo[]>('models.list'));
    await kill(server);

    expect(model.training.steps).toBe(STEPS);
    expect(model.training.trainCaseIds).toEqual(refModel.training.trainCaseIds);
    expect((model.training.trainCaseIds as string[]).length).toBe(2);
    expect(model.metrics.holdoutDice).toBe(refModel.metrics.holdoutDice);
    const weights = (dir: string, m: ModelInfo) =>
      readFileSync(join(m.folder.startsWith('/') ? m.folder : join(dir, m.folder), 'weights.safetensors'));
    expect(weights(killedDir, model).equals(weights(straightDir, refModel))).toBe(true);
  }, 600_000);
});
