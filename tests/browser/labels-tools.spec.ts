// The correction tools of issue 6 in the web shell with real mouse events and keys: circle
// scissors (slice and 3D), paint-fill, island removal (K), clear + interpolation between edited
// slices (I), relabel, and the case statistics / DICOM SEG refusal for a non-DICOM case. Every
// check compares exact voxels with a reference computed here from the snapshot before the action.
import { expect, test, type Page } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiCall, VIEWS, waitForRender } from './viewerPage';
import { axialAxis, caseData, changedIndices, hook, pageAt, snapshot, waitForLabels, type CaseData } from './labelPage';

test.describe.configure({ mode: 'serial' });

let shell: WebShell;
let page: Page;
let data: CaseData;
let caseId: string;
const problems: string[] = [];

test.beforeAll(async ({ browser, request }) => {
  shell = await startWebShell({ demoCases: 1, demoDims: [48, 48, 20] });
  const cases = await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  caseId = cases[0].id;
  data = await caseData(request, shell, caseId);
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    // The refused DICOM SEG export answers 400 on purpose; Chromium logs that response.
    if (m.type() === 'error' && !/status of 400/.test(m.text())) problems.push(m.text());
  });
  await page.goto(shell.url);
  for (const v of VIEWS) await waitForRender(page, v, 0);
  await waitForLabels(page, caseId);
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
});

interface Plane {
  axis: number;
  slice: number;
  a: number;
  b: number;
}

async function plane(): Promise<Plane> {
  const axis = axialAxis(data.header);
  const slice = Number(await page.getByTestId('viewport-axial').getAttribute('data-slice-index'));
  const [a, b] = [0, 1, 2].filter((x) => x !== axis);
  return { axis, slice, a, b };
}

function index(ijk: number[]): number {
  const [ni, nj] = data.header.dims;
  return (ijk[2] * nj + ijk[1]) * ni + ijk[0];
}

function ijkOf(p: Plane, s: number, u: number, v: number): number[] {
  const ijk = [0, 0, 0];
  ijk[p.axis] = s;
  ijk[p.a] = u;
  ijk[p.b] = v;
  return ijk;
}

function sorted(xs: number[]): number[] {
  return [...xs].sort((x, y) => x - y);
}

async function drag(from: number[], to: number[], steps = 4): Promise<void> {
  const a = await pageAt(page, data.header, 'axial', from);
  const b = await pageAt(page, data.header, 'axial', to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps });
  await page.mouse.up();
}

/**
 * A radius (mm) between minVoxels and maxVoxels (in-plane) whose distance to every voxel-centre offset is largest,
 * so that sub-pixel rounding of the mouse cannot move a voxel across the rim.
 */
function safeRadiusMm(p: Plane, minVoxels = 2, maxVoxels = 3.5): number {
  const s = data.header.spacingMm;
  const d: number[] = [];
  for (let du = -5; du <= 5; du++) for (let dv = -5; dv <= 5; dv++) d.push(Math.hypot(du * s[p.a], dv * s[p.b]));
  let best = 0;
  let margin = -1;
  for (let r = minVoxels * s[p.a]; r <= maxVoxels * s[p.a]; r += 0.01 * s[p.a]) {
    const m = Math.min(...d.map((x) => Math.abs(x - r)));
    if (m > margin) [best, margin] = [r, m];
  }
  expect(margin / s[p.a], 'rim margin in voxels').toBeGreaterThan(0.15);
  return best;
}

/** In-plane voxel offsets within radiusMm of a voxel centre. */
function discAt(p: Plane, s: number, cu: number, cv: number, radiusMm: number): number[] {
  const sp = data.header.spacingMm;
  const out: number[] = [];
  for (let u = 0; u < data.header.dims[p.a]; u++)
    for (let v = 0; v < data.header.dims[p.b]; v++)
      if (Math.hypot((u - cu) * sp[p.a], (v - cv) * sp[p.b]) <= radiusMm) out.push(index(ijkOf(p, s, u, v)));
  return out;
}

/** Circle scissors drag from a voxel centre to the rim at radiusMm along the in-plane axis a. */
async function circle(p: Plane, cu: number, cv: number, radiusMm: number): Promise<void> {
  await drag(ijkOf(p, p.slice, cu, cv), ijkOf(p, p.slice, cu + radiusMm / data.header.spacingMm[p.a], cv));
}

test('circle scissors fill a disc on the slice, then erase it through the volume in 3D', async () => {
  const p = await plane();
  const before = await snapshot(page);
  await page.keyboard.press('c');
  await expect(page.getByTestId('tool-circle')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('Shift+Digit2');
  const r = safeRadiusMm(p);
  const [cu, cv] = [Math.floor(data.header.dims[p.a] / 2), Math.floor(data.header.dims[p.b] / 2)];
  await circle(p, cu, cv, r);
  const filled = await snapshot(page);
  const disc = discAt(p, p.slice, cu, cv, r);
  expect(sorted(changedIndices(before, filled))).toEqual(sorted(disc.filter((n) => before[n] !== 2)));
  for (const n of disc) expect(filled[n]).toBe(2);

  await page.keyboard.press('d');
  await expect(page.getByTestId('scissors-3d')).toBeChecked();
  await page.getByTestId('segment-lock-1').click(); // kidney must survive the 3D cuts
  const through: number[] = [];
  for (let s = 0; s < data.header.dims[p.axis]; s++) through.push(...discAt(p, s, cu, cv, r));
  // Fill in 3D: every slice's disc, except kidney voxels.
  await circle(p, cu, cv, r);
  const filled3d = await snapshot(page);
  const want = through.filter((n) => filled[n] !== 2 && filled[n] !== 1);
  expect(want.length).toBeGreaterThan(disc.length);
  expect(sorted(changedIndices(filled, filled3d))).toEqual(sorted(want));
  // Erase in 3D: the same cylinder back to background, kidney still spared.
  await page.getByTestId('scissors-erase').check();
  await circle(p, cu, cv, r);
  const erased = await snapshot(page);
  const gone = through.filter((n) => filled3d[n] !== 0 && filled3d[n] !== 1);
  expect(sorted(changedIndices(filled3d, erased))).toEqual(sorted(gone));
  for (const n of gone) expect(erased[n]).toBe(0);
  await page.getByTestId('segment-lock-1').click();
  await page.getByTestId('scissors-3d').uncheck();
  await page.getByTestId('scissors-erase').uncheck();
  await page.getByTestId('undo-button').click();
  expect(await snapshot(page)).toEqual(filled3d);
  await page.getByTestId('undo-button').click();
  expect(await snapshot(page)).toEqual(filled);
  expect(await hook<number[]>(page, 'overlayCounts')).toEqual(await hook<number[]>(page, 'counts'));
});

test('paint-fill (label only) fills the 4-connected region of the clicked label on the slice', async () => {
  const p = await plane();
  const before = await snapshot(page);
  // Seed: the kidney voxel of the shown slice nearest the kidney's centre there.
  const hits: number[][] = [];
  for (let u = 0; u < data.header.dims[p.a]; u++)
    for (let v = 0; v < data.header.dims[p.b]; v++) if (before[index(ijkOf(p, p.slice, u, v))] === 1) hits.push([u, v]);
  expect(hits.length, 'kidney on the shown slice').toBeGreaterThan(4);
  const mean = [0, 1].map((x) => hits.reduce((s, h) => s + h[x], 0) / hits.length);
  hits.sort((h1, h2) => Math.hypot(h1[0] - mean[0], h1[1] - mean[1]) - Math.hypot(h2[0] - mean[0], h2[1] - mean[1]));
  const [su, sv] = hits[0];
  // Reference region: breadth-first over in-plane 4-neighbours holding class 1.
  const region = new Set<number>([index(ijkOf(p, p.slice, su, sv))]);
  const queue = [[su, sv]];
  while (queue.length) {
    const [u, v] = queue.shift()!;
    for (const [du, dv] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ]) {
      const [x, y] = [u + du, v + dv];
      if (x < 0 || y < 0 || x >= data.header.dims[p.a] || y >= data.header.dims[p.b]) continue;
      const n = index(ijkOf(p, p.slice, x, y));
      if (before[n] === 1 && !region.has(n)) {
        region.add(n);
        queue.push([x, y]);
      }
    }
  }
  await page.keyboard.press('p');
  await page.keyboard.press('Shift+Digit3');
  // Bounded by the clicked label only (the default also keeps to an HU window around the click).
  await page.getByTestId('fill-hu-mode').selectOption('off');
  const at = await pageAt(page, data.header, 'axial', ijkOf(p, p.slice, su, sv));
  await page.mouse.click(at.x, at.y);
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  const after = await snapshot(page);
  expect(sorted(changedIndices(before, after))).toEqual(sorted([...region]));
  for (const n of region) expect(after[n]).toBe(3);
  await page.keyboard.press('Control+z');
  expect(await snapshot(page)).toEqual(before);
});

/** Reference 6-connected components of `value` (breadth-first), largest first. */
function components(labels: Uint8Array, value: number): number[][] {
  const [ni, nj, nk] = data.header.dims;
  const seen = new Uint8Array(labels.length);
  const out: number[][] = [];
  for (let n0 = 0; n0 < labels.length; n0++) {
    if (labels[n0] !== value || seen[n0]) continue;
    const comp = [n0];
    seen[n0] = 1;
    for (let q = 0; q < comp.length; q++) {
      const n = comp[q];
      const [i, j, k] = [n % ni, Math.floor(n / ni) % nj, Math.floor(n / (ni * nj))];
      const nb = [i > 0 ? n - 1 : -1, i < ni - 1 ? n + 1 : -1, j > 0 ? n - ni : -1, j < nj - 1 ? n + ni : -1];
      nb.push(k > 0 ? n - ni * nj : -1, k < nk - 1 ? n + ni * nj : -1);
      for (const m of nb)
        if (m >= 0 && !seen[m] && labels[m] === value) {
          seen[m] = 1;
          comp.push(m);
        }
    }
    out.push(comp);
  }
  return out.sort((x, y) => y.length - x.length);
}

test('K keeps only the largest 3D island of the active segment', async () => {
  const p = await plane();
  // An extra tumour island in a corner with circle scissors, away from the phantom's organs.
  await page.keyboard.press('c');
  await page.keyboard.press('Shift+Digit2');
  await circle(p, 4, 4, safeRadiusMm(p, 1.2, 1.9)); // smaller than any other island
  const before = await snapshot(page);
  const comps = components(before, 2);
  expect(comps.length, 'tumour islands').toBeGreaterThan(1);
  expect(comps[0].length).toBeGreaterThan(comps[1].length);
  await page.keyboard.press('k');
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  const after = await snapshot(page);
  expect(sorted(changedIndices(before, after))).toEqual(sorted(comps.slice(1).flat()));
  for (const n of comps.slice(1).flat()) expect(after[n]).toBe(0);
  await expect(page.getByTestId('action-message')).toContainText(`${comps.slice(1).flat().length} voxels`);
});

/** Brute-force signed distance (mm, negative inside) of class `value` on slice s at (u, v). */
function sdf(labels: Uint8Array, p: Plane, value: number, s: number, u: number, v: number): number {
  const sp = data.header.spacingMm;
  const inside = labels[index(ijkOf(p, s, u, v))] === value;
  let best = Infinity;
  for (let x = 0; x < data.header.dims[p.a]; x++)
    for (let y = 0; y < data.header.dims[p.b]; y++)
      if ((labels[index(ijkOf(p, s, x, y))] === value) !== inside)
        best = Math.min(best, Math.hypot((x - u) * sp[p.a], (y - v) * sp[p.b]));
  return inside ? -best : best;
}

test('clear a segment, draw it on two slices, and I interpolates the slices between', async () => {
  let p = await plane();
  await page.keyboard.press('Shift+Digit3');
  await page.getByTestId('action-clear').click();
  await expect.poll(async () => (await hook<number[]>(page, 'counts'))[3]).toBe(0);
  await page.keyboard.press('c');
  const r = safeRadiusMm(p);
  const s0 = p.slice;
  await circle(p, 12, 14, r);
  const viewport = page.getByTestId('viewport-axial');
  const box = (await viewport.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let n = 0; n < 4; n++) await page.keyboard.press('ArrowUp');
  await expect.poll(async () => Math.abs((await plane()).slice - s0)).toBe(4);
  p = await plane();
  await circle(p, 16, 12, r * 1.5);
  const before = await snapshot(page);
  const [lo, hi] = [Math.min(s0, p.slice), Math.max(s0, p.slice)];
  const expected = before.slice();
  for (let s = lo + 1; s < hi; s++) {
    const t = (s - lo) / (hi - lo);
    for (let u = 0; u < data.header.dims[p.a]; u++)
      for (let v = 0; v < data.header.dims[p.b]; v++) {
        const n = index(ijkOf(p, s, u, v));
        if (before[n] !== 0) continue;
        if ((1 - t) * sdf(before, p, 3, lo, u, v) + t * sdf(before, p, 3, hi, u, v) < 0) expected[n] = 3;
      }
  }
  expect(changedIndices(before, expected).length).toBeGreaterThan(10);
  await page.keyboard.press('i');
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  expect(changedIndices(expected, await snapshot(page))).toEqual([]);
});

test('relabel moves one class into another as one undo step', async () => {
  const before = await snapshot(page);
  await page.getByTestId('relabel-from').selectOption('3');
  await page.getByTestId('relabel-to').selectOption('2');
  await page.getByTestId('action-relabel').click();
  await expect.poll(async () => changedIndices(before, await snapshot(page)).length).toBeGreaterThan(0);
  const after = await snapshot(page);
  const moved = [...before.keys()].filter((n) => before[n] === 3);
  expect(sorted(changedIndices(before, after))).toEqual(moved);
  for (const n of moved) expect(after[n]).toBe(2);
  await page.getByTestId('undo-button').click();
  expect(await snapshot(page)).toEqual(before);
});

test('lasso scissors fill the drawn polygon; Smooth (median) matches the 3D reference', async () => {
  const p = await plane();
  const before = await snapshot(page);
  await page.keyboard.press('f');
  await expect(page.getByTestId('tool-lasso')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('Shift+Digit3');
  // A 7 × 5 voxel square with corners on voxel boundaries, drawn as a freehand path.
  const [cu, cv] = [30, 30];
  const corners = [
    [cu - 3.5, cv - 2.5],
    [cu + 3.5, cv - 2.5],
    [cu + 3.5, cv + 2.5],
    [cu - 3.5, cv + 2.5],
  ].map(([u, v]) => ijkOf(p, p.slice, u, v));
  const at = await Promise.all(corners.map((c) => pageAt(page, data.header, 'axial', c)));
  await page.mouse.move(at[0].x, at[0].y);
  await page.mouse.down();
  for (const q of [...at.slice(1), at[0]]) await page.mouse.move(q.x, q.y, { steps: 3 });
  await page.mouse.up();
  const after = await snapshot(page);
  const square: number[] = [];
  for (let u = cu - 3; u <= cu + 3; u++)
    for (let v = cv - 2; v <= cv + 2; v++) square.push(index(ijkOf(p, p.slice, u, v)));
  expect(sorted(changedIndices(before, after))).toEqual(sorted(square.filter((n) => before[n] !== 3)));

  // Median of radius 1: a voxel is in the segment when most of its in-volume 3×3×3 neighbours are;
  // voxels it adds come only from background.
  const [ni, nj, nk] = data.header.dims;
  const expected = after.slice();
  for (let n = 0; n < after.length; n++) {
    const [i, j, k] = [n % ni, Math.floor(n / ni) % nj, Math.floor(n / (ni * nj))];
    let inside = 0;
    let all = 0;
    for (let dk = -1; dk <= 1; dk++)
      for (let dj = -1; dj <= 1; dj++)
        for (let di = -1; di <= 1; di++) {
          const [x, y, z] = [i + di, j + dj, k + dk];
          if (x < 0 || y < 0 || z < 0 || x >= ni || y >= nj || z >= nk) continue;
          all++;
          if (after[(z * nj + y) * ni + x] === 3) inside++;
        }
    const want = 2 * inside > all;
    if (want && after[n] === 0) expected[n] = 3;
    if (!want && after[n] === 3) expected[n] = 0;
  }
  expect(changedIndices(after, expected).length).toBeGreaterThan(0);
  await page.getByTestId('smooth-method').selectOption('median');
  await page.getByTestId('action-smooth').click();
  await expect.poll(async () => changedIndices(after, await snapshot(page)).length).toBeGreaterThan(0);
  expect(changedIndices(expected, await snapshot(page))).toEqual([]);
});

test('the panel shows cases.stats, and DICOM SEG export of a NIfTI case says why not', async ({ request }) => {
  await expect(page.getByTestId('save-status')).toHaveText(/^Saved v\d+$/, { timeout: 15_000 });
  const stats = await apiCall<{
    voxelsChangedSincePrelabel: number | null;
    dicePrelabelVsSubmitted: number | null;
    activeEditMinutes: number;
  }>(request, shell.origin, shell.token, 'cases.stats', { caseId });
  // The demo case has no AI pre-label, so the pre-label figures are null and shown as "—".
  const shown = (x: number | null, digits?: number) =>
    x === null ? '—' : digits === undefined ? String(x) : x.toFixed(digits);
  await expect(page.getByTestId('stat-changed')).toHaveText(`${shown(stats.voxelsChangedSincePrelabel)} vx`);
  await expect(page.getByTestId('stat-dice')).toHaveText(shown(stats.dicePrelabelVsSubmitted, 3));
  await expect(page.getByTestId('stat-minutes')).toHaveText(`${shown(stats.activeEditMinutes, 1)} min`);
  expect(stats.activeEditMinutes).toBeGreaterThanOrEqual(0);
  await page.getByTestId('export-format').selectOption('dicom-seg');
  await page.getByTestId('export-button').click();
  await expect(page.getByTestId('export-error')).toContainText('not imported from DICOM');
  await expect(page.getByTestId('export-path')).toHaveCount(0);
  await page.keyboard.press('?');
  await expect(page.getByTestId('cheat-sheet')).toContainText('Circle scissors');
  await expect(page.getByTestId('cheat-sheet')).toContainText('Interpolate');
  await page.keyboard.press('Escape');
});

test('no errors in the browser console', () => {
  expect(problems).toEqual([]);
});
