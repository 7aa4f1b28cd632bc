// The 3D label view in the web shell: hidden by default; the 3D button shows the demo case's labels
// volume-rendered in their legend colours (read back from the 3D canvas's pixels); it follows brush strokes
// (a painted tumour and cyst appear in their colours), hidden classes, and clearing (nothing coloured is
// left; undo brings the labels back); it rotates by drag, resets (button and R), and the button removes it again.
import { expect, test, type Page } from '@playwright/test';
import { startWebShell, type WebShell } from './webShell';
import { apiCall, meanAbsDiff, VIEWS, waitForRender } from './viewerPage';
import { axialAxis, caseData, countOf, hook, pageAt, waitForLabels, type CaseData } from './labelPage';

test.describe.configure({ mode: 'serial' });

interface SchemaClass {
  value: number;
  name: string;
  color: [number, number, number];
}

let shell: WebShell;
let page: Page;
let data: CaseData;
let classes: SchemaClass[];
/** The schema's first class (kidney): the demo labels have it; the others are painted by the test. */
let organ: SchemaClass;
let caseIds: string[];
const problems: string[] = [];
const figures: Record<string, number> = {};

interface MiniCanvas {
  width: number;
  height: number;
}
interface MiniDocument {
  querySelector(sel: string): MiniCanvas | null;
  createElement(tag: 'canvas'): MiniCanvas & {
    getContext(kind: '2d'): {
      drawImage(c: MiniCanvas, x: number, y: number): void;
      getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
    } | null;
  };
}

/**
 * Pixels of the 3D canvas per class whose colour they have (same hue as the legend colour, not dark:
 * shading changes brightness, not hue), `other` for lit pixels of no class colour, and grey levels of a
 * 32×32 grid (to compare views).
 */
async function pixels3d(): Promise<{ perClass: Record<number, number>; other: number; total: number; grid: number[] }> {
  return page.evaluate((cls) => {
    const doc = (globalThis as unknown as { document: MiniDocument }).document;
    const canvas = doc.querySelector('[data-testid="viewport-3d"] canvas');
    if (!canvas) throw new Error('no canvas in the 3D view');
    const copy = doc.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const ctx = copy.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.drawImage(canvas, 0, 0);
    const rgba = ctx.getImageData(0, 0, copy.width, copy.height).data;
    const perClass: Record<number, number> = {};
    for (const c of cls) perClass[c.value] = 0;
    let other = 0;
    const grid = new Array<number>(32 * 32).fill(0);
    const cell = new Array<number>(32 * 32).fill(0);
    for (let y = 0; y < copy.height; y++)
      for (let x = 0; x < copy.width; x++) {
        const p = (y * copy.width + x) * 4;
        const rgb = [rgba[p], rgba[p + 1], rgba[p + 2]];
        const g = Math.floor((y * 32) / copy.height) * 32 + Math.floor((x * 32) / copy.width);
        grid[g] += (rgb[0] + rgb[1] + rgb[2]) / 3;
        cell[g]++;
        if (Math.max(...rgb) < 40) continue;
        const norm = Math.hypot(...rgb);
        let best = -1;
        let bestCos = 0;
        for (const c of cls) {
          const cos =
            (rgb[0] * c.color[0] + rgb[1] * c.color[1] + rgb[2] * c.color[2]) / (norm * Math.hypot(...c.color));
          if (cos > bestCos) [best, bestCos] = [c.value, cos];
        }
        if (bestCos > 0.985) perClass[best]++;
        else other++;
      }
    return { perClass, other, total: copy.width * copy.height, grid: grid.map((s, i) => s / Math.max(1, cell[i])) };
  }, classes);
}

async function dataset3d(key: string): Promise<string | null> {
  return page.evaluate((k) => {
    const el = (
      globalThis as unknown as {
        document: { querySelector(s: string): { dataset: Record<string, string | undefined> } | null };
      }
    ).document.querySelector('[data-testid="viewport-3d"] .cs');
    return el?.dataset[k] ?? null;
  }, key);
}

async function renders3d(): Promise<number> {
  return Number((await dataset3d('renderCount')) ?? '0');
}

/** Waits for the 3D view to draw again, then for the update timer's next window to pass without a redraw. */
async function settled3d(): Promise<void> {
  let last = -1;
  await expect
    .poll(
      async () => {
        const n = await renders3d();
        const same = n === last;
        last = n;
        return same;
      },
      { intervals: [700], message: 'the 3D view stops redrawing' },
    )
    .toBe(true);
}

test.beforeAll(async ({ browser, request }) => {
  shell = await startWebShell({ demoCases: 2, demoDims: [64, 64, 32] });
  const cases = await apiCall<{ id: string }[]>(request, shell.origin, shell.token, 'cases.list', {});
  caseIds = cases.map((c) => c.id);
  data = await caseData(request, shell, cases[0].id);
  page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(shell.url);
  for (const v of VIEWS) await waitForRender(page, v, 0);
  await waitForLabels(page, cases[0].id);
  const project = await apiCall<{ schema: { classes: SchemaClass[] } }>(
    request,
    shell.origin,
    shell.token,
    'project.info',
    {},
  );
  classes = project.schema.classes;
  organ = classes[0];
  expect(countOf(data.labels, organ.value), `the demo labels have ${organ.name}`).toBeGreaterThan(30);
});

test.afterAll(async () => {
  // Figures for the report: time to the first 3D picture and from an edit to its redraw (update timer included).
  console.log(`3D view figures (ms): ${JSON.stringify(figures)}`);
  await page?.close();
  await shell?.close();
});

test('the 3D view is off by default: the info panel has its place', async () => {
  await expect(page.getByTestId('viewport-3d')).toHaveCount(0);
  await expect(page.getByTestId('hu-value')).toBeVisible();
  await expect(page.getByTestId('toggle-3d')).toHaveAttribute('aria-pressed', 'false');
});

test('the 3D button shows the labels in their legend colours', async () => {
  await page.getByTestId('toggle-3d').click();
  await expect(page.getByTestId('viewport-3d')).toBeVisible();
  await expect.poll(() => dataset3d('hasLabels'), { message: 'the 3D view draws the labels' }).toBe('true');
  await settled3d();
  figures.firstRender = Number(await dataset3d('firstRenderMs'));
  // Polled: on a slow software-GL machine the first frame may still be landing when the count settles.
  await expect
    .poll(
      async () => {
        const p = await pixels3d();
        return p.perClass[organ.value] > p.total * 0.02;
      },
      { message: `${organ.name} pixels in its colour ${organ.color}` },
    )
    .toBe(true);
  const px = await pixels3d();
  for (const c of classes.slice(1)) expect(px.perClass[c.value], `no ${c.name} in the demo labels`).toBe(0);
  expect(px.perClass[organ.value], 'lit pixels are mostly class colours').toBeGreaterThan(px.other);
  expect(problems).toEqual([]);
});

test('brush strokes show in 3D in their class colours', async () => {
  const axis = axialAxis(data.header);
  const slice = Number(await page.getByTestId('viewport-axial').getAttribute('data-slice-index'));
  const [a, b] = [0, 1, 2].filter((x) => x !== axis);
  await page.keyboard.press('b');
  await page.keyboard.press('g'); // Sphere brush: a blob, seen from any side.
  await page.getByTestId('brush-radius').fill('12');
  await page.getByTestId('brush-radius').press('Enter');
  for (const [n, c] of classes.slice(1).entries()) {
    // Spots in the front half of the slice, apart from each other.
    const ijk = [0, 0, 0];
    ijk[axis] = slice;
    ijk[a] = Math.round(data.header.dims[a] * (0.3 + 0.4 * n));
    ijk[b] = Math.round(data.header.dims[b] * 0.3);
    await page.keyboard.press(`Shift+Digit${classes.indexOf(c) + 1}`);
    const at = await pageAt(page, data.header, 'axial', ijk);
    const renders = await renders3d();
    await page.mouse.move(at.x, at.y);
    await page.mouse.down();
    await page.mouse.up();
    await expect.poll(async () => (await hook<number[]>(page, 'counts'))[c.value] ?? 0).toBeGreaterThan(5);
    await expect
      .poll(async () => (await pixels3d()).perClass[c.value], { message: `${c.name} drawn in 3D in ${c.color}` })
      .toBeGreaterThan(20);
    expect(await renders3d(), 'the stroke redrew the 3D view').toBeGreaterThan(renders);
    figures[`updateAfterStroke_${c.name}`] = Number(await dataset3d('lastUpdateMs'));
  }
  await page.keyboard.press('g');
  await page.keyboard.press('x');
});

test('hiding a class hides it in 3D too', async () => {
  await page.keyboard.press(`Shift+Digit${classes.indexOf(organ) + 1}`);
  await page.keyboard.press('h');
  await expect.poll(async () => (await pixels3d()).perClass[organ.value], { message: `${organ.name} hidden` }).toBe(0);
  await page.keyboard.press('h');
  await expect.poll(async () => (await pixels3d()).perClass[organ.value]).toBeGreaterThan(0);
});

test('it follows edits: clearing every class empties it, undo brings the labels back', async () => {
  await settled3d();
  const before = await pixels3d();
  for (const c of classes) {
    await page.keyboard.press(`Shift+Digit${classes.indexOf(c) + 1}`);
    await page.getByTestId('action-clear').click();
    await expect.poll(async () => (await hook<number[]>(page, 'counts'))[c.value] ?? 0).toBe(0);
  }
  await expect
    .poll(
      async () => {
        const px = await pixels3d();
        return Object.values(px.perClass).reduce((a, b) => a + b, 0) + px.other;
      },
      { message: 'nothing lit in 3D after clearing every class' },
    )
    .toBe(0);
  figures.updateAfterEdit = Number(await dataset3d('lastUpdateMs'));
  for (let n = 0; n < classes.length; n++) await page.keyboard.press('Control+z');
  await expect.poll(async () => (await hook<number[]>(page, 'counts'))[organ.value]).toBeGreaterThan(0);
  for (const c of classes)
    await expect
      .poll(async () => (await pixels3d()).perClass[c.value], { message: `${c.name} back in 3D after undo` })
      .toBeGreaterThan(before.perClass[c.value] * 0.8);
  figures.updateAfterUndo = Number(await dataset3d('lastUpdateMs'));
});

/** A left drag across the middle of the 3D view (a trackball turn), then the picture settles. */
async function rotate3d(): Promise<void> {
  const box = (await page.getByTestId('viewport-3d').boundingBox())!;
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let n = 1; n <= 8; n++) await page.mouse.move(cx + n * 10, cy + n * 2);
  await page.mouse.up();
  await settled3d();
}

test('left drag rotates the view and Reset brings the front view back', async () => {
  await settled3d();
  const front = await pixels3d();
  await rotate3d();
  const turned = await pixels3d();
  expect(meanAbsDiff(front.grid, turned.grid), 'the picture changes when rotated').toBeGreaterThan(1);
  await page.getByTestId('reset-3d').click();
  await settled3d();
  const back = await pixels3d();
  expect(meanAbsDiff(front.grid, back.grid), 'Reset shows the front view again').toBeLessThan(
    meanAbsDiff(front.grid, turned.grid) / 4,
  );
  // R (reset views) turns the 3D view back too.
  await rotate3d();
  const turnedAgain = await pixels3d();
  expect(meanAbsDiff(front.grid, turnedAgain.grid), 'rotated again').toBeGreaterThan(1);
  await page.keyboard.press('r');
  await settled3d();
  const afterKey = await pixels3d();
  expect(meanAbsDiff(front.grid, afterKey.grid), 'R shows the front view again').toBeLessThan(
    meanAbsDiff(front.grid, turnedAgain.grid) / 4,
  );
});

test('opening another case shows its labels in 3D', async ({ request }) => {
  await settled3d();
  const first = await pixels3d();
  const second = await caseData(request, shell, caseIds[1]);
  await page.getByTestId('case-item').nth(1).click();
  await waitForLabels(page, caseIds[1]);
  // Its classes as its labels have them: big ones drawn, absent ones not (small ones may hide inside others).
  const expected = (px: Awaited<ReturnType<typeof pixels3d>>): string[] =>
    classes.flatMap((c) => {
      const voxels = countOf(second.labels, c.value);
      if (voxels >= 100 && px.perClass[c.value] <= px.total * 0.002) return [`${c.name} (${voxels} voxels) not drawn`];
      if (voxels === 0 && px.perClass[c.value] > 0) return [`${c.name} drawn but absent`];
      return [];
    });
  await expect.poll(async () => expected(await pixels3d()), { message: "the second case's labels in 3D" }).toEqual([]);
  expect(meanAbsDiff(first.grid, (await pixels3d()).grid), 'another picture than the first case').toBeGreaterThan(1);
  expect(problems).toEqual([]);
});

test('the 3D button removes the view again', async () => {
  await page.getByTestId('toggle-3d').click();
  await expect(page.getByTestId('viewport-3d')).toHaveCount(0);
  await expect(page.getByTestId('hu-value')).toBeVisible();
  expect(problems).toEqual([]);
});
