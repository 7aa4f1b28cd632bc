// Benchmark of the viewer in Debian Chromium (web shell, swiftshader): time to first image and ms
// per slice while scrolling, for a synthetic phantom. Prints one JSON object.
// Usage: npx tsx tests/browser/viewer-bench.ts [--dims 512,512,300] [--slices 40]
// Needs a built renderer (npm run build).
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { startWebShell } from './webShell';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const dims = arg('--dims', '512,512,300').split(',').map(Number) as [number, number, number];
const slices = Number(arg('--slices', '40'));
if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 8) || !(slices > 0)) {
  console.error('usage: viewer-bench.ts [--dims I,J,K] [--slices N]');
  process.exit(2);
}

interface MiniEl {
  getAttribute(n: string): string | null;
  textContent: string | null;
  addEventListener(t: string, f: () => void, o: { once: boolean }): void;
}
interface MiniWin {
  document: { querySelector(s: string): MiniEl | null };
  dispatchEvent(e: unknown): void;
  KeyboardEvent: new (type: string, init: { key: string }) => unknown;
  performance: { now(): number };
}

/** In Chromium: all three views have rendered and the app has timed its first image. */
function allRendered(): boolean {
  // No named helpers inside: tsx would wrap them in a __name() call that Chromium does not have.
  const w = globalThis as unknown as MiniWin;
  const ttfi = w.document.querySelector('[data-testid="ttfi"]')?.textContent ?? '';
  return (
    ttfi.endsWith('ms') &&
    ['axial', 'sagittal', 'coronal'].every(
      (v) =>
        Number(
          w.document
            .querySelector(`[data-testid="viewport-${v}"] [data-render-count]`)
            ?.getAttribute('data-render-count') ?? 0,
        ) > 0,
    )
  );
}

/** In Chromium: the app's performance measures (case.open, case.download, volume.setup, case.firstImage). */
function phases(): Record<string, number> {
  const perf = (
    globalThis as unknown as { performance: { getEntriesByType(t: string): { name: string; duration: number }[] } }
  ).performance;
  const out: Record<string, number> = {};
  for (const e of perf.getEntriesByType('measure')) {
    if (e.name.startsWith('deformux.')) out[e.name.slice('deformux.'.length)] = Math.round(e.duration);
  }
  return out;
}

/** In Chromium: ArrowUp n times, each time waiting for the axial view's IMAGE_RENDERED; ms per slice. */
async function scroll(n: number): Promise<number> {
  const w = globalThis as unknown as MiniWin;
  const el = w.document.querySelector('[data-testid="viewport-axial"] [data-render-count]')!;
  const t0 = w.performance.now();
  for (let s = 0; s < n; s++) {
    const rendered = new Promise<void>((r) =>
      el.addEventListener('CORNERSTONE_IMAGE_RENDERED', () => r(), { once: true }),
    );
    w.dispatchEvent(new w.KeyboardEvent('keydown', { key: 'ArrowUp' }));
    await rendered;
  }
  return (w.performance.now() - t0) / n;
}

const tStart = Date.now();
const shell = await startWebShell({ demoCases: 1, demoDims: dims, startTimeoutMs: 600_000 });
const serverStartMs = Date.now() - tStart;
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
const result: Record<string, unknown> = {
  benchmark: 'viewer',
  dims,
  serverStartMs,
  browser: browser.version(),
  views: [],
};
try {
  for (const [label, viewport] of [
    ['256px', { width: 800, height: 660 }],
    ['400px', { width: 1100, height: 960 }],
  ] as const) {
    const page = await browser.newPage({ viewport });
    const t0 = Date.now();
    await page.goto(shell.url);
    await page.waitForFunction(allRendered, null, { timeout: 300_000, polling: 20 });
    const navigationToThreeViewsMs = Date.now() - t0;
    const ttfi = (await page.getByTestId('ttfi').textContent()) ?? '';
    const phasesMs = await page.evaluate(phases);
    const box = (await page.getByTestId('viewport-axial').boundingBox())!;
    await page.evaluate(scroll, 3); // warm-up
    const msPerSlice = await page.evaluate(scroll, slices);
    (result.views as unknown[]).push({
      viewPx: [Math.round(box.width), Math.round(box.height)],
      label,
      timeToFirstImageMs: Number.parseInt(ttfi, 10),
      navigationToThreeViewsMs,
      phasesMs,
      msPerSlice: Math.round(msPerSlice * 10) / 10,
      slicesScrolled: slices,
    });
    await page.close();
  }
} finally {
  await browser.close();
  await shell.close();
}
console.log(JSON.stringify(result));
