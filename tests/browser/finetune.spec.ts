// Fine-tune from the app in the web shell: 3 cases submitted through the API, the Model panel's
// fine-tune with progress, a new model version, the learning-curve plots, promote and roll back, and the
// nnU-Net export of the submitted cases.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiBinary, apiCall } from './viewerPage';
import { writeTinyModel } from '../predict-cli/tiny-model';

test.describe.configure({ mode: 'serial' });

let shell: WebShell;
let page: Page;
let modelsDir = '';
const problems: string[] = [];

interface Model {
  id: string;
  version: number;
  status: string;
}

/** Submits the demo phantom's reference label of a case as the annotator's corrected label. */
async function submitCase(request: APIRequestContext, caseId: string): Promise<void> {
  const data = await apiBinary(request, shell.origin, shell.token, 'cases.labelData', { caseId, version: 1 });
  const req = { caseId, parentVersion: 1, submit: true, activeEditSeconds: 120 };
  const res = await request.post(`${shell.origin}/api/upload/cases.saveLabel`, {
    data,
    headers: {
      'x-deformux-token': shell.token,
      'x-deformux-request': encodeURIComponent(JSON.stringify(req)),
      'content-type': 'application/octet-stream',
    },
  });
  expect(res.status(), await res.text()).toBe(200);
}

test.beforeAll(async ({ browser, request }) => {
  modelsDir = mkdtempSync(join(tmpdir(), 'deformux-finetune-models-'));
  await writeTinyModel(modelsDir, 'kidney', 'kidney-lite', [12, 12, 12]);
  process.env.DEFORMUX_MODELS_DIR = modelsDir; // inherited by the web shell process
  shell = await startWebShell({ demoCases: 3, demoDims: [48, 48, 24] });
  const cases = await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  for (const c of cases) await submitCase(request, c.id);
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(shell.url);
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
  delete process.env.DEFORMUX_MODELS_DIR;
  rmSync(modelsDir, { recursive: true, force: true });
});

test('Fine-tune from the Model panel: progress, a new version, the learning curve', async () => {
  await page.getByTestId('model-panel-button').click();
  await expect(page.getByTestId('learning-curve')).toBeVisible();
  // Three submitted cases but no fine-tune yet: per-case plots have points, the loss plot none.
  await expect(page.getByTestId('plot-case-minutes').locator('svg circle')).toHaveCount(3);
  await expect(page.getByTestId('plot-loss').locator('svg')).toHaveCount(0);

  await page.getByTestId('finetune-steps').fill('4');
  await page.getByTestId('finetune-button').click();
  await expect(page.getByTestId('job-progress')).toBeVisible();
  await expect(page.getByTestId('finetune-result')).toContainText('Fine-tuned version 2', { timeout: 60_000 });
  await expect(page.getByTestId('job-progress')).toHaveCount(0);
  await expect(page.getByTestId('model-list').getByTestId('model-item')).toHaveCount(2);
  // 4 steps of loss, and the holdout Dice of both versions.
  await expect(page.getByTestId('plot-loss').locator('svg circle')).toHaveCount(4);
  await expect(page.getByTestId('plot-holdout-dice').locator('svg circle')).toHaveCount(2);
});

test('Promote (when needed) and roll back: the previous version is active again', async ({ request }) => {
  const models = await apiCall<Model[]>(request, shell.origin, shell.token, 'models.list', {});
  const v2 = models.find((m) => m.version === 2)!;
  const v1 = models.find((m) => m.version === 1)!;
  const item = (m: Model) => page.locator(`[data-testid=model-item][data-model-id="${m.id}"]`);
  if (v2.status !== 'active') {
    // The random tiny model may score worse after 4 steps: then it stays a candidate until promoted.
    await item(v2).getByTestId('promote-button').click();
  }
  await expect(item(v2)).toHaveAttribute('data-status', 'active');
  await page.getByTestId('rollback-button').click();
  await expect(item(v1)).toHaveAttribute('data-status', 'active');
  await expect(item(v2)).toHaveAttribute('data-status', 'retired');
  await expect(page.getByTestId('finetune-result')).toContainText('Rolled back: version 1');
  const after = await apiCall<Model[]>(request, shell.origin, shell.token, 'models.list', {});
  expect(after.find((m) => m.status === 'active')!.id).toBe(v1.id);
  expect(problems).toEqual([]);
});

test('Export the submitted cases as an nnU-Net dataset from the Model panel', async () => {
  await page.getByTestId('nnunet-export-button').click();
  const result = page.getByTestId('nnunet-export-result');
  await expect(result).toContainText('3 case(s) written to', { timeout: 30_000 });
  await expect(page.getByTestId('nnunet-export-progress')).toHaveCount(0);
  const path = (await result.locator('.path').textContent())!.trim();
  // The shell runs on this machine: the dataset is on disk, whole.
  const dataset = JSON.parse(readFileSync(join(path, 'dataset.json'), 'utf8')) as { numTraining: number };
  expect(dataset.numTraining).toBe(3);
  expect(readdirSync(join(path, 'labelsTr')).filter((n) => n.endsWith('.nii.gz'))).toHaveLength(3);
  expect(readdirSync(join(path, 'imagesTr')).filter((n) => n.endsWith('_0000.nii.gz'))).toHaveLength(3);
  expect(problems).toEqual([]);
});

test('Pause, resume and cancel a running fine-tune from the panel', async ({ request }) => {
  await page.getByTestId('finetune-steps').fill('400');
  await page.getByTestId('finetune-button').click();
  await expect(page.getByTestId('finetune-message')).toContainText(/^\d+% step \d+\/400/, { timeout: 30_000 });
  await page.getByTestId('finetune-pause').click();
  await expect(page.getByTestId('finetune-result')).toContainText(/Paused at step \d+\/400/);
  await expect(page.getByTestId('finetune-message')).toContainText('paused');
  await expect(page.getByTestId('finetune-button')).toBeDisabled();
  const paused = (
    await apiCall<{ kind: string; status: string; result: { steps: number } }[]>(
      request,
      shell.origin,
      shell.token,
      'jobs.list',
      {},
    )
  ).find((j) => j.kind === 'finetune' && j.status === 'paused')!;
  expect(paused.result.steps).toBeGreaterThan(0);

  await page.getByTestId('finetune-resume').click();
  // Resumed runs continue the step count; cancel then ends the job without a new version.
  await expect(page.getByTestId('finetune-message')).toContainText(/^\d+% step \d+\/400/, { timeout: 30_000 });
  const text = (await page.getByTestId('finetune-message').textContent()) ?? '';
  const step = Number(/step (\d+)\/400/.exec(text)![1]);
  expect(step).toBeGreaterThan(paused.result.steps);
  // The bar counts training steps (not case preparation), and the pause's message is gone.
  expect(Number(/^(\d+)%/.exec(text)![1])).toBe(Math.round((100 * step) / 400));
  await expect(page.getByTestId('finetune-result')).toBeHidden();
  await page.getByTestId('finetune-cancel').click();
  await expect(page.getByTestId('finetune-result')).toContainText(/Cancelled at step \d+\/400/);
  await expect(page.getByTestId('finetune-button')).toBeEnabled();
  await expect(page.getByTestId('model-list').getByTestId('model-item')).toHaveCount(2);
  expect(problems).toEqual([]);
});
