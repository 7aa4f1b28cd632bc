// Benchmark of brush feedback in Debian Chromium (web shell, swiftshader): ms per brush dab
// (voxel writes + labelmap copy) and ms until the view has drawn it, on a synthetic phantom's
// axial slice. Prints one JSON object. Issue 6 asks for under 50 ms per dab on a 512×512 slice.
// Usage: npx tsx tests/browser/labels-bench.ts [--dims 512,512,40] [--moves 40] [--radius-mm 8]
// Needs a built renderer (npm run build).
import { openLabelBenchPage } from './benchPage';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const dims = arg('--dims', '512,512,40').split(',').map(Number) as [number, number, number];
const moves = Number(arg('--moves', '40'));
const radiusMm = Number(arg('--radius-mm', '8'));
if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 8) || !(moves > 0) || !(radiusMm > 0)) {
  console.error('usage: labels-bench.ts [--dims I,J,K] [--moves N] [--radius-mm R]');
  process.exit(2);
}

interface MiniWin {
  __deformuxLabels?: { caseId(): string | null; counts(): number[] };
  performance: { getEntriesByName(n: string): { duration: number }[]; clearMeasures(): void };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
}
const round = (x: number) => Math.round(x * 100) / 100;

const { page, close } = await openLabelBenchPage(dims);
try {
  await page.getByTestId('tool-brush').click();
  await page.getByTestId('brush-radius').fill(String(radiusMm));
  await page.getByTestId('brush-radius').press('Enter');
  await page.evaluate(() => (globalThis as unknown as MiniWin).performance.clearMeasures());
  const box = (await page.getByTestId('viewport-axial').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.5);
  await page.mouse.down();
  for (let m = 1; m <= moves; m++) {
    const t = m / moves;
    await page.mouse.move(box.x + box.width * (0.25 + 0.5 * t), box.y + box.height * (0.5 + 0.2 * Math.sin(t * 6)));
    await page.waitForTimeout(30);
  }
  await page.mouse.up();
  await page.waitForTimeout(300);
  const [dab, feedback] = await page.evaluate(() => {
    const p = (globalThis as unknown as MiniWin).performance;
    return [
      p.getEntriesByName('deformux.brush.dab').map((e) => e.duration),
      p.getEntriesByName('deformux.brush.feedback').map((e) => e.duration),
    ];
  });
  console.log(
    JSON.stringify({
      bench: 'renderer.brush',
      dims,
      radiusMm,
      viewPx: [Math.round(box.width), Math.round(box.height)],
      dabs: dab.length,
      dabMsMedian: round(quantile(dab, 0.5)),
      dabMsP95: round(quantile(dab, 0.95)),
      feedbackFrames: feedback.length,
      feedbackMsMedian: round(quantile(feedback, 0.5)),
      feedbackMsP95: round(quantile(feedback, 0.95)),
    }),
  );
} finally {
  await close();
}
