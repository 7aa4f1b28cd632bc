// Importing CT from the app: a NIfTI file by path becomes a case in the worklist and opens; a bad path shows
// an error that names the file; files picked in the page upload and import; a dropped file that is
// already in the project is refused, naming the case that holds it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { REPO_ROOT, startWebShell, type WebShell } from './webShell';
import { apiCall } from './viewerPage';

test.describe.configure({ mode: 'serial' });

let shell: WebShell;
let page: Page;
let dataDir = '';
const problems: string[] = [];

test.beforeAll(async ({ browser }) => {
  dataDir = mkdtempSync(join(tmpdir(), 'deformux-import-'));
  // An independent file to import: a phantom written by the CLI (not through the store).
  execFileSync(
    process.execPath,
    ['bin/deformux.mjs', 'phantom', '--out', dataDir, '--cases', '2', '--seed', '77', '--dims', '40,36,24'],
    { cwd: REPO_ROOT, stdio: 'ignore' },
  );
  writeFileSync(join(dataDir, 'broken.nii.gz'), Buffer.from('not a nifti file at all'));
  shell = await startWebShell({ demoCases: 1, demoDims: [48, 48, 24] });
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(shell.url);
  await expect(page.getByTestId('case-item')).toHaveCount(1);
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a NIfTI path imports as a new case with its own geometry, and opens', async ({ request }) => {
  await page.getByTestId('import-path').fill(join(dataDir, 'case_000_image.nii.gz'));
  await page.getByTestId('import-button').click();
  await expect(page.getByTestId('import-message')).toContainText('Imported');
  await expect(page.getByTestId('case-item')).toHaveCount(2);
  const cases = await apiCall<{ id: string; dims: number[] }[]>(request, shell.origin, shell.token, 'cases.list', {});
  const imported = cases.find((c) => c.dims.join(',') === '40,36,24');
  expect(imported, 'the imported case keeps the file dims').toBeTruthy();
  await expect(page.locator(`[data-testid="case-item"][data-case-id="${imported!.id}"]`)).toHaveAttribute(
    'aria-current',
    'true',
  );
});

test('a corrupt file is refused with a message naming it, and nothing is added', async () => {
  await page.getByTestId('import-path').fill(join(dataDir, 'broken.nii.gz'));
  await page.getByTestId('import-button').click();
  await expect(page.getByTestId('import-error')).toContainText('broken.nii.gz');
  await expect(page.getByTestId('case-item')).toHaveCount(2);
});

test('files picked in the page are uploaded and imported, named after the file', async ({ request }) => {
  await page.getByTestId('import-files').setInputFiles(join(dataDir, 'case_001_image.nii.gz'));
  await expect(page.getByTestId('import-message')).toHaveText('Imported case_001_image');
  await expect(page.getByTestId('case-item')).toHaveCount(3);
  const cases = await apiCall<{ name: string; source: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  expect(cases.map((c) => c.name)).toContain('case_001_image');
});

test('a dropped file already in the project is refused, naming the case that holds it', async () => {
  const bytes = readFileSync(join(dataDir, 'case_000_image.nii.gz')).toString('base64');
  const dataTransfer = await page.evaluateHandle((b64) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    // Runs in the page: DataTransfer and File are the browser's (the test's tsconfig has no DOM types).
    const g = globalThis as unknown as {
      DataTransfer: new () => { items: { add(f: unknown): void } };
      File: new (parts: Uint8Array[], name: string) => unknown;
    };
    const dt = new g.DataTransfer();
    dt.items.add(new g.File([raw], 'case_000_image.nii.gz'));
    return dt;
  }, bytes);
  await page.getByTestId('import-form').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('import-error')).toContainText(
    "the same image is already in this project as case 'case_000_image'",
  );
  await expect(page.getByTestId('case-item')).toHaveCount(3);
  expect(problems).toEqual([]);
});
