// Benchmark of the whole-volume label tools run in the Web Worker, in Debian Chromium (web shell):
// per action, ms from the click until the change is applied, the main thread's own share (label
// copy out, change applied), and the longest main-thread task while it ran (what the user feels).
// Prints one JSON object. Usage: npx tsx tests/browser/labels-worker-bench.ts [--dims 512,512,120]
// Needs a built renderer (npm run build).
import { openLabelBenchPage } from './benchPage';

const at = process.argv.indexOf('--dims');
const dims = (at >= 0 ? process.argv[at + 1] : '512,512,120').split(',').map(Number) as [number, number, number];
if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 8)) {
  console.error('usage: labels-worker-bench.ts [--dims I,J,K]');
  process.exit(2);
}

interface MiniWin {
  __deformuxLabels?: { caseId(): string | null; counts(): number[] };
  __longTasks?: number[];
  performance: { getEntriesByName(n: string): { duration: number }[]; clearMeasures(): void };
  PerformanceObserver: new (cb: (list: { getEntries(): { duration: number }[] }) => void) => {
    observe(o: { type: string }): void;
  };
}

const round = (x: number) => Math.round(x * 10) / 10;
const ACTIONS = [
  { name: 'keepLargest', button: 'action-keep-largest' },
  { name: 'removeSmall', button: 'action-remove-small' },
  { name: 'smoothMedian', button: 'action-smooth', method: 'median' },
  { name: 'smoothClose', button: 'action-smooth', method: 'close' },
  { name: 'interpolate', button: 'action-interpolate' },
];

const { page, close } = await openLabelBenchPage(dims);
try {
  await page.evaluate(() => {
    const w = globalThis as unknown as MiniWin;
    w.__longTasks = [];
    new w.PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks!.push(e.duration);
    }).observe({ type: 'longtask' });
  });
  const results: Record<string, unknown> = {};
  for (const a of ACTIONS) {
    if (a.method) await page.getByTestId('smooth-method').selectOption(a.method);
    await page.evaluate(() => {
      const w = globalThis as unknown as MiniWin;
      w.performance.clearMeasures();
      w.__longTasks = [];
    });
    await page.getByTestId(a.button).click();
    await page.getByTestId('action-message').filter({ hasText: 'voxels changed' }).waitFor({ timeout: 120_000 });
    // No named helpers inside: tsx would wrap them in a helper the page does not have.
    const m = await page.evaluate(() => {
      const w = globalThis as unknown as MiniWin;
      const [total, copy, apply] = [
        'deformux.labels.tool',
        'deformux.labels.toolCopy',
        'deformux.labels.toolApply',
      ].map((n) => w.performance.getEntriesByName(n)[0]?.duration ?? null);
      return { totalMs: total, copyMs: copy, applyMs: apply, longestTaskMs: Math.max(0, ...(w.__longTasks ?? [])) };
    });
    const message = await page.getByTestId('action-message').textContent();
    results[a.name] = {
      totalMs: m.totalMs === null ? null : round(m.totalMs),
      copyMs: m.copyMs === null ? null : round(m.copyMs),
      applyMs: m.applyMs === null ? null : round(m.applyMs),
      longestMainThreadTaskMs: round(m.longestTaskMs),
      voxelsChanged: Number(/(\d+) voxels changed/.exec(message ?? '')?.[1] ?? NaN),
    };
    // Back to the phantom's labels for the next action.
    if (await page.getByTestId('undo-button').isEnabled()) await page.getByTestId('undo-button').click();
    // Let the undo's redraw and the autosave (2 s after an edit) pass: their tasks are not the tool's.
    await page.waitForTimeout(4000);
  }
  console.log(JSON.stringify({ bench: 'renderer.labelTools.worker', dims, ...results }));
} finally {
  await close();
}
