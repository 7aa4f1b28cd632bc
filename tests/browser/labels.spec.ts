// The correction workflow in the web shell with real mouse events: the brush paints the active
// segment (exact disc, locked class protected), the threshold brush keeps to its HU range, scissors
// erase a rectangle on the slice, undo/redo restore exact voxels, autosave writes a version that the
// API and a reload both show, submit marks the case, and the NIfTI export reads back in nibabel.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiCall, VIEWS, waitForRender } from './viewerPage';
import {
  axialAxis,
  caseData,
  changedIndices,
  countOf,
  hook,
  labelData,
  pageAt,
  snapshot,
  waitForLabels,
  type CaseData,
  type VersionRow,
} from './labelPage';

test.describe.configure({ mode: 'serial' });

// Debian's python3 carries python3-nibabel; a pyenv shim earlier on PATH may not.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

let shell: WebShell;
let page: Page;
let data: CaseData;
let caseId: string;
const problems: string[] = [];
let allowFailedUploads = false;

test.beforeAll(async ({ browser, request }) => {
  shell = await startWebShell({ demoCases: 2, demoDims: [64, 64, 32] });
  const cases = await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  caseId = cases[0].id;
  data = await caseData(request, shell, caseId);
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    // The failed-save test makes uploads fail on purpose; Chromium logs each such response.
    if (m.type() === 'error' && !(allowFailedUploads && /status of 500/.test(m.text()))) problems.push(m.text());
  });
  await page.goto(shell.url);
  for (const v of VIEWS) await waitForRender(page, v, 0);
  await waitForLabels(page, caseId);
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
});

/** The shown axial slice and its in-plane axes. */
async function plane(): Promise<{ axis: number; slice: number; a: number; b: number }> {
  const axis = axialAxis(data.header);
  const slice = Number(await page.getByTestId('viewport-axial').getAttribute('data-slice-index'));
  const [a, b] = [0, 1, 2].filter((x) => x !== axis);
  return { axis, slice, a, b };
}

function index(ijk: number[]): number {
  const [ni, nj] = data.header.dims;
  return (ijk[2] * nj + ijk[1]) * ni + ijk[0];
}

/** Voxels of the shown slice within radiusMm of an in-plane centre (voxel coordinates). */
function disc(p: Awaited<ReturnType<typeof plane>>, ca: number, cb: number, radiusMm: number): number[] {
  const s = data.header.spacingMm;
  const out: number[] = [];
  for (let u = 0; u < data.header.dims[p.a]; u++)
    for (let v = 0; v < data.header.dims[p.b]; v++) {
      if (Math.hypot((u - ca) * s[p.a], (v - cb) * s[p.b]) > radiusMm) continue;
      const ijk = [0, 0, 0];
      ijk[p.axis] = p.slice;
      ijk[p.a] = u;
      ijk[p.b] = v;
      out.push(index(ijk));
    }
  return out;
}

async function click(ijk: number[]): Promise<void> {
  const at = await pageAt(page, data.header, 'axial', ijk);
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  await page.mouse.up();
}

/** Sets the brush radius (the editor keeps 0.01 mm); returns the radius in use. */
async function setRadius(wantedMm: number): Promise<number> {
  const mm = Math.round(wantedMm * 100) / 100;
  await page.getByTestId('brush-radius').fill(String(mm));
  await page.getByTestId('brush-radius').press('Enter');
  await expect(page.getByTestId('brush-radius')).toHaveValue(String(mm));
  return mm;
}

/** The in-plane voxel of class `value` on the shown slice nearest the class's centre there. */
function voxelOf(p: Awaited<ReturnType<typeof plane>>, labels: Uint8Array, value: number): number[] {
  const hits: number[][] = [];
  for (let u = 0; u < data.header.dims[p.a]; u++)
    for (let v = 0; v < data.header.dims[p.b]; v++) {
      const ijk = [0, 0, 0];
      ijk[p.axis] = p.slice;
      ijk[p.a] = u;
      ijk[p.b] = v;
      if (labels[index(ijk)] === value) hits.push(ijk);
    }
  expect(hits.length, `class ${value} on the shown axial slice`).toBeGreaterThan(4);
  const mean = [0, 1, 2].map((x) => hits.reduce((s, h) => s + h[x], 0) / hits.length);
  hits.sort((h1, h2) => Math.hypot(...h1.map((x, i) => x - mean[i])) - Math.hypot(...h2.map((x, i) => x - mean[i])));
  return hits[0];
}

test('the latest label version is shown on open, in step with Cornerstone', async () => {
  expect(await snapshot(page)).toEqual(data.labels);
  const counts = await hook<number[]>(page, 'counts');
  expect(await hook<number[]>(page, 'overlayCounts')).toEqual(counts);
  expect(counts[1]).toBe(countOf(data.labels, 1));
  await expect(page.getByTestId('version-item')).toHaveCount(data.versions.length);
});

test('the brush paints an exact disc of the active segment and spares a locked class', async () => {
  const p = await plane();
  const before = await snapshot(page);
  await page.getByTestId('tool-brush').click();
  await page.keyboard.press('Shift+Digit2'); // tumor
  // 2.5 voxels: no voxel centre lies near the disc's edge, so pixel rounding of the click cannot matter.
  const radiusMm = await setRadius(2.5 * data.header.spacingMm[p.a]);
  await page.getByTestId('segment-lock-1').click(); // kidney voxels must survive
  const centre = voxelOf(p, before, 1);
  await click(centre);
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  const after = await snapshot(page);
  const expected = disc(p, centre[p.a], centre[p.b], radiusMm).filter((n) => before[n] !== 1 && before[n] !== 2);
  expect(changedIndices(before, after).sort((x, y) => x - y)).toEqual(expected.sort((x, y) => x - y));
  for (const n of expected) expect(after[n]).toBe(2);
  await page.getByTestId('segment-lock-1').click();
  expect(await hook<number[]>(page, 'overlayCounts')).toEqual(await hook<number[]>(page, 'counts'));
});

test('a brush drag paints along the stroke on the shown slice only', async () => {
  const p = await plane();
  const before = await snapshot(page);
  const from = [0, 0, 0];
  from[p.axis] = p.slice;
  from[p.a] = 8;
  from[p.b] = 8;
  const to = [...from];
  to[p.a] = 24;
  const a = await pageAt(page, data.header, 'axial', from);
  const b = await pageAt(page, data.header, 'axial', to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 6 });
  await page.mouse.up();
  const changed = changedIndices(before, await snapshot(page));
  const sliceSize = data.header.dims[0] * data.header.dims[1];
  expect(changed.length).toBeGreaterThan(16);
  for (const n of changed) expect(Math.floor(n / sliceSize), 'changed voxel on the shown slice').toBe(p.slice);
});

test('the threshold brush paints only voxels inside the HU range', async () => {
  const p = await plane();
  const before = await snapshot(page);
  const centre = voxelOf(p, before, 1);
  const radiusMm = Math.round(5.5 * data.header.spacingMm[p.a] * 100) / 100;
  const inDisc = disc(p, centre[p.a], centre[p.b], radiusMm);
  // A range holding about half the disc's voxels, from the image itself.
  const hu = inDisc.map((n) => data.image[n]).sort((x, y) => x - y);
  const low = Math.floor(hu[Math.floor(hu.length * 0.3)]);
  const high = Math.ceil(hu[Math.floor(hu.length * 0.7)]);
  await page.getByTestId('tool-threshold').click();
  await page.keyboard.press('Shift+Digit3'); // cyst
  await page.getByTestId('hu-low').fill(String(low));
  await page.getByTestId('hu-low').press('Enter');
  await page.getByTestId('hu-high').fill(String(high));
  await page.getByTestId('hu-high').press('Enter');
  await setRadius(radiusMm);
  await click(centre);
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  const expected = inDisc.filter((n) => before[n] !== 3 && data.image[n] >= low && data.image[n] <= high);
  const outside = inDisc.filter((n) => data.image[n] < low || data.image[n] > high);
  expect(outside.length, 'the range must leave out part of the disc').toBeGreaterThan(0);
  const changed = changedIndices(before, await snapshot(page));
  expect(changed.sort((x, y) => x - y)).toEqual(expected.sort((x, y) => x - y));
});

test('scissors erase a rectangle on the slice; undo and redo restore exact voxels', async () => {
  const p = await plane();
  const before = await snapshot(page);
  const centre = voxelOf(p, before, 1);
  await page.getByTestId('tool-scissors').click();
  await page.getByTestId('scissors-erase').check();
  // Corners on voxel boundaries, so the rectangle's voxels are unambiguous: 7 × 5 voxels.
  const c0 = [...centre];
  const c1 = [...centre];
  c0[p.a] -= 3.5;
  c0[p.b] -= 2.5;
  c1[p.a] += 3.5;
  c1[p.b] += 2.5;
  const a = await pageAt(page, data.header, 'axial', c0);
  const b = await pageAt(page, data.header, 'axial', c1);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 4 });
  await page.mouse.up();
  const erased = await snapshot(page);
  const expected: number[] = [];
  for (let du = -3; du <= 3; du++)
    for (let dv = -2; dv <= 2; dv++) {
      const ijk = [...centre];
      ijk[p.a] += du;
      ijk[p.b] += dv;
      if (before[index(ijk)] !== 0) expected.push(index(ijk));
    }
  expect(expected.length).toBeGreaterThan(0);
  expect(changedIndices(before, erased).sort((x, y) => x - y)).toEqual(expected.sort((x, y) => x - y));
  for (const n of expected) expect(erased[n]).toBe(0);

  await page.getByTestId('undo-button').click();
  expect(await snapshot(page)).toEqual(before);
  await page.keyboard.press('Control+z'); // the threshold stroke
  const twoBack = await snapshot(page);
  expect(countOf(twoBack, 3)).toBeLessThan(countOf(before, 3));
  await page.keyboard.press('Control+Shift+Z');
  expect(await snapshot(page)).toEqual(before);
  await page.getByTestId('redo-button').click();
  expect(await snapshot(page)).toEqual(erased);
  expect(await hook<number[]>(page, 'overlayCounts')).toEqual(await hook<number[]>(page, 'counts'));
});

test('autosave writes an edit version that the API and a reload both show', async ({ request }) => {
  const edited = await snapshot(page);
  await expect.poll(() => hook<boolean>(page, 'dirty'), { timeout: 15_000 }).toBe(false);
  await expect(page.getByTestId('save-status')).toHaveText(/^Saved v\d+$/, { timeout: 15_000 });
  const versions = await apiCall<VersionRow[]>(request, shell.origin, shell.token, 'cases.labelVersions', { caseId });
  const last = versions.at(-1)!;
  expect(last.kind).toBe('edit');
  expect(last.version).toBeGreaterThan(data.versions.at(-1)!.version);
  await expect(page.getByTestId('save-status')).toHaveText(`Saved v${last.version}`);
  expect(await labelData(request, shell, caseId, last.version)).toEqual(edited);
  await expect(page.getByTestId('version-item')).toHaveCount(versions.length);

  await page.reload();
  await waitForLabels(page, caseId);
  expect(await snapshot(page)).toEqual(edited);
  expect(await hook<number | null>(page, 'baseVersion')).toBe(last.version);
});

test('a failed save says so and is retried until the edits are stored', async ({ request }) => {
  const p = await plane();
  const before = await snapshot(page);
  let failures = 0;
  allowFailedUploads = true;
  await page.route('**/api/upload/**', async (route) => {
    failures++;
    await route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'disk full' }) });
  });
  await page.keyboard.press('b');
  await page.keyboard.press('Shift+Digit1');
  const at = [0, 0, 0];
  at[p.axis] = p.slice;
  at[p.a] = 12;
  at[p.b] = Math.floor(data.header.dims[p.b] / 2);
  await click(at);
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  const edited = await snapshot(page);
  await expect(page.getByTestId('save-status')).toContainText('disk full', { timeout: 15_000 });
  expect(failures).toBeGreaterThan(0);
  await page.unroute('**/api/upload/**');
  allowFailedUploads = false;
  await expect(page.getByTestId('save-status')).toHaveText(/^Saved v\d+$/, { timeout: 15_000 });
  const versions = await apiCall<VersionRow[]>(request, shell.origin, shell.token, 'cases.labelVersions', { caseId });
  expect(await labelData(request, shell, caseId, versions.at(-1)!.version)).toEqual(edited);
});

test('submit saves a submitted version and export writes a NIfTI that nibabel reads', async ({ request }) => {
  const labels = await snapshot(page);
  await page.getByTestId('submit-case').click();
  await expect(page.getByTestId('save-status')).toHaveText(/^Submitted v\d+$/, { timeout: 15_000 });
  const cases = await apiCall<{ id: string; status: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  expect(cases.find((c) => c.id === caseId)?.status).toBe('submitted');

  await page.getByTestId('export-button').click();
  await expect(page.getByTestId('export-path')).toBeVisible({ timeout: 15_000 });
  const path = (await page.getByTestId('export-path').textContent())!.trim();
  expect(existsSync(path), path).toBe(true);
  // nibabel, independent of our writer: shape and voxel counts per class.
  const out = execFileSync(PYTHON, [
    '-c',
    'import sys, json, nibabel, numpy as np\n' +
      'a = np.asarray(nibabel.load(sys.argv[1]).dataobj)\n' +
      'print(json.dumps({"shape": list(a.shape), "counts": [int((a == v).sum()) for v in range(4)]}))',
    path,
  ]).toString();
  const read = JSON.parse(out) as { shape: number[]; counts: number[] };
  expect(read.shape.slice(0, 3)).toEqual(data.header.dims);
  expect(read.counts).toEqual([0, 1, 2, 3].map((v) => countOf(labels, v)));
});

test('tool keys, brush size by [ ] and Ctrl+wheel, and the cheat sheet', async () => {
  for (const [key, tool] of [
    ['e', 'eraser'],
    ['t', 'threshold'],
    ['s', 'scissors'],
    ['b', 'brush'],
  ] as const) {
    await page.keyboard.press(key);
    await expect(page.getByTestId(`tool-${tool}`)).toHaveAttribute('aria-pressed', 'true');
  }
  const radius = async () => Number(await page.getByTestId('brush-radius').inputValue());
  const r0 = await radius();
  await page.keyboard.press(']');
  await expect.poll(radius).toBeGreaterThan(r0);
  const r1 = await radius();
  await page.keyboard.press('[');
  await expect.poll(radius).toBeLessThan(r1);
  const r2 = await radius();
  const box = (await page.getByTestId('viewport-axial').boundingBox())!;
  const slice = await page.getByTestId('viewport-axial').getAttribute('data-slice-index');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -120);
  await page.keyboard.up('Control');
  await expect.poll(radius).toBeGreaterThan(r2);
  // Ctrl+wheel sized the brush; it must not have scrolled the slice too.
  expect(await page.getByTestId('viewport-axial').getAttribute('data-slice-index')).toBe(slice);
  await page.keyboard.press('?');
  await expect(page.getByTestId('cheat-sheet')).toBeVisible();
  await expect(page.getByTestId('cheat-sheet')).toContainText('Threshold brush');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('cheat-sheet')).toHaveCount(0);
});

test('the 3D sphere brush paints a ball across slices', async () => {
  const p = await plane();
  const before = await snapshot(page);
  await page.keyboard.press('g');
  await expect(page.getByTestId('brush-sphere')).toBeChecked();
  const s = data.header.spacingMm;
  const radiusMm = await setRadius(2.2 * Math.max(s[p.axis], s[p.a]));
  const centre = [0, 0, 0];
  centre[p.axis] = p.slice;
  centre[p.a] = Math.floor(data.header.dims[p.a] / 2);
  centre[p.b] = Math.floor(data.header.dims[p.b] / 2);
  await click(centre);
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  const changed = changedIndices(before, await snapshot(page));
  const [ni, nj] = data.header.dims;
  const slices = new Set<number>();
  for (const n of changed) {
    const ijk = [n % ni, Math.floor(n / ni) % nj, Math.floor(n / (ni * nj))];
    slices.add(ijk[p.axis]);
    const d = Math.hypot(...[0, 1, 2].map((a) => (ijk[a] - centre[a]) * s[a]));
    expect(d, 'painted voxel inside the ball').toBeLessThanOrEqual(radiusMm + 0.5 * Math.max(...s));
  }
  expect(slices.size, 'slices the ball reaches').toBeGreaterThanOrEqual(3);
  await page.keyboard.press('g');
});

test('55 strokes undo back to the exact starting voxels and redo forward again', async () => {
  const p = await plane();
  const start = await snapshot(page);
  await page.keyboard.press('b');
  await page.keyboard.press('Shift+Digit2');
  await setRadius(0.6 * data.header.spacingMm[p.a]);
  const at = [0, 0, 0];
  at[p.axis] = p.slice;
  const strokes = 55;
  // A radius under one voxel paints just the voxel clicked; a click on tumour already changes
  // nothing and so makes no undo step.
  let steps = 0;
  for (let n = 0; n < strokes; n++) {
    // Distinct voxels on a grid, so every click is a step of its own.
    at[p.a] = 4 + (n % 11) * 5;
    at[p.b] = 4 + Math.floor(n / 11) * 5;
    if (start[index(at)] !== 2) steps++;
    await click(at);
  }
  const end = await snapshot(page);
  expect(steps).toBeGreaterThanOrEqual(50);
  expect(changedIndices(start, end).length).toBe(steps);
  for (let n = 0; n < steps; n++) await page.keyboard.press('Control+z');
  expect(await snapshot(page)).toEqual(start);
  for (let n = 0; n < steps; n++) await page.keyboard.press('Control+Shift+Z');
  expect(await snapshot(page)).toEqual(end);
  expect(await hook<number[]>(page, 'overlayCounts')).toEqual(await hook<number[]>(page, 'counts'));
});

test('the version list restores an earlier version, and switching cases saves it first', async ({ request }) => {
  const first = data.versions[0].version;
  await page.locator(`[data-testid="version-item"][data-version="${first}"] button`).click();
  const original = await labelData(request, shell, caseId, first);
  await expect.poll(async () => changedIndices(original, await snapshot(page)).length).toBe(0);
  // Straight to the other case: the restore must be saved on the way out.
  await page.getByTestId('case-item').nth(1).click();
  const cases = await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  await waitForLabels(page, cases[1].id);
  const versions = await apiCall<VersionRow[]>(request, shell.origin, shell.token, 'cases.labelVersions', { caseId });
  expect(versions.at(-1)!.kind).toBe('edit');
  expect(await labelData(request, shell, caseId, versions.at(-1)!.version)).toEqual(original);
});

test('clicking cases faster than they load ends on the last one clicked, with its own labels', async ({ request }) => {
  const cases = await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  const items = page.getByTestId('case-item');
  // No waiting between clicks: earlier switches are overtaken while their volume or labels are in flight.
  for (const n of [0, 1, 0, 1, 0, 1]) await items.nth(n).click({ noWaitAfter: true });
  const last = cases[1].id;
  await waitForLabels(page, last);
  const versions = await apiCall<VersionRow[]>(request, shell.origin, shell.token, 'cases.labelVersions', {
    caseId: last,
  });
  const other = await caseData(request, shell, last);
  const n = other.header.dims[0] * other.header.dims[1] * other.header.dims[2];
  const expected = versions.length
    ? await labelData(request, shell, last, versions.at(-1)!.version)
    : new Uint8Array(n);
  await expect.poll(async () => changedIndices(expected, await snapshot(page)).length).toBe(0);
  // Settled: nothing still in flight replaces them afterwards.
  await page.waitForTimeout(500);
  expect(await hook<string | null>(page, 'caseId')).toBe(last);
  expect(changedIndices(expected, await snapshot(page))).toEqual([]);
});

test('no errors in the browser console', () => {
  expect(problems).toEqual([]);
});
