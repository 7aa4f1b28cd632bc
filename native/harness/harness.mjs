// Dev harness (llm.c style): runs each kernel's readable C++ reference, validates every ISA variant against
// it with |got - ref| <= tol + |ref| * eps, then times the variants. Usage:
//   node native/harness/harness.mjs [deform|depthwise|conv|all] [--quick]
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const addon = require(join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'Release', 'deformux_native.node'));
const which = process.argv[2] ?? 'all';
const quick = process.argv.includes('--quick');

let seed = 12345;
function rand() {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const randn = (n, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

function validate(name, got, ref, tol = 1e-4, eps = 1e-4) {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]) - (tol + Math.abs(ref[i]) * eps);
    if (!(err <= worst) || Number.isNaN(got[i])) {
      worst = Number.isNaN(got[i]) ? Infinity : err;
      at = i;
    }
  }
  const ok = at < 0;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : ` at ${at}: got ${got[at]}, ref ${ref[at]}`}`);
  if (!ok) process.exitCode = 1;
}

function time(fn, reps = 5) {
  fn();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

const ISAS = ['avx512', 'avx2', 'scalar'].filter((i) => addon.setIsa(i) === i);
addon.setIsa('avx512');

function deform([N, D, H, W, C], k, G, offScale, timeIt) {
  const K = k ** 3;
  const nx = N * D * H * W * C;
  const x = randn(nx),
    off = randn(N * D * H * W * G * K * 3, offScale),
    w = randn(K * C),
    b = randn(C),
    dy = randn(nx);
  const dims = [N, D, H, W, C, k, G];
  console.log(`deform x=[${N},${D},${H},${W},${C}] k=${k} G=${G} offsets=±${offScale}`);
  const yr = new Float32Array(nx);
  addon.deformForwardRef(yr, x, off, w, b, dims);
  const gr = [new Float32Array(nx), new Float32Array(off.length), new Float32Array(K * C), new Float32Array(C)];
  addon.deformBackwardRef(...gr, dy, x, off, w, dims);
  for (const isa of ISAS) {
    addon.setIsa(isa);
    const y = new Float32Array(nx);
    addon.deformForward(y, x, off, w, b, dims);
    validate(`${isa} forward`, y, yr);
    const g = [new Float32Array(nx), new Float32Array(off.length), new Float32Array(K * C), new Float32Array(C)];
    addon.deformBackward(...g, dy, x, off, w, dims);
    ['dx', 'doffset', 'dweight', 'dbias'].forEach((n, i) => validate(`${isa} ${n}`, g[i], gr[i], 1e-3, 1e-3));
    if (timeIt) {
      const f = time(() => addon.deformForward(y, x, off, w, b, dims));
      const bw = time(() => addon.deformBackward(...g, dy, x, off, w, dims));
      console.log(`  ${isa}: forward ${f.toFixed(2)} ms, backward ${bw.toFixed(2)} ms (${addon.threads} threads)`);
    }
  }
  addon.setIsa('avx512');
}

function depthwise([N, D, H, W, C], k, timeIt) {
  const K = k ** 3;
  const nx = N * D * H * W * C;
  const x = randn(nx),
    w = randn(K * C),
    b = randn(C),
    dy = randn(nx);
  const dims = [N, D, H, W, C, k];
  console.log(`depthwise x=[${N},${D},${H},${W},${C}] k=${k}`);
  const yr = new Float32Array(nx);
  addon.depthwiseForwardRef(yr, x, w, b, dims);
  const gr = [new Float32Array(nx), new Float32Array(K * C), new Float32Array(C)];
  addon.depthwiseBackwardRef(...gr, dy, x, w, dims);
  for (const isa of ISAS) {
    addon.setIsa(isa);
    const y = new Float32Array(nx);
    addon.depthwiseForward(y, x, w, b, dims);
    validate(`${isa} forward`, y, yr);
    const g = [new Float32Array(nx), new Float32Array(K * C), new Float32Array(C)];
    addon.depthwiseBackward(...g, dy, x, w, dims);
    ['dx', 'dweight', 'dbias'].forEach((n, i) => validate(`${isa} ${n}`, g[i], gr[i], 1e-3, 1e-3));
    if (timeIt) {
      const f = time(() => addon.depthwiseForward(y, x, w, b, dims));
      const bw = time(() => addon.depthwiseBackward(...g, dy, x, w, dims));
      console.log(`  ${isa}: forward ${f.toFixed(2)} ms, backward ${bw.toFixed(2)} ms`);
    }
  }
  addon.setIsa('avx512');
}

// p = [N, inD,inH,inW,Cin, outD,outH,outW,Cout, kd,kh,kw, sd,sh,sw, pf,pt,pl]; 'same' or 'valid' like tfjs.
function convParams([N, D, H, W, Cin], k, Cout, s, pad) {
  const out = (n) => (pad === 'same' ? Math.ceil(n / s) : Math.ceil((n - k + 1) / s));
  const front = (n) => (pad === 'same' ? Math.floor(Math.max((out(n) - 1) * s + k - n, 0) / 2) : 0);
  return [N, D, H, W, Cin, out(D), out(H), out(W), Cout, k, k, k, s, s, s, front(D), front(H), front(W)];
}

function conv(xs, k, Cout, s, pad, timeIt) {
  const p = convParams(xs, k, Cout, s, pad);
  const nx = p[0] * p[1] * p[2] * p[3] * p[4],
    ny = p[0] * p[5] * p[6] * p[7] * p[8],
    nf = k ** 3 * p[4] * Cout;
  const x = randn(nx),
    f = randn(nf),
    dy = randn(ny);
  console.log(`conv3d x=[${xs}] k=${k} Cout=${Cout} s=${s} ${pad} -> [${p.slice(5, 9)}]`);
  const yr = new Float32Array(ny),
    dxr = new Float32Array(nx),
    dfr = new Float32Array(nf);
  addon.conv3dForwardRef(yr, x, f, p);
  addon.conv3dBackpropInputRef(dxr, dy, f, p);
  addon.conv3dBackpropFilterRef(dfr, x, dy, p);
  for (const isa of ISAS) {
    addon.setIsa(isa);
    const y = new Float32Array(ny),
      dx = new Float32Array(nx),
      df = new Float32Array(nf);
    addon.conv3dForward(y, x, f, p);
    addon.conv3dBackpropInput(dx, dy, f, p);
    addon.conv3dBackpropFilter(df, x, dy, p);
    validate(`${isa} forward`, y, yr, 1e-3, 1e-4);
    validate(`${isa} backprop input`, dx, dxr, 1e-3, 1e-4);
    validate(`${isa} backprop filter`, df, dfr, 1e-2, 1e-4);
    if (timeIt) {
      const flop = 2 * ny * k ** 3 * p[4];
      const tf = time(() => addon.conv3dForward(y, x, f, p));
      const ti = time(() => addon.conv3dBackpropInput(dx, dy, f, p));
      const tw = time(() => addon.conv3dBackpropFilter(df, x, dy, p));
      console.log(
        `  ${isa}: fwd ${tf.toFixed(2)} ms, bwd-in ${ti.toFixed(2)} ms, bwd-filter ${tw.toFixed(2)} ms: ${((3 * flop) / ((tf + ti + tw) * 1e6)).toFixed(1)} GFLOP/s overall`,
      );
    }
  }
  addon.setIsa('avx512');
}

if (which === 'deform' || which === 'all') {
  deform([1, 5, 6, 7, 16], 3, 1, 2, false);
  deform([2, 4, 5, 6, 12], 3, 3, 1.5, false);
  deform([1, 4, 4, 5, 24], 5, 2, 3, false);
  deform([1, 3, 4, 5, 8], 3, 2, 50, false);
  if (!quick) deform([1, 48, 48, 48, 16], 3, 1, 1, true);
}
if (which === 'depthwise' || which === 'all') {
  depthwise([1, 5, 6, 9, 16], 3, false);
  depthwise([2, 4, 5, 11, 12], 5, false);
  depthwise([1, 7, 8, 9, 20], 7, false);
  depthwise([1, 3, 4, 5, 3], 1, false);
  if (!quick) depthwise([1, 48, 48, 48, 16], 5, true);
}
if (which === 'conv' || which === 'all') {
  conv([1, 6, 7, 8, 16], 3, 16, 1, 'same', false);
  conv([2, 8, 6, 10, 5], 3, 20, 2, 'same', false);
  conv([1, 8, 8, 8, 16], 2, 32, 2, 'valid', false);
  conv([1, 9, 10, 11, 1], 7, 16, 2, 'same', false);
  // Cin = 1 with lines of >= 8 dx rows per residue class: the one-output-channel dot kernel (stem backprop-input).
  conv([1, 5, 4, 37, 1], 7, 16, 2, 'same', false);
  conv([2, 4, 5, 21, 1], 3, 32, 1, 'same', false);
  conv([1, 5, 6, 26, 1], 5, 16, 2, 'valid', false);
  // One output channel (a head): the dot kernel in the forward direction, unit and strided rows.
  conv([1, 4, 5, 19, 16], 3, 1, 1, 'same', false);
  conv([1, 6, 6, 20, 32], 3, 1, 2, 'same', false);
  conv([1, 5, 6, 7, 8], 1, 24, 1, 'same', false);
  conv([1, 7, 7, 7, 3], 3, 5, 1, 'valid', false);
  conv([1, 6, 6, 6, 4], 2, 4, 1, 'same', false);
  if (!quick) {
    conv([1, 48, 48, 48, 16], 3, 16, 1, 'same', true);
    conv([1, 96, 96, 96, 1], 7, 16, 2, 'same', true);
  }
}
