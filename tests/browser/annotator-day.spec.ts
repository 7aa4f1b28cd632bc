// An annotator's day in the web shell, checked from what the page shows: one pre-label job per case
// however fast the button is clicked, a finished pre-label appearing in the open case, autosave
// sending only the changed voxels, a restore recorded as such, a submitted label or unsaved edits
// never displaced without asking, and paint-fill bounded by the clicked label and an HU window (reset on case switch).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page, type Request } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiCall, VIEWS, waitForRender } from './viewerPage';
import { axialAxis, caseData, changedIndices, hook, labelData, pageAt, snapshot, waitForLabels } from './labelPage';
import { writeTinyModel } from '../predict-cli/tiny-model';

test.describe.configure({ mode: 'serial' });

interface Version {
  version: number;
  kind: string;
  submitted: boolean;
  restoredFrom: number | null;
}

let shell: WebShell;
let page: Page;
let modelsDir = '';
let caseIds: string[] = [];
const problems: string[] = [];
const saveBodies: number[] = [];

async function versions(request: Parameters<typeof apiCall>[0], caseId: string): Promise<Version[]> {
  return apiCall<Version[]>(request, shell.origin, shell.token, 'cases.labelVersions', { caseId });
}

test.beforeAll(async ({ browser, request }) => {
  modelsDir = mkdtempSync(join(tmpdir(), 'deformux-day-models-'));
  await writeTinyModel(modelsDir, 'kidney', 'kidney-lite', [12, 12, 12]);
  process.env.DEFORMUX_MODELS_DIR = modelsDir; // inherited by the web shell process
  shell = await startWebShell({ demoCases: 2, demoDims: [64, 64, 32] });
  caseIds = (await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {})).map((c) => c.id);
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('request', (r: Request) => {
    if (r.method() === 'POST' && r.url().includes('cases.saveLabel')) saveBodies.push(r.postDataBuffer()?.length ?? 0);
  });
  await page.goto(shell.url);
  for (const v of VIEWS) await waitForRender(page, v, 0);
  await waitForLabels(page, caseIds[0]);
  await expect(page.getByTestId('save-status')).toHaveText('Loaded v1');
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
  delete process.env.DEFORMUX_MODELS_DIR;
  rmSync(modelsDir, { recursive: true, force: true });
});

test('double-clicking Pre-label runs one job; its version loads into the open case without a re-click', async ({
  request,
}) => {
  const button = page.getByTestId('prelabel-button');
  await button.dblclick();
  await expect(button).toBeDisabled();
  await expect(page.getByTestId('job-result')).toContainText('Pre-labelled 1 of 1 case');
  // Let a duplicate job (if one was queued) finish too before counting versions.
  await expect(page.getByTestId('prelabel-button')).toBeEnabled();
  const jobs = await apiCall<{ kind: string }[]>(request, shell.origin, shell.token, 'jobs.list', {});
  expect(jobs.filter((j) => j.kind === 'prelabel')).toHaveLength(1);
  expect((await versions(request, caseIds[0])).map((v) => v.kind)).toEqual(['reference', 'prediction']);
  // The label panel follows: v2 is loaded and shown, and the editor holds its voxels.
  await expect(page.getByTestId('save-status')).toHaveText('Loaded v2');
  await expect(page.locator('[data-testid="version-item"][data-version="2"]')).toBeVisible();
  await expect.poll(() => hook<number | null>(page, 'baseVersion')).toBe(2);
  const v2 = await labelData(request, shell, caseIds[0], 2);
  expect(changedIndices(await snapshot(page), v2)).toEqual([]);
});

test('the API refuses a second pre-label of a case whose job is still queued or running', async ({ request }) => {
  const call = (ids: string[]) =>
    request.post(`${shell.origin}/api/jobs.prelabel`, {
      headers: { 'x-deformux-token': shell.token },
      data: { caseIds: ids },
    });
  const first = await call([caseIds[1]]);
  expect(first.status()).toBe(200);
  const second = await call([caseIds[1]]);
  expect(second.status()).toBe(409);
  expect(await second.text()).toContain('already being pre-labelled');
  await expect
    .poll(async () => (await versions(request, caseIds[1])).map((v) => v.kind), { timeout: 60_000 })
    .toEqual(['reference', 'prediction']);
});

test('a stroke autosaves as a sparse change (kilobytes, not the whole map)', async ({ request }) => {
  const data = await caseData(request, shell, caseIds[0]);
  const n = data.header.dims[0] * data.header.dims[1] * data.header.dims[2];
  const before = await snapshot(page);
  await page.keyboard.press('b');
  const axis = axialAxis(data.header);
  const slice = Number(await page.getByTestId('viewport-axial').getAttribute('data-slice-index'));
  const centre = [32, 32, 16];
  centre[axis] = slice;
  const at = await pageAt(page, data.header, 'axial', centre);
  saveBodies.length = 0;
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  await page.mouse.move(at.x + 12, at.y + 6, { steps: 4 });
  await page.mouse.up();
  await expect(page.getByTestId('save-status')).toHaveText('Saved v3', { timeout: 15_000 });
  const changed = changedIndices(before, await snapshot(page)).length;
  expect(changed).toBeGreaterThan(0);
  expect(saveBodies).toHaveLength(1);
  // Five bytes per changed voxel (uint32 index + uint8 value) instead of one byte per voxel of the case.
  expect(saveBodies[0]).toBe(changed * 5);
  expect(saveBodies[0]).toBeLessThan(n / 4);
  const saved = await labelData(request, shell, caseIds[0], 3);
  expect(changedIndices(await snapshot(page), saved)).toEqual([]);
});

test('restoring a version is recorded as "restored from vN"', async ({ request }) => {
  await page.locator('[data-testid="version-item"][data-version="1"] button').click();
  await expect(page.getByTestId('save-status')).toHaveText('Saved v4', { timeout: 15_000 });
  const v4 = (await versions(request, caseIds[0])).find((v) => v.version === 4)!;
  expect(v4.restoredFrom).toBe(1);
  await expect(page.locator('[data-testid="version-item"][data-version="4"]')).toContainText('restored from v1');
  const v1 = await labelData(request, shell, caseIds[0], 1);
  expect(changedIndices(await labelData(request, shell, caseIds[0], 4), v1)).toEqual([]);
});

test('pre-label of a submitted case asks first, and the finished pre-label never replaces the submitted label silently', async ({
  request,
}) => {
  await page.getByTestId('submit-case').click();
  await expect(page.getByTestId('save-status')).toHaveText('Submitted v5', { timeout: 15_000 });
  await expect(page.locator(`[data-case-id="${caseIds[0]}"]`)).toContainText(/submitted/i);
  const submitted = await snapshot(page);
  const dialogs: string[] = [];
  page.once('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
  await page.getByTestId('prelabel-button').click();
  await expect.poll(() => dialogs.length).toBe(1);
  expect(dialogs[0]).toContain('is submitted');
  await expect(page.getByTestId('job-result')).toContainText('Pre-labelled 1 of 1 case');
  await expect(page.getByTestId('incoming-prelabel')).toContainText('Pre-label v6 is ready');
  expect(await hook<number | null>(page, 'baseVersion')).toBe(5);
  expect(changedIndices(submitted, await snapshot(page))).toEqual([]);
  await page.getByTestId('incoming-keep').click();
  await expect(page.getByTestId('incoming-prelabel')).toBeHidden();

  // Reopening the case shows the submitted label too, and offers the newer pre-label again.
  await page.locator(`[data-case-id="${caseIds[1]}"]`).click();
  await waitForLabels(page, caseIds[1]);
  await page.locator(`[data-case-id="${caseIds[0]}"]`).click();
  await waitForLabels(page, caseIds[0]);
  await expect(page.getByTestId('save-status')).toHaveText('Loaded v5');
  await expect(page.getByTestId('incoming-prelabel')).toBeVisible();
  expect(changedIndices(submitted, await snapshot(page))).toEqual([]);
  // Cancelling the question starts no job.
  page.once('dialog', (d) => void d.dismiss());
  const jobsBefore = (await apiCall<unknown[]>(request, shell.origin, shell.token, 'jobs.list', {})).length;
  await page.getByTestId('prelabel-button').click();
  await expect(page.getByTestId('prelabel-button')).toBeEnabled();
  expect((await apiCall<unknown[]>(request, shell.origin, shell.token, 'jobs.list', {})).length).toBe(jobsBefore);
});

test('paint-fill keeps to the clicked label and an HU window around the click; the tool resets on case switch', async ({
  request,
}) => {
  const data = await caseData(request, shell, caseIds[0]);
  const [ni, nj] = data.header.dims;
  const axis = axialAxis(data.header);
  const slice = Number(await page.getByTestId('viewport-axial').getAttribute('data-slice-index'));
  const [a, b] = [0, 1, 2].filter((x) => x !== axis);
  const ijk = (u: number, v: number): number[] => {
    const p = [0, 0, 0];
    p[axis] = slice;
    p[a] = u;
    p[b] = v;
    return p;
  };
  const index = (p: number[]): number => (p[2] * nj + p[1]) * ni + p[0];
  const before = await snapshot(page);
  // Seed: a background (label 0) voxel inside the body, near the slice's centre.
  let seed: number[] | null = null;
  for (let r = 0; r < 20 && !seed; r++)
    for (let du = -r; du <= r && !seed; du++)
      for (let dv = -r; dv <= r && !seed; dv++) {
        const p = ijk(data.header.dims[a] / 2 + du, data.header.dims[b] / 2 + dv);
        if (before[index(p)] === 0 && data.image[index(p)] > -200) seed = p;
      }
  expect(seed, 'a soft-tissue background voxel near the centre').not.toBeNull();
  const seedHu = data.image[index(seed!)];
  const grow = (fits: (n: number) => boolean): Set<number> => {
    const region = new Set<number>([index(seed!)]);
    const queue = [[seed![a], seed![b]]];
    while (queue.length) {
      const [u, v] = queue.pop()!;
      for (const [x, y] of [
        [u + 1, v],
        [u - 1, v],
        [u, v + 1],
        [u, v - 1],
      ]) {
        if (x < 0 || y < 0 || x >= data.header.dims[a] || y >= data.header.dims[b]) continue;
        const n = index(ijk(x, y));
        if (!region.has(n) && fits(n)) {
          region.add(n);
          queue.push([x, y]);
        }
      }
    }
    return region;
  };
  const want = grow((n) => before[n] === 0 && Math.abs(data.image[n] - seedHu) <= 100);
  const wholeBackground = grow((n) => before[n] === 0);
  expect(want.size).toBeLessThan(wholeBackground.size);
  await page.keyboard.press('p');
  await page.keyboard.press('Shift+Digit1');
  const at = await pageAt(page, data.header, 'axial', seed!);
  await page.mouse.click(at.x, at.y);
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  expect(changedIndices(before, await snapshot(page)).sort((x, y) => x - y)).toEqual([...want].sort((x, y) => x - y));
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('tool-fill')).toHaveAttribute('aria-pressed', 'true');
  await page.locator(`[data-case-id="${caseIds[1]}"]`).click();
  await waitForLabels(page, caseIds[1]);
  await expect(page.getByTestId('tool-fill')).toHaveAttribute('aria-pressed', 'false');
  expect(problems).toEqual([]);
});

test('a pre-label finishing over unsaved edits is offered; loading it saves the edits first', async ({ request }) => {
  const caseId = caseIds[1];
  const data = await caseData(request, shell, caseId);
  const base = data.versions.at(-1)!.version;
  // Saves fail meanwhile, so the edits stay unsaved when the pre-label lands.
  await page.route('**/api/upload/**', (route) =>
    route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'disk full' }) }),
  );
  const before = await snapshot(page);
  await page.keyboard.press('b');
  const axis = axialAxis(data.header);
  const centre = [32, 32, 16];
  centre[axis] = Number(await page.getByTestId('viewport-axial').getAttribute('data-slice-index'));
  const at = await pageAt(page, data.header, 'axial', centre);
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  await page.mouse.move(at.x + 10, at.y + 4, { steps: 3 });
  await page.mouse.up();
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  const edited = await snapshot(page);
  await page.getByTestId('prelabel-button').click();
  await expect(page.getByTestId('job-result')).toContainText('Pre-labelled 1 of 1 case');
  const prediction = base + 1;
  await expect(page.getByTestId('incoming-prelabel')).toContainText(`Pre-label v${prediction} is ready`);
  await expect(page.getByTestId('incoming-prelabel')).toContainText('unsaved edits are saved first');
  // Nothing was displaced: the editor still holds the edits on the old base.
  expect(await hook<number | null>(page, 'baseVersion')).toBe(base);
  expect(changedIndices(edited, await snapshot(page))).toEqual([]);

  await page.unroute('**/api/upload/**');
  await page.getByTestId('incoming-load').click();
  await expect(page.getByTestId('save-status')).toHaveText(`Loaded v${prediction}`, { timeout: 15_000 });
  const rows = await versions(request, caseId);
  const saved = rows.find((v) => v.version > prediction && v.kind === 'edit')!;
  expect(saved, 'the unsaved edits became their own version').toBeDefined();
  expect(changedIndices(await labelData(request, shell, caseId, saved.version), edited)).toEqual([]);
  const predicted = await labelData(request, shell, caseId, prediction);
  expect(changedIndices(await snapshot(page), predicted)).toEqual([]);
  expect(problems.filter((p) => !/status of 500/.test(p))).toEqual([]);
});
