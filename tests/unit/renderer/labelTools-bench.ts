// Benchmark of the whole-segment correction operations on a CT-sized label volume (default
// 512×512×120, a kidney-like ellipsoid with islands and pinholes): ms per operation, one JSON line.
// Usage: npx tsx tests/unit/renderer/labelTools-bench.ts [--dims 512,512,120]
import { countClasses, StrokeRecorder, type LabelGrid } from '../../../src-renderer/lib/labels/labelGrid';
import { removeIslands } from '../../../src-renderer/lib/labels/removeIslands';
import { interpolateSlices } from '../../../src-renderer/lib/labels/interpolateSlices';
import { smoothSegment } from '../../../src-renderer/lib/labels/smoothSegment';
import { floodFill } from '../../../src-renderer/lib/labels/floodFill';
import { fillCircle } from '../../../src-renderer/lib/labels/fillCircle';
import { clearSegment } from '../../../src-renderer/lib/labels/clearSegment';

const at = process.argv.indexOf('--dims');
const dims = (at >= 0 ? process.argv[at + 1] : '512,512,120').split(',').map(Number) as [number, number, number];
if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 16)) {
  console.error('usage: labelTools-bench.ts [--dims I,J,K] (each ≥ 16)');
  process.exit(2);
}
const [ni, nj, nk] = dims;

function phantom(): LabelGrid {
  const labels = new Uint8Array(ni * nj * nk);
  const c = [ni / 2, nj / 2, nk / 2];
  const r = [ni / 6, nj / 5, nk / 3];
  for (let k = 0, n = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++, n++) {
        const d = ((i - c[0]) / r[0]) ** 2 + ((j - c[1]) / r[1]) ** 2 + ((k - c[2]) / r[2]) ** 2;
        // Pinholes inside, a sprinkle of single-voxel islands outside.
        if (d <= 1 && (i * 7 + j * 13 + k * 5) % 97 !== 0) labels[n] = 1;
        else if ((i * 31 + j * 17 + k * 11) % 2003 === 0) labels[n] = 1;
      }
  return { dims, spacingMm: [0.8, 0.8, 2.5], labels };
}

const results: Record<string, number> = {};
function time(name: string, op: (g: LabelGrid, rec: StrokeRecorder) => number): void {
  const g = phantom();
  const rec = new StrokeRecorder(g.labels, countClasses(g.labels));
  const t0 = performance.now();
  op(g, rec);
  rec.finish();
  results[`${name}Ms`] = Math.round(performance.now() - t0);
}

const none: ReadonlySet<number> = new Set();
time('keepLargest', (g, rec) => removeIslands(g, 1, { keep: 'largest' }, none, rec));
time('removeSmall', (g, rec) => removeIslands(g, 1, { minVoxels: 100 }, none, rec));
time('smoothMedian', (g, rec) => smoothSegment(g, 1, 'median', none, rec));
time('smoothClose', (g, rec) => smoothSegment(g, 1, 'close', none, rec));
time('interpolate', (g, rec) => {
  // Keep every 6th slice of the segment, then fill the gaps back.
  for (let k = 0; k < nk; k++) if (k % 6 !== 0) g.labels.fill(0, k * ni * nj, (k + 1) * ni * nj);
  return interpolateSlices(g, 1, 2, none, rec);
});
time('paintFillSlice', (g, rec) => floodFill(g, { value: 2, locked: none }, [2, 2, nk / 2], 2, rec));
time('circleScissors3d', (g, rec) =>
  fillCircle(g, { value: 0, locked: none }, [ni / 2, nj / 2, 0], 40, 2, 0, true, rec),
);
time('clearSegment', (g, rec) => clearSegment(g, 1, none, rec));
console.log(JSON.stringify({ dims, ...results }));
