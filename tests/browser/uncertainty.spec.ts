// The uncertainty heat overlay: after an AI pre-label (tiny random model) the toggle shows the
// case's uncertainty map in heat colours on all three views where it is high, toggling off removes
// it, and a case without a pre-label has the toggle disabled (and off) after a case switch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiBinary, apiCall, VIEWS, type View } from './viewerPage';
import { waitForLabels, world, type Header } from './labelPage';
import { writeTinyModel } from '../predict-cli/tiny-model';

test.describe.configure({ mode: 'serial' });

let shell: WebShell;
let page: Page;
let modelsDir = '';
let caseIds: string[] = [];
let header: Header;
let uncertainty: Uint8Array;
const problems: string[] = [];

interface Job {
  id: string;
  status: string;
  message: string;
}

test.beforeAll(async ({ browser, request }) => {
  modelsDir = mkdtempSync(join(tmpdir(), 'deformux-uncertainty-models-'));
  await writeTinyModel(modelsDir, 'kidney', 'kidney-lite', [12, 12, 12]);
  process.env.DEFORMUX_MODELS_DIR = modelsDir; // inherited by the web shell process
  shell = await startWebShell({ demoCases: 2, demoDims: [48, 48, 24] });
  const call = <T>(method: string, body: unknown) => apiCall<T>(request, shell.origin, shell.token, method, body);
  caseIds = (await call<{ id: string }[]>('cases.list', {})).map((c) => c.id);
  // Pre-label the first case before the page opens it (the job runs in the shell's engine worker).
  const { jobId } = await call<{ jobId: string }>('jobs.prelabel', { caseIds: [caseIds[0]] });
  await expect
    .poll(async () => (await call<Job[]>('jobs.list', {})).find((j) => j.id === jobId)?.status, { timeout: 60_000 })
    .toBe('done');
  header = await call<Header>('cases.open', { caseId: caseIds[0] });
  uncertainty = new Uint8Array(
    await apiBinary(request, shell.origin, shell.token, 'cases.uncertaintyData', { caseId: caseIds[0] }),
  );
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(shell.url);
  await waitForLabels(page, caseIds[0]);
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
  delete process.env.DEFORMUX_MODELS_DIR;
  rmSync(modelsDir, { recursive: true, force: true });
});

/** The voxel axis a view slices: axial ↔ S, sagittal ↔ L, coronal ↔ P (largest direction component). */
function viewAxis(view: View): number {
  const c = view === 'axial' ? 2 : view === 'sagittal' ? 0 : 1;
  return [0, 1, 2].reduce((b, a) =>
    Math.abs(header.direction[a * 3 + c]) > Math.abs(header.direction[b * 3 + c]) ? a : b,
  );
}

/**
 * On the plane each view shows at start (through the centre voxel), the voxel whose 3×3 in-plane
 * neighbourhood is most uncertain (its smallest value), so the pixel under it is surely heat.
 */
function mostUncertain(view: View): { ijk: number[]; value: number } {
  const d = header.dims;
  const axis = viewAxis(view);
  const [a, b] = [0, 1, 2].filter((x) => x !== axis);
  const at = (ijk: number[]) => uncertainty[(ijk[2] * d[1] + ijk[1]) * d[0] + ijk[0]];
  let best = { ijk: [0, 0, 0], value: -1 };
  for (let u = 1; u < d[a] - 1; u++)
    for (let v = 1; v < d[b] - 1; v++) {
      let low = 255;
      for (let du = -1; du <= 1; du++)
        for (let dv = -1; dv <= 1; dv++) {
          const ijk = [0, 0, 0];
          ijk[axis] = Math.floor((d[axis] - 1) / 2);
          ijk[a] = u + du;
          ijk[b] = v + dv;
          low = Math.min(low, at(ijk));
        }
      if (low > best.value) {
        const ijk = [0, 0, 0];
        ijk[axis] = Math.floor((d[axis] - 1) / 2);
        ijk[a] = u;
        ijk[b] = v;
        best = { ijk, value: low };
      }
    }
  return best;
}

/** RGB of the view's canvas at a voxel centre (read back from the WebGL canvas). */
async function pixelAt(view: View, ijk: number[]): Promise<number[]> {
  return page.evaluate(
    ([v, w]) => {
      type Canvas = { width: number; height: number; getBoundingClientRect(): { width: number; height: number } };
      const g = globalThis as unknown as {
        __deformuxViewer: { worldToCanvas(v: string, p: number[]): number[] };
        document: {
          querySelector(s: string): Canvas | null;
          createElement(t: 'canvas'): Canvas & {
            getContext(k: '2d'): {
              drawImage(c: Canvas, x: number, y: number): void;
              getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
            } | null;
          };
        };
      };
      const canvas = g.document.querySelector(`[data-testid="viewport-${v}"] canvas`);
      if (!canvas) throw new Error(`no canvas in the ${v} view`);
      const [cx, cy] = g.__deformuxViewer.worldToCanvas(v as string, w as number[]);
      const rect = canvas.getBoundingClientRect();
      const copy = g.document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const ctx = copy.getContext('2d')!;
      ctx.drawImage(canvas, 0, 0);
      const x = Math.floor((cx * canvas.width) / rect.width);
      const y = Math.floor((cy * canvas.height) / rect.height);
      const p = ctx.getImageData(x, y, 1, 1).data;
      return [p[0], p[1], p[2]];
    },
    [view, world(header, ijk)] as const,
  );
}

/** Heat colours: red dominant over blue, green not above red (yellow → red). */
const isHeat = (p: number[]) => p[0] > p[2] + 40 && p[0] >= p[1];

test('the toggle shows the heat map on all three views where the uncertainty is high, and removes it', async () => {
  const toggle = page.getByTestId('uncertainty-toggle');
  await expect(toggle).toBeEnabled();
  await expect(toggle).not.toBeChecked();
  const spots = VIEWS.map((v) => ({ view: v, ...mostUncertain(v) }));
  for (const s of spots) expect(s.value, `a clearly uncertain spot in the ${s.view} view`).toBeGreaterThan(128);
  const before = await Promise.all(spots.map((s) => pixelAt(s.view, s.ijk)));
  await toggle.check();
  for (const [n, s] of spots.entries()) {
    await expect
      .poll(async () => isHeat(await pixelAt(s.view, s.ijk)), { message: `${s.view}: heat over the uncertain voxel` })
      .toBe(true);
    const after = await pixelAt(s.view, s.ijk);
    const change = after.reduce((sum, x, c) => sum + Math.abs(x - before[n][c]), 0);
    expect(change, `${s.view}: the pixel changed (before ${before[n]}, after ${after})`).toBeGreaterThan(30);
  }
  await toggle.uncheck();
  for (const [n, s] of spots.entries()) {
    await expect
      .poll(async () => (await pixelAt(s.view, s.ijk)).reduce((sum, x, c) => sum + Math.abs(x - before[n][c]), 0), {
        message: `${s.view}: back to the picture without the heat map`,
      })
      .toBeLessThan(6);
  }
});

/** Share of the axial canvas's pixels that read as heat. */
async function heatShare(): Promise<number> {
  return page.evaluate(() => {
    type Canvas = { width: number; height: number };
    const g = globalThis as unknown as {
      document: {
        querySelector(s: string): Canvas | null;
        createElement(t: 'canvas'): Canvas & {
          getContext(k: '2d'): {
            drawImage(c: Canvas, x: number, y: number): void;
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
      };
    };
    const canvas = g.document.querySelector('[data-testid="viewport-axial"] canvas')!;
    const copy = g.document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const ctx = copy.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let heat = 0;
    for (let n = 0; n < d.length; n += 4) if (d[n] > d[n + 2] + 40 && d[n] >= d[n + 1]) heat++;
    return heat / (d.length / 4);
  });
}

test('the threshold hides the less uncertain voxels, the legend shows the range', async () => {
  const toggle = page.getByTestId('uncertainty-toggle');
  await toggle.check();
  const s = { view: 'axial' as const, ...mostUncertain('axial') };
  await expect.poll(async () => isHeat(await pixelAt(s.view, s.ijk))).toBe(true);
  await expect(page.getByTestId('uncertainty-legend')).toContainText('0.10');
  const all = await heatShare();
  expect(all).toBeGreaterThan(0.01);
  // The voxels at or under 0.95 go; only the very uncertain ones (if any) stay.
  const over = uncertainty.filter((v) => v > Math.floor(0.95 * 255)).length / uncertainty.length;
  const threshold = page.getByTestId('uncertainty-threshold');
  await threshold.fill('0.95');
  await expect(page.getByTestId('uncertainty-legend')).toContainText('0.95');
  await expect.poll(heatShare, { message: `heat share ${all} with all shown` }).toBeLessThan(all * 0.5 + over);
  await threshold.fill('0.1');
  await expect.poll(heatShare).toBeGreaterThan(all * 0.9);
  await toggle.uncheck();
});

test('labels are drawn above the heat map', async () => {
  const s = { view: 'axial' as const, ...mostUncertain('axial') };
  const toggle = page.getByTestId('uncertainty-toggle');
  await toggle.check();
  await expect.poll(async () => isHeat(await pixelAt(s.view, s.ijk))).toBe(true);
  const heatOnly = await pixelAt(s.view, s.ijk);
  // Paint the blue class (cyst, value 3) over the uncertain voxel with the brush.
  await page.keyboard.press('Shift+Digit3');
  await page.keyboard.press('b');
  await page.getByTestId('brush-radius').fill('12');
  await page.getByTestId('brush-radius').press('Enter');
  const box = (await page.getByTestId('viewport-axial').boundingBox())!;
  const c = await page.evaluate(
    ([w]) =>
      (
        globalThis as unknown as { __deformuxViewer: { worldToCanvas(v: string, p: number[]): number[] } }
      ).__deformuxViewer.worldToCanvas('axial', w),
    [world(header, s.ijk)] as const,
  );
  await page.mouse.click(box.x + c[0], box.y + c[1]);
  // Under the heat (0.6 × its alpha) a 45 % blue would keep under ~60 in blue; on top it shows through.
  await expect
    .poll(async () => (await pixelAt(s.view, s.ijk))[2], { message: `blue over heat ${heatOnly}` })
    .toBeGreaterThan(90);
  await page.keyboard.press('Control+z');
  await page.keyboard.press('x');
  await toggle.uncheck();
});

test('switching to a case without a pre-label turns the overlay off and disables the toggle', async () => {
  const toggle = page.getByTestId('uncertainty-toggle');
  await toggle.check();
  await expect(page.getByTestId('uncertainty-opacity')).toBeVisible();
  await page.getByTestId('case-item').nth(1).click();
  await waitForLabels(page, caseIds[1]);
  await expect(toggle).toBeDisabled();
  await expect(toggle).not.toBeChecked();
  await expect(toggle).toHaveAttribute('title', /No AI pre-label/);
  await expect(page.getByTestId('uncertainty-opacity')).toHaveCount(0);
  // Back on the pre-labelled case the toggle is available again, and off.
  await page.getByTestId('case-item').nth(0).click();
  await waitForLabels(page, caseIds[0]);
  await expect(toggle).toBeEnabled();
  await expect(toggle).not.toBeChecked();
  expect(problems).toEqual([]);
});
