// Pre-label from the app in the web shell: the open case, cancel of a running "all" job, then all unlabelled cases.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiCall } from './viewerPage';
import { writeTinyModel } from '../predict-cli/tiny-model';

test.describe.configure({ mode: 'serial' });

let shell: WebShell;
let page: Page;
let modelsDir = '';
let caseIds: string[] = [];
const problems: string[] = [];

interface Version {
  kind: string;
  modelId: string | null;
}

test.beforeAll(async ({ browser, request }) => {
  // A tiny random-init model as the "starter" model; 12 mm spacing keeps the demo's sliding window to a few patches.
  modelsDir = mkdtempSync(join(tmpdir(), 'deformux-prelabel-models-'));
  await writeTinyModel(modelsDir, 'kidney', 'kidney-lite', [12, 12, 12]);
  process.env.DEFORMUX_MODELS_DIR = modelsDir; // inherited by the web shell process
  shell = await startWebShell({ demoCases: 2, demoDims: [64, 64, 32] });
  caseIds = (await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {})).map((c) => c.id);
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

test('Pre-label the open case: progress, then a prediction version and status prelabelled', async ({ request }) => {
  const button = page.getByTestId('prelabel-button');
  await expect(button).toBeEnabled();
  await button.click();
  await expect(page.getByTestId('job-progress')).toBeVisible();
  await expect(page.getByTestId('job-result')).toContainText('Pre-labelled 1 of 1 case');
  const versions = await apiCall<Version[]>(request, shell.origin, shell.token, 'cases.labelVersions', {
    caseId: caseIds[0],
  });
  expect(versions.map((v) => v.kind)).toEqual(['reference', 'prediction']);
  expect(versions[1].modelId).toMatch(/^kidney:kidney-lite@/);
  const cases = await apiCall<{ id: string; status: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  expect(cases.find((c) => c.id === caseIds[0])!.status).toBe('prelabelled');
  expect(cases.find((c) => c.id === caseIds[1])!.status).toBe('new');
});

test('Cancel stops a running job; Pre-label all then labels only the unlabelled case', async ({ request }) => {
  // The start request is held back until Cancel has been clicked: a cancel clicked before the app knows the job's
  // id must still reach the job. (Before, it was sent for job '' and lost, and the job ran to the end.)
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  // Matched on the path: the call's URL carries the token as a query, which a '**/api/jobs.prelabel' glob never
  // matches (the hold did not happen, and the test passed only when the click beat the job).
  const isStart = (url: URL) => url.pathname === '/api/jobs.prelabel';
  let heldRequests = 0;
  await page.route(isStart, async (route) => {
    heldRequests++;
    await held;
    await route.continue();
  });
  await page.getByTestId('prelabel-all-button').click();
  await page.getByTestId('job-cancel').click();
  await expect(page.getByTestId('job-message')).toContainText('Cancelling');
  release();
  await expect(page.getByTestId('job-result')).toContainText('Cancelled');
  await page.unroute(isStart);
  expect(heldRequests).toBe(1);
  const before = await apiCall<Version[]>(request, shell.origin, shell.token, 'cases.labelVersions', {
    caseId: caseIds[1],
  });
  expect(before.map((v) => v.kind)).toEqual(['reference']);

  await page.getByTestId('prelabel-all-button').click();
  await expect(page.getByTestId('job-result')).toContainText('Pre-labelled 1 of 1 case');
  const after = await apiCall<Version[]>(request, shell.origin, shell.token, 'cases.labelVersions', {
    caseId: caseIds[1],
  });
  expect(after.map((v) => v.kind)).toEqual(['reference', 'prediction']);
  expect(problems).toEqual([]);
});
