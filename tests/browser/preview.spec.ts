// The first picture of a case before its volume (issue 15): while the volume's download is held back,
// each view shows its preview slice, oriented, fitted and windowed as the volume views then show it, the
// W/L follows the viewer's, editing waits and a progress line says what is left; the views take over
// without a jump. A case left mid-load never shows up over the case chosen after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page, type Route } from '@playwright/test';
import { writeNifti } from '../../src-main/imaging/nifti';
import type { Direction, Vec3 } from '../../src-main/imaging/volume';
import { makeVolume } from '../unit/helpers';
import { startWebShell, type WebShell } from './webShell';
import { apiCall, meanAbsDiff, renderCounts, stats, VIEWS, waitForRender, type View } from './viewerPage';

test.describe.configure({ mode: 'serial' });

let shell: WebShell;
let page: Page;
let dataDir = '';
/** The asymmetric case, a second one and the demo case. */
const ids = { a: '', b: '', demo: '' };
const problems: string[] = [];

/** A CT of the test's own (origin and description); the rest as tests/unit/helpers makes it. */
const testVolume = (
  dims: Vec3,
  spacingMm: Vec3,
  direction: Direction,
  value: (i: number, j: number, k: number) => number,
) => makeVolume(dims, value, { spacingMm, direction, originMm: [-20, 30, -40], description: 'preview test' });

const caseA = testVolume([72, 56, 40], [0.7, 0.9, 2], [1, 0, 0, 0, -1, 0, 0, 0, 1], (i, j, k) => {
  const inBody = ((i - 36) / 32) ** 2 + ((j - 28) / 25) ** 2 < 1;
  if (!inBody) return -1000;
  if (i >= 6 && i <= 16 && j >= 22 && j <= 30) return 900; // a rod along k: axial and coronal
  if (j >= 5 && j <= 12 && k >= 30 && k <= 38) return -600; // a slab near one end: sagittal
  return -60 + k * 6;
});
const caseB = testVolume([64, 64, 30], [0.8, 0.8, 2.5], [1, 0, 0, 0, 1, 0, 0, 0, 1], (i, j) =>
  (i - 32) ** 2 + (j - 32) ** 2 < 400 ? 300 : -1000,
);

interface Held {
  release(): void;
  /** Resolves once the page has asked. */
  asked: Promise<void>;
}

/** Holds back the page's `method` requests for `caseId` until released (others pass). */
async function hold(p: Page, method: string, caseId: string): Promise<Held> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let seen!: () => void;
  const asked = new Promise<void>((r) => (seen = r));
  await p.route(
    (url) => url.pathname === `/api/${method}`,
    async (route: Route) => {
      if ((route.request().postDataJSON() as { caseId?: string } | null)?.caseId !== caseId) return route.fallback();
      seen();
      await gate;
      // The page may have cancelled the request meanwhile (another case was chosen).
      await route.fallback().catch(() => undefined);
    },
  );
  return { release, asked };
}

/** A canvas of a view (the preview's or Cornerstone's) scaled to 32×32 grey levels. */
async function canvasSignature(p: Page, selector: string): Promise<number[]> {
  return p.evaluate((sel) => {
    interface C {
      width: number;
      height: number;
      getContext(k: '2d'): {
        drawImage(c: C, x: number, y: number, w: number, h: number): void;
        getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
      } | null;
    }
    const doc = (
      globalThis as unknown as { document: { querySelector(s: string): C | null; createElement(t: 'canvas'): C } }
    ).document;
    const canvas = doc.querySelector(sel);
    if (!canvas) throw new Error(`no canvas ${sel}`);
    const small = doc.createElement('canvas');
    small.width = 32;
    small.height = 32;
    const ctx = small.getContext('2d')!;
    ctx.drawImage(canvas, 0, 0, 32, 32);
    const rgba = ctx.getImageData(0, 0, 32, 32).data;
    const grey: number[] = [];
    for (let n = 0; n < 32 * 32; n++) grey.push(Math.round((rgba[n * 4] + rgba[n * 4 + 1] + rgba[n * 4 + 2]) / 3));
    return grey;
  }, selector);
}

const previewSig = (v: View) => canvasSignature(page, `[data-testid="preview-${v}"]`);
const viewSig = (v: View) => canvasSignature(page, `[data-testid="viewport-${v}"] .cs canvas`);
const item = (id: string) => page.locator(`[data-testid="case-item"][data-case-id="${id}"]`);

test.beforeAll(async ({ browser, request }) => {
  dataDir = mkdtempSync(join(tmpdir(), 'deformux-preview-'));
  await writeNifti(join(dataDir, 'a.nii.gz'), caseA);
  await writeNifti(join(dataDir, 'b.nii.gz'), caseB);
  shell = await startWebShell({ demoCases: 1, demoDims: [48, 48, 24] });
  ids.demo = (await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {}))[0].id;
  for (const key of ['a', 'b'] as const) {
    const res = await apiCall<{ imported: { id: string }[] }>(request, shell.origin, shell.token, 'cases.import', {
      paths: [join(dataDir, `${key}.nii.gz`)],
    });
    ids[key] = res.imported[0].id;
  }
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(shell.url);
  await expect(page.getByTestId('case-item')).toHaveCount(3);
  // The demo case opens first; wait until its views are drawn.
  for (const v of VIEWS) await waitForRender(page, v, 0);
});

test.afterAll(async () => {
  await page?.close();
  await shell?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the preview shows the slices before the volume, with the W/L, and the views take over without a jump', async () => {
  const volume = await hold(page, 'cases.volumeData', ids.a);
  await item(ids.a).click();
  await volume.asked;
  for (const v of VIEWS) await expect(page.getByTestId(`preview-${v}`)).toHaveAttribute('data-drawn', 'true');
  // The preview says where it is (the centre slices of a 72×56×40 case), editing waits, the load shows.
  await expect(page.getByTestId('slice-axial')).toHaveText('20 / 40');
  await expect(page.getByTestId('slice-sagittal')).toHaveText('36 / 72');
  await expect(page.getByTestId('slice-coronal')).toHaveText('28 / 56');
  await expect(page.getByTestId('volume-progress')).toContainText('editing starts');
  await expect(page.getByTestId('tool-brush')).toBeDisabled();
  const previews = Object.fromEntries(await Promise.all(VIEWS.map(async (v) => [v, await previewSig(v)] as const)));
  for (const v of VIEWS) {
    const s = stats(previews[v]);
    expect(s.nonBlackFraction, `${v} preview shows the body`).toBeGreaterThan(0.2);
    expect(s.std, `${v} preview has contrast`).toBeGreaterThan(20);
  }

  // The viewer's W/L applies to the preview.
  await page.getByTestId('wl-preset').selectOption('bone');
  await expect.poll(async () => meanAbsDiff(previews.axial, await previewSig('axial'))).toBeGreaterThan(5);
  await page.getByTestId('wl-preset').selectOption('abdomen');
  await expect.poll(async () => meanAbsDiff(previews.axial, await previewSig('axial'))).toBeLessThan(0.5);

  // No volume yet: Cornerstone has not drawn this case.
  const renders = await renderCounts(page);
  volume.release();
  for (const v of VIEWS) await waitForRender(page, v, renders[v]);
  for (const v of VIEWS) await expect(page.getByTestId(`preview-${v}`)).toHaveCount(0);
  await expect(page.getByTestId('volume-progress')).toHaveCount(0);
  await expect(page.getByTestId('tool-brush')).toBeEnabled();
  await expect(page.getByTestId('slice-axial')).toHaveText('20 / 40');
  // The views show what the preview showed: same orientation, size, place and window.
  for (const v of VIEWS) {
    await expect
      .poll(async () => meanAbsDiff(previews[v], await viewSig(v)), { message: `${v}: preview and view agree` })
      .toBeLessThan(6);
  }
  // ... far better than a preview mirrored left-right would (the comparison can tell orientations apart).
  const shown = await viewSig('axial');
  const mirrored = previews.axial.map((_, n) => previews.axial[n - (n % 32) + 31 - (n % 32)]);
  const diffs = { preview: meanAbsDiff(previews.axial, shown), mirrored: meanAbsDiff(mirrored, shown) };
  console.log(`axial view vs preview, grey levels: ${JSON.stringify(diffs)}`);
  expect(diffs.mirrored).toBeGreaterThan(3 * diffs.preview);
});

test('a case left mid-load never shows: the case chosen after it does', async () => {
  // Case B's slices and volume are held: the annotator gives up on it and opens the demo case.
  const slices = await hold(page, 'cases.sliceData', ids.b);
  const volume = await hold(page, 'cases.volumeData', ids.b);
  await item(ids.b).click();
  await Promise.all([slices.asked, volume.asked]);
  await expect(page.getByTestId('preview-axial')).toHaveAttribute('data-drawn', 'false');
  await expect(page.getByTestId('tool-brush')).toBeDisabled();
  const renders = await renderCounts(page);
  await item(ids.demo).click();
  for (const v of VIEWS) await waitForRender(page, v, renders[v]);
  await expect(page.getByTestId('preview-axial')).toHaveCount(0);
  await expect(page.getByTestId('slice-axial')).toHaveText('12 / 24');
  await expect(page.getByTestId('tool-brush')).toBeEnabled();
  const demo = await viewSig('axial');

  // B's answers arrive late: they change nothing.
  slices.release();
  volume.release();
  await page.waitForTimeout(1500);
  await expect(item(ids.demo)).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('preview-axial')).toHaveCount(0);
  await expect(page.getByTestId('slice-axial')).toHaveText('12 / 24');
  expect(meanAbsDiff(demo, await viewSig('axial'))).toBeLessThan(1);

  // B itself still opens normally afterwards.
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await item(ids.b).click();
  await expect(page.getByTestId('slice-axial')).toHaveText('15 / 30');
  await expect(page.getByTestId('preview-axial')).toHaveCount(0);
  await expect(page.getByTestId('tool-brush')).toBeEnabled();
});

test('no page errors', () => {
  expect(problems).toEqual([]);
});
