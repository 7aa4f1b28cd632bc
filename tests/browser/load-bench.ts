// Benchmark of the first page load in Debian Chromium (web shell, production build): from navigation
// to the first contentful paint, to the worklist showing the project's cases, to the first visible
// image of the opened case (its preview slice, or the volume when that came first) and to the whole
// volume drawn in the views; plus the size of the JavaScript the page fetched before its first paint.
// Prints one JSON object per run (a fresh browser context each: nothing cached in the browser; the
// web shell keeps the case in memory after run 0). Target: first visible image < 3 s.
// Usage: npx tsx tests/browser/load-bench.ts [--dims 256,256,120] [--runs 3]
// Needs a built renderer (npm run build).
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { startWebShell } from './webShell';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const dims = arg('--dims', '256,256,120').split(',').map(Number) as [number, number, number];
const runs = Number(arg('--runs', '3'));
if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 8) || !(runs >= 1)) {
  console.error('usage: load-bench.ts [--dims I,J,K] [--runs N]');
  process.exit(2);
}

interface MiniCanvas {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
interface MiniDocument {
  querySelector(sel: string): (MiniCanvas & { getAttribute(n: string): string | null }) | null;
}

interface MiniPerf {
  performance: {
    getEntriesByName(n: string): { startTime: number; duration: number }[];
    getEntriesByType(t: string): { name: string; startTime: number; responseEnd?: number; encodedBodySize?: number }[];
  };
}

const shell = await startWebShell({ demoCases: 1, demoDims: dims, startTimeoutMs: 300_000 });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
try {
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 800, height: 660 } });
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(shell.url);
    await page.getByTestId('case-item').first().waitFor({ timeout: 120_000 });
    const worklistMs = Date.now() - t0;
    await page.waitForFunction(
      () => {
        const p = (globalThis as unknown as MiniPerf).performance;
        return (
          p.getEntriesByName('deformux.case.preview').length > 0 ||
          p.getEntriesByName('deformux.case.firstImage').length > 0
        );
      },
      null,
      { timeout: 300_000, polling: 20 },
    );
    const firstVisibleMs = Date.now() - t0;
    // What the preview shows then: the share of the axial view that is not black (null: no preview).
    const previewNonBlack = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: MiniDocument }).document;
      const c = doc.querySelector('[data-testid="preview-axial"]');
      if (!c || c.getAttribute('data-drawn') !== 'true') return null;
      const px = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      if (!px) return null;
      let lit = 0;
      for (let n = 0; n < px.length; n += 4) if (px[n] > 8) lit++;
      return Math.round((lit / (px.length / 4)) * 1000) / 1000;
    });
    await page.waitForFunction(
      () => (globalThis as unknown as MiniPerf).performance.getEntriesByName('deformux.case.firstImage').length > 0,
      null,
      { timeout: 300_000, polling: 20 },
    );
    const firstImageMs = Date.now() - t0;
    const paint = await page.evaluate(() => {
      const p = (globalThis as unknown as MiniPerf).performance;
      const fcp = p.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')?.startTime ?? null;
      const scripts = p
        .getEntriesByType('resource')
        .filter((e) => /\.js$/.test(e.name) && (fcp === null || (e.responseEnd ?? 0) < fcp))
        .reduce((s, e) => s + (e.encodedBodySize ?? 0), 0);
      // Where the first image's time went: the open call, the voxel download, the volume's setup.
      // (No named functions in here: tsx would wrap them in a helper the page does not have.)
      const phases: Record<string, number | null> = {};
      for (const [key, name] of [
        ['open', 'deformux.case.open'],
        ['download', 'deformux.case.download'],
        ['preview', 'deformux.case.preview'],
        ['volumeSetup', 'deformux.volume.setup'],
        ['requestToFirstImage', 'deformux.case.firstImage'],
      ]) {
        const e = p.getEntriesByName(name)[0];
        phases[key] = e ? Math.round(e.duration) : null;
        phases[`${key}StartMs`] = e ? Math.round(e.startTime) : null;
        // Page clock (ms since navigation started) when it ended: for the preview and the first image, on screen.
        phases[`${key}EndMs`] = e ? Math.round(e.startTime + e.duration) : null;
      }
      // When the Cornerstone views were created (their code loads apart from the viewer's frame).
      const views = p.getEntriesByName('deformux.viewer.viewsReady')[0];
      phases.viewsReadyMs = views ? Math.round(views.startTime) : null;
      return { fcp, scripts, phases };
    });
    console.log(
      JSON.stringify({
        bench: 'renderer.load',
        dims,
        run,
        firstContentfulPaintMs: paint.fcp === null ? null : Math.round(paint.fcp),
        navigationToWorklistMs: worklistMs,
        // From the page's own clock; the two after them are when this script noticed (a busy page answers late).
        firstVisibleImageMs: Math.min(
          paint.phases.previewEndMs ?? Infinity,
          paint.phases.requestToFirstImageEndMs ?? Infinity,
        ),
        fullVolumeImageMs: paint.phases.requestToFirstImageEndMs,
        navigationToFirstVisibleMs: firstVisibleMs,
        navigationToFirstImageMs: firstImageMs,
        previewNonBlack,
        scriptBytesBeforeFirstPaint: paint.scripts,
        phasesMs: paint.phases,
      }),
    );
    await context.close();
  }
} finally {
  await browser.close();
  await shell.close();
}
