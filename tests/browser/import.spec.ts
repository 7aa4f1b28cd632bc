// Importing CT from the app: a NIfTI file by path becomes a case in the worklist and opens; a bad path shows
// an error that names the file; files picked in the page upload and import; a dropped file that is
// already in the project is refused, naming the case that holds it; a folder of several series is listed by
// patient and study with thumbnails to choose from.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { REPO_ROOT, startWebShell, type WebShell } from './webShell';
import { apiCall } from './viewerPage';
import { generatePhantom } from '../../src-main/phantom';
import { phantomToDicom } from '../dicomweb/phantom-dicom';

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

test('a folder with two patients lists them with their studies and thumbnails; choosing one imports it', async () => {
  const folder = join(dataDir, 'two-patients');
  mkdirSync(folder);
  for (const [prefix, seed, patientId] of [
    ['a', 5, 'PAT-A'],
    ['b', 6, 'PAT-B'],
  ] as const) {
    const image = generatePhantom({ seed, schema: 'kidney', dims: [40, 40, 8], spacingMm: [8, 8, 8] }).image;
    phantomToDicom(image, { patientId }).files.forEach((f, k) => writeFileSync(join(folder, `${prefix}_${k}.dcm`), f));
  }
  await page.getByTestId('import-path').fill(folder);
  await page.getByTestId('import-button').click();
  await expect(page.getByTestId('import-message')).toHaveText('This folder holds several series: choose one.');
  await expect(page.getByTestId('import-study')).toHaveCount(2);
  await expect(page.getByTestId('import-study').first()).toContainText('2026-01-01');
  await expect(page.getByTestId('import-thumbnail')).toHaveCount(2);
  // The thumbnail is drawn: its canvas holds the picture's grey levels, not a blank.
  const drawn = await page
    .getByTestId('import-thumbnail')
    .first()
    .evaluate((c) => {
      const canvas = c as unknown as {
        width: number;
        height: number;
        getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      };
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let bright = 0;
      for (let n = 0; n < d.length; n += 4) if (d[n] > 100) bright++;
      return { w: canvas.width, bright };
    });
  expect(drawn.w).toBe(40);
  expect(drawn.bright).toBeGreaterThan(50);
  await page.getByTestId('import-study').filter({ hasText: 'PAT-B' }).getByTestId('import-series').click();
  await expect(page.getByTestId('import-message')).toContainText('Imported');
  await expect(page.getByTestId('case-item')).toHaveCount(4);
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
  await expect(page.getByTestId('case-item')).toHaveCount(4);
  expect(problems).toEqual([]);
});
