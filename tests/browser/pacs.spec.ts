// The PACS worklist in the web shell against a real Orthanc: link the project, the remote study appears
// with its state, opens (retrieve with progress), is pre-labelled and submitted, and its SEG is stored
// on the server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { generatePhantom } from '../../src-main/phantom';
import { HAS_ORTHANC, startOrthanc, uploadToOrthanc, type RunningOrthanc } from '../dicomweb/orthanc';
import { phantomToDicom, type PhantomSeries } from '../dicomweb/phantom-dicom';
import { writeTinyModel } from '../predict-cli/tiny-model';
import { startWebShell, type WebShell } from './webShell';
import { apiCall } from './viewerPage';
import { caseData, hook, pageAt, waitForLabels } from './labelPage';

test.describe.configure({ mode: 'serial' });
test.skip(!HAS_ORTHANC, 'Orthanc with the DICOMweb plugin is not installed');

let shell: WebShell;
let page: Page;
let orthanc: RunningOrthanc;
let series: PhantomSeries;
let modelsDir = '';
const problems: string[] = [];

test.beforeAll(async ({ browser }) => {
  orthanc = await startOrthanc();
  series = phantomToDicom(generatePhantom({ seed: 8, schema: 'kidney', dims: [48, 48, 20] }).image, {
    patientId: 'PACS-01',
  });
  await uploadToOrthanc(orthanc.rest, series.files);
  modelsDir = mkdtempSync(join(tmpdir(), 'deformux-pacs-models-'));
  await writeTinyModel(modelsDir, 'kidney', 'kidney-lite', [12, 12, 12]);
  process.env.DEFORMUX_MODELS_DIR = modelsDir; // inherited by the web shell process
  shell = await startWebShell({ demoCases: 1, demoDims: [32, 32, 16] });
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(shell.url);
  await expect(page.getByTestId('case-item')).toHaveCount(1);
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
  await orthanc?.stop();
  delete process.env.DEFORMUX_MODELS_DIR;
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

test('link, open a remote study with progress, pre-label, submit, store its SEG on the server', async ({ request }) => {
  await page.getByTestId('pacs-url').fill(orthanc.dicomweb);
  await page.getByTestId('pacs-link').click();
  const study = page.getByTestId('pacs-study');
  await expect(study).toHaveCount(1);
  await expect(study).toContainText('PACS-01');
  await expect(study.getByTestId('pacs-state')).toHaveText('remote');

  // Progress shows while the series comes in (the events also reach the page after it ends).
  const progressSeen = page.getByTestId('pacs-progress').waitFor({ state: 'visible', timeout: 20_000 });
  await study.getByTestId('pacs-open').click();
  await progressSeen;
  await expect(page.getByTestId('case-item')).toHaveCount(2);
  await expect(study.getByTestId('pacs-state')).toHaveText('cached');
  const cases = await apiCall<{ id: string; name: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  const remoteCase = cases.find((c) => c.name.startsWith('PACS-01'))!;
  await expect(page.locator(`[data-testid="case-item"][data-case-id="${remoteCase.id}"]`)).toHaveAttribute(
    'aria-current',
    'true',
  );

  await page.getByTestId('prelabel-button').click();
  await expect(page.getByTestId('job-result')).toContainText('Pre-labelled 1 of 1 case', { timeout: 60_000 });
  await expect(study.getByTestId('pacs-state')).toHaveText('pre-labelled');
  // The tiny test model finds nothing: the annotator paints a kidney stroke before submitting.
  await waitForLabels(page, remoteCase.id);
  const { header } = await caseData(request, { origin: shell.origin, token: shell.token }, remoteCase.id);
  await page.keyboard.press('b');
  const at = await pageAt(page, header, 'axial', [24, 24, 10]);
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  await page.mouse.move(at.x + 15, at.y + 5, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => (await hook<number[]>(page, 'counts'))[1] ?? 0).toBeGreaterThan(0);
  await page.getByTestId('submit-case').click();
  await expect(study.getByTestId('pacs-state')).toHaveText('submitted');

  await page.getByTestId('pacs-store-seg').click();
  await expect(page.getByTestId('pacs-message')).toContainText('SEG stored');
  await expect(study.getByTestId('pacs-state')).toHaveText('stored');
  const segs = (await (
    await fetch(`${orthanc.dicomweb}/studies/${series.studyUid}/series?Modality=SEG`)
  ).json()) as unknown[];
  expect(segs).toHaveLength(1);
  expect(problems).toEqual([]);
});
