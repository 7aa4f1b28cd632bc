// The label-tool worker's logic without a browser: runLabelTool gives exactly the pure functions'
// result as one change, progress is reported in order up to 1, the runner forwards progress,
// transfers the labels, cancels by terminating and reports worker errors; and the heat colour map.
import { describe, expect, it } from 'vitest';
import { countClasses, StrokeRecorder, type LabelGrid } from '../../../src-renderer/lib/labels/labelGrid';
import { removeIslands } from '../../../src-renderer/lib/labels/removeIslands';
import { interpolateSlices } from '../../../src-renderer/lib/labels/interpolateSlices';
import { smoothSegment } from '../../../src-renderer/lib/labels/smoothSegment';
import {
  runLabelTool,
  throttled,
  type LabelToolMessage,
  type LabelToolOp,
  type LabelToolRequest,
} from '../../../src-renderer/lib/workers/labelTools';
import { startLabelTool, type ToolWorker } from '../../../src-renderer/lib/workers/labelToolRunner';
import { HEAT_FLOOR, heatColor, heatLut, isHeatPixel } from '../../../src-renderer/lib/viewer/heatColormap';

const dims: [number, number, number] = [16, 13, 10];
const spacingMm: [number, number, number] = [0.8, 0.8, 2.5];
const N = dims[0] * dims[1] * dims[2];

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Random blobs of classes 1..3: islands, pinholes and gaps between slices for every operation. */
function randomLabels(seed: number): Uint8Array {
  const r = rng(seed);
  const labels = new Uint8Array(N);
  for (let n = 0; n < N; n++) labels[n] = r() < 0.4 ? 1 + Math.floor(r() * 3) : 0;
  // Empty slices of class 1 between filled ones, for interpolation.
  for (const k of [3, 4, 7]) for (let n = k * dims[0] * dims[1]; n < (k + 1) * dims[0] * dims[1]; n++) labels[n] = 0;
  return labels;
}

const OPS: { op: LabelToolOp; direct: (g: LabelGrid, locked: ReadonlySet<number>, rec: StrokeRecorder) => number }[] = [
  { op: { kind: 'keepLargest' }, direct: (g, l, rec) => removeIslands(g, 1, { keep: 'largest' }, l, rec) },
  { op: { kind: 'removeSmall', minVoxels: 3 }, direct: (g, l, rec) => removeIslands(g, 1, { minVoxels: 3 }, l, rec) },
  { op: { kind: 'smooth', method: 'close' }, direct: (g, l, rec) => smoothSegment(g, 1, 'close', l, rec) },
  { op: { kind: 'smooth', method: 'median' }, direct: (g, l, rec) => smoothSegment(g, 1, 'median', l, rec) },
  { op: { kind: 'interpolate', normalAxis: 2 }, direct: (g, l, rec) => interpolateSlices(g, 1, 2, l, rec) },
];

describe('runLabelTool', () => {
  for (const { op, direct } of OPS) {
    it(`${JSON.stringify(op)}: the same voxels as the pure function, as one change, progress up to 1`, () => {
      const start = randomLabels(7);
      const locked = [3];
      const reference = { dims, spacingMm, labels: start.slice() };
      const refChanged = direct(
        reference,
        new Set(locked),
        new StrokeRecorder(reference.labels, countClasses(reference.labels)),
      );
      const seen: number[] = [];
      const req: LabelToolRequest = { op, dims, spacingMm, labels: start.slice(), segment: 1, locked };
      const res = runLabelTool(req, (f) => seen.push(f));
      expect(res.changed).toBe(refChanged);
      expect(res.changed).toBeGreaterThan(0);
      // Applying the change to the untouched labels gives the reference result exactly.
      const applied = start.slice();
      const c = res.change!;
      for (let n = 0; n < c.indices.length; n++) {
        expect(applied[c.indices[n]]).toBe(c.before[n]);
        applied[c.indices[n]] = c.after[n];
      }
      expect(applied).toEqual(reference.labels);
      for (let n = 0; n < N; n++) if (start[n] === 3) expect(applied[n]).toBe(3);
      expect(seen.length).toBeGreaterThan(2);
      expect(seen.at(-1)).toBe(1);
      for (let n = 1; n < seen.length; n++) expect(seen[n]).toBeGreaterThanOrEqual(seen[n - 1]);
      for (const f of seen) expect(f >= 0 && f <= 1).toBe(true);
    });
  }

  it('returns no change when nothing changes, and names a size mismatch', () => {
    const empty: LabelToolRequest = {
      op: { kind: 'keepLargest' },
      dims,
      spacingMm,
      labels: new Uint8Array(N),
      segment: 1,
      locked: [],
    };
    expect(runLabelTool(empty)).toEqual({ changed: 0, change: null });
    expect(() => runLabelTool({ ...empty, labels: new Uint8Array(N - 1) })).toThrow(/label voxels for a 16×13×10 grid/);
  });
});

describe('throttled', () => {
  it('passes at most one report per interval, always the final 1, clamped', () => {
    let t = 0;
    const got: number[] = [];
    const report = throttled(
      (f) => got.push(f),
      50,
      () => t,
    );
    report(-0.2);
    t = 10;
    report(0.3);
    t = 60;
    report(0.5);
    t = 70;
    report(1.2);
    expect(got).toEqual([0, 0.5, 1]);
  });
});

/** A stand-in worker: records what it is sent, and the test answers for it. */
class FakeWorker implements ToolWorker {
  onmessage: ((e: { data: LabelToolMessage }) => void) | null = null;
  onerror: ((e: { message?: string }) => void) | null = null;
  sent: { message: LabelToolRequest; transfer: ArrayBuffer[] }[] = [];
  terminated = false;
  postMessage(message: LabelToolRequest, transfer: ArrayBuffer[]): void {
    this.sent.push({ message, transfer });
  }
  terminate(): void {
    this.terminated = true;
  }
  reply(m: LabelToolMessage): void {
    this.onmessage?.({ data: m });
  }
}

describe('startLabelTool', () => {
  const request = (): LabelToolRequest => ({
    op: { kind: 'smooth', method: 'median' },
    dims,
    spacingMm,
    labels: randomLabels(3),
    segment: 1,
    locked: [],
  });

  it('transfers the labels, forwards progress and resolves with the result', async () => {
    const w = new FakeWorker();
    const progress: number[] = [];
    const req = request();
    const job = startLabelTool(
      req,
      (f) => progress.push(f),
      () => w,
    );
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0].transfer).toEqual([req.labels.buffer]);
    w.reply({ type: 'progress', fraction: 0.25 });
    w.reply({ type: 'progress', fraction: 0.75 });
    const result = { changed: 2, change: null };
    w.reply({ type: 'done', result });
    await expect(job.done).resolves.toEqual(result);
    expect(progress).toEqual([0.25, 0.75]);
    expect(w.terminated).toBe(true);
  });

  it('cancel terminates the worker, resolves null and ignores late messages', async () => {
    const w = new FakeWorker();
    const progress: number[] = [];
    const job = startLabelTool(
      request(),
      (f) => progress.push(f),
      () => w,
    );
    w.reply({ type: 'progress', fraction: 0.1 });
    job.cancel();
    expect(w.terminated).toBe(true);
    w.reply({ type: 'progress', fraction: 0.9 });
    w.reply({ type: 'done', result: { changed: 5, change: null } });
    await expect(job.done).resolves.toBeNull();
    expect(progress).toEqual([0.1]);
  });

  it('rejects with the worker error message, or a load failure', async () => {
    const w = new FakeWorker();
    const job = startLabelTool(
      request(),
      () => {},
      () => w,
    );
    w.reply({ type: 'error', message: 'segment must be a class value 0..255, got 300' });
    await expect(job.done).rejects.toThrow('got 300');
    const w2 = new FakeWorker();
    const job2 = startLabelTool(
      request(),
      () => {},
      () => w2,
    );
    w2.onerror?.({ message: '' });
    await expect(job2.done).rejects.toThrow(/label tool worker failed: could not start/);
    expect(w2.terminated).toBe(true);
  });
});

describe('heat colour map', () => {
  it('is transparent at 0 and below the floor, yellow → red with rising opacity above it', () => {
    expect(heatColor(0)).toEqual([0, 0, 0, 0]);
    const floor = Math.ceil(HEAT_FLOOR * 255);
    expect(heatColor(floor - 1)[3]).toBe(0);
    expect(heatColor(floor)[0]).toBe(255);
    expect(heatColor(floor)[1]).toBeGreaterThan(240); // yellow
    expect(heatColor(255)).toEqual([255, 0, 0, 255]); // opaque red
    const lut = heatLut();
    expect(lut).toHaveLength(256);
    for (let v = floor + 1; v < 256; v++) {
      expect(lut[v][1]).toBeLessThanOrEqual(lut[v - 1][1]);
      expect(lut[v][3]).toBeGreaterThanOrEqual(lut[v - 1][3]);
      expect(lut[v][2]).toBe(0);
      expect(isHeatPixel(lut[v][0], lut[v][1], lut[v][2])).toBe(true);
    }
    expect(isHeatPixel(120, 120, 120)).toBe(false); // grey CT
  });

  it('rejects values outside 0..255', () => {
    for (const v of [-1, 256, 1.5, Number.NaN]) expect(() => heatColor(v)).toThrow(/whole number 0..255/);
  });
});
