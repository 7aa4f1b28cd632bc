// Whole-volume label tools run in a Web Worker on a CT-sized case: progress shows in the edit
// toolbar, the page stays usable meanwhile, cancel leaves the labels exactly as they were, and a
// completed run is one undo step that restores the exact voxels.
import { expect, test, type Page } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiCall } from './viewerPage';
import { hook, waitForLabels } from './labelPage';

test.describe.configure({ mode: 'serial' });

let shell: WebShell;
let page: Page;
let caseId = '';
const problems: string[] = [];

test.beforeAll(async ({ browser, request }) => {
  // CT-sized (512²×120) so that a smoothing pass takes seconds: long enough to cancel.
  shell = await startWebShell({ demoCases: 1, demoDims: [512, 512, 120], startTimeoutMs: 120_000 });
  caseId = (await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {}))[0].id;
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(shell.url);
  await waitForLabels(page, caseId);
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
});

/** FNV-1a of the editor's label voxels (the Viewer's test hook; the volume is too big to copy out). */
const labelHash = () =>
  page.evaluate(() =>
    (globalThis as unknown as { __deformuxLabels: { hash(): number | null } }).__deformuxLabels.hash(),
  );
const counts = () => hook<number[]>(page, 'counts');

test('smoothing shows progress, the page stays usable, and cancel leaves the labels untouched', async () => {
  test.setTimeout(120_000);
  const hash0 = await labelHash();
  const counts0 = await counts();
  expect(counts0[1], 'the phantom has segment 1').toBeGreaterThan(1000);
  await page.keyboard.press('Shift+Digit1');
  // Closing (two filters) is the slowest smoothing: the most time to act while it runs.
  await page.getByTestId('smooth-method').selectOption('close');
  await page.getByTestId('action-smooth').click();
  await expect(page.getByTestId('tool-progress')).toBeVisible();
  // The main thread is free: another control answers while the worker still runs.
  const outline = page.getByTestId('outline-toggle');
  const wasOutlined = await outline.isChecked();
  await outline.click();
  await expect(outline).toBeChecked({ checked: !wasOutlined });
  await expect(page.getByTestId('tool-progress')).toBeVisible();
  await expect(page.getByTestId('action-smooth')).toBeDisabled();
  // The worker reports how far it is.
  await expect
    .poll(async () => Number(await page.getByTestId('tool-progress').getAttribute('value')))
    .toBeGreaterThan(0);
  await page.getByTestId('tool-cancel').click();
  await expect(page.getByTestId('tool-progress')).toHaveCount(0);
  await expect(page.getByTestId('action-message')).toContainText('cancelled');
  expect(await labelHash()).toBe(hash0);
  expect(await counts()).toEqual(counts0);
  await expect(page.getByTestId('undo-button')).toBeDisabled();
  await outline.click();
  // Esc cancels too.
  await page.getByTestId('action-smooth').click();
  await expect(page.getByTestId('tool-progress')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('tool-progress')).toHaveCount(0);
  await expect(page.getByTestId('action-message')).toContainText('cancelled');
  expect(await labelHash()).toBe(hash0);
});

test('a completed run changes the labels as one undo step; undo restores the exact voxels', async () => {
  test.setTimeout(120_000);
  const hash0 = await labelHash();
  const counts0 = await counts();
  // The median filter surely moves some of the phantom's boundary voxels.
  await page.getByTestId('smooth-method').selectOption('median');
  await page.getByTestId('action-smooth').click();
  await expect(page.getByTestId('action-message')).toContainText('voxels changed', { timeout: 60_000 });
  await expect(page.getByTestId('tool-progress')).toHaveCount(0);
  expect(await labelHash()).not.toBe(hash0);
  expect((await counts())[1]).not.toBe(counts0[1]);
  // Cornerstone's copy follows the editor's array.
  expect(await hook<number[]>(page, 'overlayCounts')).toEqual(await counts());
  await page.getByTestId('undo-button').click();
  await expect.poll(labelHash).toBe(hash0);
  expect(await counts()).toEqual(counts0);
  await expect(page.getByTestId('undo-button')).toBeDisabled();
  expect(await hook<number[]>(page, 'overlayCounts')).toEqual(counts0);
  expect(problems).toEqual([]);
});
