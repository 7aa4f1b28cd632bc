// Device check for the CUDA kernels (run on a GPU machine, after `node scripts/build-native.mjs --force`):
// CUDA vs the CPU kernels (|cuda - cpu| <= tol + |cpu| * eps), determinism of the backward (two runs, same
// bits), and timings of both. Prints one JSON line per case; exits 1 on any mismatch.
//   node native/harness/cuda_check.mjs
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const addon = require(join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'Release', 'deformux_native.node'));
const why = addon.cudaInit();
if (why) {
  console.log(JSON.stringify({ cuda: false, reason: why }));
  process.exit(2);
}

let seed = 7;
const rand = (n, s = 1) => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    out[i] = (seed / 4294967296 - 0.5) * 2 * s;
  }
  return out;
};
const worst = (got, ref, tol, eps) => {
  let w = 0;
  for (let i = 0; i < ref.length; i++)
    w = Math.max(w, (Math.abs(got[i] - ref[i]) - tol) / (Math.abs(ref[i]) + 1e-30) / eps);
  return w; // <= 1 passes
};
const same = (a, b) => Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)) === 0;
const time = (fn, reps = 5) => {
  fn();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return Number(t.sort((a, b) => a - b)[reps >> 1].toFixed(2));
};
let failed = false;

for (const [N, D, H, W, C, k, G, offScale] of [
  [1, 6, 7, 8, 16, 3, 1, 1.5],
  [2, 5, 6, 7, 12, 3, 3, 2],
  [1, 5, 5, 6, 8, 5, 2, 1],
  [1, 4, 4, 5, 6, 3, 1, 1e4],
  [1, 48, 48, 48, 16, 3, 1, 1],
  [1, 96, 96, 96, 16, 3, 1, 1],
]) {
  const K = k ** 3,
    nx = N * D * H * W * C,
    noff = N * D * H * W * G * K * 3,
    dims = [N, D, H, W, C, k, G];
  const x = rand(nx),
    off = rand(noff, offScale),
    w = rand(K * C),
    b = rand(C),
    dy = rand(nx);
  const out = () => [new Float32Array(nx), new Float32Array(noff), new Float32Array(K * C), new Float32Array(C)];
  const yc = new Float32Array(nx),
    yg = new Float32Array(nx);
  const gc = out(),
    g1 = out(),
    g2 = out();
  addon.deformForward(yc, x, off, w, b, dims);
  addon.deformForwardCuda(yg, x, off, w, b, dims);
  addon.deformBackward(...gc, dy, x, off, w, dims);
  addon.deformBackwardCuda(...g1, dy, x, off, w, dims);
  addon.deformBackwardCuda(...g2, dy, x, off, w, dims);
  const err = {
    y: worst(yg, yc, 1e-4, 1e-4),
    dx: worst(g1[0], gc[0], 1e-4, 1e-3),
    doffset: worst(g1[1], gc[1], 2e-4, 1e-3),
    dweight: worst(g1[2], gc[2], 1e-3, 1e-3),
    dbias: worst(g1[3], gc[3], 1e-3, 1e-3),
  };
  const deterministic = g1.every((a, i) => same(a, g2[i]));
  const ok = Object.values(err).every((e) => e <= 1) && deterministic;
  failed ||= !ok;
  const big = nx >= 48 ** 3 * 16;
  console.log(
    JSON.stringify({
      op: 'deform',
      dims,
      ok,
      deterministic,
      worst_over_tolerance: err,
      ...(big && {
        cpu_forward_ms: time(() => addon.deformForward(yc, x, off, w, b, dims), 3),
        cpu_backward_ms: time(() => addon.deformBackward(...gc, dy, x, off, w, dims), 3),
        cuda_forward_ms: time(() => addon.deformForwardCuda(yg, x, off, w, b, dims)),
        cuda_backward_ms: time(() => addon.deformBackwardCuda(...g1, dy, x, off, w, dims)),
        note: 'cuda times include host<->device copies',
      }),
    }),
  );
}

for (const [N, D, H, W, C, k] of [
  [1, 6, 7, 8, 16, 5],
  [2, 5, 6, 7, 12, 3],
  [1, 7, 7, 7, 4, 7],
  [1, 48, 48, 48, 16, 5],
]) {
  const K = k ** 3,
    nx = N * D * H * W * C,
    dims = [N, D, H, W, C, k];
  const x = rand(nx),
    w = rand(K * C),
    b = rand(C),
    dy = rand(nx);
  const yc = new Float32Array(nx),
    yg = new Float32Array(nx);
  const gc = [new Float32Array(nx), new Float32Array(K * C), new Float32Array(C)];
  const gg = [new Float32Array(nx), new Float32Array(K * C), new Float32Array(C)];
  addon.depthwiseForward(yc, x, w, b, dims);
  addon.depthwiseForwardCuda(yg, x, w, b, dims);
  addon.depthwiseBackward(...gc, dy, x, w, dims);
  addon.depthwiseBackwardCuda(...gg, dy, x, w, dims);
  const err = {
    y: worst(yg, yc, 1e-4, 1e-4),
    dx: worst(gg[0], gc[0], 1e-4, 1e-4),
    dweight: worst(gg[1], gc[1], 1e-3, 1e-3),
    dbias: worst(gg[2], gc[2], 1e-3, 1e-3),
  };
  const ok = Object.values(err).every((e) => e <= 1);
  failed ||= !ok;
  console.log(JSON.stringify({ op: 'depthwise', dims, ok, worst_over_tolerance: err }));
}
console.log(
  JSON.stringify({ device: addon.cudaDeviceName(), cpu_isa: addon.isa, cpu_threads: addon.threads, passed: !failed }),
);
process.exitCode = failed ? 1 : 0;
