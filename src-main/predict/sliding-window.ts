// Sliding-window inference on the model grid: overlapping patches, Gaussian importance weights
// (sigma = patch / 8), optional mirror test-time augmentation, softmax and per-voxel uncertainty.
//
// The importance map is a product of 1-D Gaussians and the patch starts form a Cartesian grid, so
// the sum of weights at a voxel is the product of three 1-D sums: no weight volume is stored.
// Logits (not probabilities) are averaged, then one softmax is taken.
import type { SegmentationModel } from './types';
import { throwIfAborted, Yielder } from './progress';

/** Window overlap when the caller names none. */
export const DEFAULT_OVERLAP = 0.5;

export type UncertaintyKind = 'entropy' | 'tta-disagreement' | 'none';

export interface SlidingWindowOptions {
  /** Fraction of a patch that neighbouring patches share, in [0, 1); default 0.5. */
  overlap?: number;
  /** Tensor axes (0 = D, 1 = H, 2 = W) that test-time augmentation mirrors; empty = no TTA. */
  ttaAxes?: number[];
  /** 'entropy': normalised entropy of the softmax; 'tta-disagreement': share of mirrored runs
   *  whose argmax differs from the consensus (needs ttaAxes); 'none'. Default 'entropy'. */
  uncertainty?: UncertaintyKind;
  /** Value (already normalised) outside the volume, where a patch overhangs it. */
  padValue: number;
  /**
   * true: a patch overhanging the volume along D reads the nearest end plane there instead of padValue (a scan
   * shorter than the window: the body goes on past its ends). Along H and W it is padValue either way.
   */
  edgeD?: boolean;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
  /**
   * Windows (start [z, y, x] and shape, tensor order) not worth running: none of their voxels can be labelled
   * (outside the organ's region). Their voxels keep the other windows' sums, which are complete for every voxel
   * that a run window covers; a voxel no run window covers ends at uniform logits, and the caller overwrites it.
   */
  skipWindow?: (start: [number, number, number], shape: [number, number, number]) => boolean;
}

export interface SlidingWindowResult {
  /** Softmax probabilities [C, D, H, W]. */
  probs: Float32Array;
  /** [D, H, W] in [0, 1], absent for uncertainty 'none'. */
  uncertainty?: Float32Array;
  patches: number;
  /** Windows skipped by skipWindow (not counted in patches). */
  skippedPatches: number;
  /** Network runs per patch (1 without TTA). */
  runsPerPatch: number;
}

/**
 * The window shape for a volume of `dims` (tensor order): the model's patch, grown per axis toward
 * the whole axis (rounded up to `patchMultiple`) but not beyond maxPatchSize.
 */
export function windowShape(dims: [number, number, number], model: SegmentationModel): [number, number, number] {
  const base = model.patchSize;
  const max = model.maxPatchSize;
  if (!max) return [base[0], base[1], base[2]];
  const m = model.patchMultiple ?? 16;
  return [0, 1, 2].map((a) => {
    const whole = Math.ceil(dims[a] / m) * m;
    const cap = Math.max(base[a], Math.floor(max[a] / m) * m);
    return Math.max(base[a], Math.min(whole, cap));
  }) as [number, number, number];
}

/** Patch start positions along one axis; a volume smaller than the patch gets one centred start. */
export function windowStarts(n: number, p: number, overlap: number): number[] {
  if (n <= p) {
    const pad = Math.floor((p - n) / 2);
    return [pad === 0 ? 0 : -pad];
  }
  const step = Math.max(1, p * (1 - overlap));
  const count = Math.ceil((n - p) / step) + 1;
  const starts: number[] = [];
  for (let s = 0; s < count; s++) starts.push(Math.round((s * (n - p)) / (count - 1)));
  return starts;
}

export function gaussian1d(p: number): Float64Array {
  const g = new Float64Array(p);
  const c = (p - 1) / 2;
  const sigma = p / 8;
  for (let t = 0; t < p; t++) g[t] = Math.exp(-((t - c) * (t - c)) / (2 * sigma * sigma));
  return g;
}

function axisWeightSum(n: number, p: number, starts: number[], g: Float64Array): Float64Array {
  const w = new Float64Array(n);
  for (const s of starts) {
    for (let t = 0; t < p; t++) {
      const x = s + t;
      if (x >= 0 && x < n) w[x] += g[t];
    }
  }
  return w;
}

/** All subsets of the allowed axes as bit masks (bit a = mirror tensor axis a); 0 first. */
export function flipMasks(axes: number[] | undefined): number[] {
  const allowed = [...new Set(axes ?? [])].filter((a) => a === 0 || a === 1 || a === 2);
  const masks = [0];
  for (const a of allowed) {
    const n = masks.length;
    for (let m = 0; m < n; m++) masks.push(masks[m] | (1 << a));
  }
  return masks;
}

/** Mirrors a [C, D, H, W] buffer along the axes in `mask` (its own inverse). */
export function mirror(
  src: Float32Array,
  dst: Float32Array,
  shape: [number, number, number],
  channels: number,
  mask: number,
): void {
  const [pd, ph, pw] = shape;
  const fz = (mask & 1) !== 0;
  const fy = (mask & 2) !== 0;
  const fx = (mask & 4) !== 0;
  const plane = ph * pw;
  const vol = pd * plane;
  for (let c = 0; c < channels; c++) {
    const base = c * vol;
    for (let z = 0; z < pd; z++) {
      const zo = base + (fz ? pd - 1 - z : z) * plane;
      for (let y = 0; y < ph; y++) {
        let i = base + z * plane + y * pw;
        const row = zo + (fy ? ph - 1 - y : y) * pw;
        if (fx) for (let x = pw - 1; x >= 0; x--) dst[row + x] = src[i++];
        else for (let x = 0; x < pw; x++) dst[row + x] = src[i++];
      }
    }
  }
}

function extractPatch(
  input: Float32Array,
  dims: [number, number, number],
  start: [number, number, number],
  shape: [number, number, number],
  padValue: number,
  out: Float32Array,
  edgeD = false,
): void {
  const [nd, nh, nw] = dims;
  const [pd, ph, pw] = shape;
  const x0 = Math.max(0, -start[2]);
  const x1 = Math.min(pw, nw - start[2]);
  let o = 0;
  for (let z = 0; z < pd; z++) {
    const iz = edgeD ? Math.min(nd - 1, Math.max(0, start[0] + z)) : start[0] + z;
    for (let y = 0; y < ph; y++, o += pw) {
      const iy = start[1] + y;
      if (iz < 0 || iz >= nd || iy < 0 || iy >= nh || x1 <= x0) {
        out.fill(padValue, o, o + pw);
        continue;
      }
      if (x0 > 0) out.fill(padValue, o, o + x0);
      const row = (iz * nh + iy) * nw + start[2];
      out.set(input.subarray(row + x0, row + x1), o + x0);
      if (x1 < pw) out.fill(padValue, o + x1, o + pw);
    }
  }
}

/** Runs the model over `input` ([D, H, W], normalised) and returns probabilities and uncertainty. */
export async function slidingWindow(
  input: Float32Array,
  dims: [number, number, number],
  model: SegmentationModel,
  opts: SlidingWindowOptions,
): Promise<SlidingWindowResult> {
  const shape = windowShape(dims, model);
  const C = model.classes;
  const overlap = opts.overlap ?? DEFAULT_OVERLAP;
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`overlap must be in [0, 1), got ${overlap}`);
  if (!shape.every((p) => Number.isInteger(p) && p > 0)) throw new Error(`patch size ${shape.join('×')} is not valid`);
  if (!Number.isInteger(C) || C < 1 || C > 255) throw new Error(`model class count ${C} must be 1..255`);
  const kind: UncertaintyKind = opts.uncertainty ?? 'entropy';
  const masks = flipMasks(opts.ttaAxes);
  const disagreement = kind === 'tta-disagreement' && masks.length > 1;

  const [nd, nh, nw] = dims;
  const N = nd * nh * nw;
  const P = shape[0] * shape[1] * shape[2];
  const starts = [0, 1, 2].map((a) => windowStarts(dims[a], shape[a], overlap));
  const g = [0, 1, 2].map((a) => gaussian1d(shape[a]));
  const wsum = [0, 1, 2].map((a) => axisWeightSum(dims[a], shape[a], starts[a], g[a]));

  const acc = new Float32Array(C * N);
  const uacc = disagreement ? new Float32Array(N) : undefined;
  const patch = new Float32Array(P);
  const mean = new Float32Array(C * P);
  const unflipped = masks.length > 1 ? new Float32Array(C * P) : mean;
  const votes = disagreement ? masks.map(() => new Uint8Array(P)) : [];
  const consensus = new Uint8Array(disagreement ? P : 0);
  const disBuf = new Float32Array(disagreement ? P : 0);
  const gyx = new Float32Array(shape[1] * shape[2]);
  const channelsLast = model.logitsLayout === 'DHWC' && C > 1;
  const planar = channelsLast ? new Float32Array(C * P) : mean;

  // Network runs go out in batches: a patch's mirrored copies and, when they fit, further patches.
  const batch = Math.max(1, Math.floor((model.predictPatches && model.batchFor?.(shape)) || 1));
  const runs = masks.length;
  const patchesPerGroup = Math.max(1, Math.floor(batch / runs));
  const allStarts: [number, number, number][] = [];
  let skippedPatches = 0;
  for (const sz of starts[0])
    for (const sy of starts[1])
      for (const sx of starts[2]) {
        if (opts.skipWindow?.([sz, sy, sx], shape)) skippedPatches++;
        else allStarts.push([sz, sy, sx]);
      }
  const inputs = Array.from({ length: patchesPerGroup * runs }, () => new Float32Array(P));
  const runBatch = async (list: Float32Array[]): Promise<Float32Array[]> => {
    throwIfAborted(opts.signal);
    if (list.length > 1 && model.predictPatches) return model.predictPatches(list, opts.signal, shape);
    const out: Float32Array[] = [];
    for (const inp of list) out.push(await model.predictPatch(inp, opts.signal, shape));
    return out;
  };

  const total = allStarts.length;
  const yielder = new Yielder(opts.signal);
  let done = 0;
  try {
    for (let g0 = 0; g0 < total; g0 += patchesPerGroup) {
      await yielder.maybeYield();
      const group = allStarts.slice(g0, g0 + patchesPerGroup);
      for (let q = 0; q < group.length; q++) {
        extractPatch(input, dims, group[q], shape, opts.padValue, patch, opts.edgeD);
        for (let f = 0; f < runs; f++) {
          if (masks[f] === 0) inputs[q * runs + f].set(patch);
          else mirror(patch, inputs[q * runs + f], shape, 1, masks[f]);
        }
      }
      const want = group.length * runs;
      const outs: Float32Array[] = [];
      for (let k = 0; k < want; k += batch) outs.push(...(await runBatch(inputs.slice(k, Math.min(want, k + batch)))));
      for (let q = 0; q < group.length; q++) {
        if (runs > 1) mean.fill(0);
        for (let f = 0; f < runs; f++) {
          const m = masks[f];
          const logits = outs[q * runs + f];
          if (!(logits instanceof Float32Array) || logits.length !== C * P) {
            throw new Error(
              `the model returned ${logits?.length ?? 'no'} logits for a ${shape.join('×')} patch; expected ${C}×${P}`,
            );
          }
          let back = logits;
          if (channelsLast) {
            channelsLastToFirst(logits, C, P, planar);
            back = planar;
          }
          if (runs === 1) {
            mean.set(back);
            continue;
          }
          if (m !== 0) {
            mirror(back, unflipped, shape, C, m);
            back = unflipped;
          }
          for (let n = 0; n < C * P; n++) mean[n] += back[n];
          if (disagreement) argmaxInto(back, C, P, votes[f]);
        }
        if (runs > 1) {
          const inv = 1 / runs;
          for (let n = 0; n < C * P; n++) mean[n] *= inv;
        }
        let dis: Float32Array | undefined;
        if (disagreement) {
          argmaxInto(mean, C, P, consensus);
          dis = disBuf;
          dis.fill(0);
          for (const v of votes) for (let n = 0; n < P; n++) if (v[n] !== consensus[n]) dis[n] += 1;
          for (let n = 0; n < P; n++) dis[n] /= runs;
        }
        accumulate(acc, uacc, mean, dis, dims, group[q], shape, g, gyx, C);
        done++;
        opts.onProgress?.(done / total, `patch ${done} of ${total}${runs > 1 ? ` (×${runs} mirrored)` : ''}`);
      }
    }
  } finally {
    model.releaseBuffers?.();
  }

  // Normalise by the weight sums, softmax in place, uncertainty.
  const unc = kind === 'none' ? undefined : (uacc ?? new Float32Array(N));
  const logC = C > 1 ? Math.log(C) : 1;
  const tmp = new Float64Array(C);
  let v = 0;
  for (let z = 0; z < nd; z++) {
    for (let y = 0; y < nh; y++) {
      const wzy = wsum[0][z] * wsum[1][y];
      for (let x = 0; x < nw; x++, v++) {
        const inv = 1 / (wzy * wsum[2][x]);
        let max = -Infinity;
        for (let c = 0; c < C; c++) {
          const l = acc[c * N + v] * inv;
          tmp[c] = l;
          if (l > max) max = l;
        }
        let sum = 0;
        let dot = 0;
        for (let c = 0; c < C; c++) {
          const d = tmp[c] - max;
          const e = Math.exp(d);
          tmp[c] = e;
          sum += e;
          dot += e * d;
        }
        const invSum = 1 / sum;
        for (let c = 0; c < C; c++) acc[c * N + v] = tmp[c] * invSum;
        // Entropy with one log per voxel: -sum p log p = log S - sum p (l - max).
        const ent = Math.log(sum) - dot * invSum;
        if (unc) unc[v] = uacc ? uacc[v] * inv : Math.min(1, Math.max(0, ent / logC));
      }
    }
    if ((z & 7) === 7) await yielder.maybeYield();
  }
  if (C === 1 && unc && !uacc) unc.fill(0);
  return { probs: acc, uncertainty: unc, patches: total, skippedPatches, runsPerPatch: masks.length };
}

/** [P, C] (channels last) → [C, P] (channels first). */
export function channelsLastToFirst(src: Float32Array, C: number, P: number, dst: Float32Array): void {
  for (let c = 0; c < C; c++) {
    const o = c * P;
    for (let n = 0, i = c; n < P; n++, i += C) dst[o + n] = src[i];
  }
}

function argmaxInto(logits: Float32Array, C: number, P: number, out: Uint8Array): void {
  for (let n = 0; n < P; n++) {
    let best = 0;
    let bv = logits[n];
    for (let c = 1; c < C; c++) {
      const l = logits[c * P + n];
      if (l > bv) {
        bv = l;
        best = c;
      }
    }
    out[n] = best;
  }
}

function accumulate(
  acc: Float32Array,
  uacc: Float32Array | undefined,
  logits: Float32Array,
  dis: Float32Array | undefined,
  dims: [number, number, number],
  start: [number, number, number],
  shape: [number, number, number],
  g: Float64Array[],
  gyx: Float32Array,
  C: number,
): void {
  const [nd, nh, nw] = dims;
  const [pd, ph, pw] = shape;
  const N = nd * nh * nw;
  const P = pd * ph * pw;
  const z0 = Math.max(0, -start[0]);
  const z1 = Math.min(pd, nd - start[0]);
  const y0 = Math.max(0, -start[1]);
  const y1 = Math.min(ph, nh - start[1]);
  const x0 = Math.max(0, -start[2]);
  const x1 = Math.min(pw, nw - start[2]);
  for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) gyx[y * pw + x] = g[1][y] * g[2][x];
  const wrow = new Float32Array(pw);
  for (let z = z0; z < z1; z++) {
    const gz = g[0][z];
    for (let y = y0; y < y1; y++) {
      const vrow = ((start[0] + z) * nh + start[1] + y) * nw + start[2];
      const prow = (z * ph + y) * pw;
      const grow = y * pw;
      for (let x = x0; x < x1; x++) wrow[x] = gz * gyx[grow + x];
      for (let c = 0; c < C; c++) {
        const vo = c * N + vrow;
        const po = c * P + prow;
        for (let x = x0; x < x1; x++) acc[vo + x] += wrow[x] * logits[po + x];
      }
      if (uacc && dis) for (let x = x0; x < x1; x++) uacc[vrow + x] += wrow[x] * dis[prow + x];
    }
  }
}
