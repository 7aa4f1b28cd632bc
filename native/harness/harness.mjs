// Dev harness (llm.c style): runs each kernel's readable C++ reference, validates every ISA variant against
// it with |got - ref| <= tol + |ref| * eps, then times the variants. Usage:
//   node native/harness/harness.mjs [deform|depthwise|conv|all] [--quick] [--conv-path NAME|all]
// --conv-path runs the dense conv3d shapes once per named kernel path (conv3dPaths(): dot, windowed, ...; 'auto'
// is the production choice) instead of once per ISA: each path that serves a shape is validated against the
// reference on every ISA (the timed shapes: on the best ISA only) and timed alone; paths that cannot serve a
// shape say why.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const addon = require(join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'Release', 'deformux_native.node'));
const args = process.argv.slice(2);
const convPathArg =
  args.find((a) => a.startsWith('--conv-path='))?.slice('--conv-path='.length) ??
  (args.includes('--conv-path') ? args[args.indexOf('--conv-path') + 1] : undefined);
const which =
  args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--conv-path') ?? (convPathArg ? 'conv' : 'all');
const quick = args.includes('--quick');

let seed = 12345;
function rand() {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const randn = (n, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

// Checks |got - ref| <= tol + |ref| * eps everywhere (NaN fails); prints the verdict and returns it.
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
  return ok;
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

// The params of one conv shape and random x, filter and dy for it.
function convData(xs, k, Cout, s, pad) {
  const p = convParams(xs, k, Cout, s, pad);
  const nx = p[0] * p[1] * p[2] * p[3] * p[4],
    ny = p[0] * p[5] * p[6] * p[7] * p[8],
    nf = k ** 3 * p[4] * Cout;
  return { p, nx, ny, nf, x: randn(nx), f: randn(nf), dy: randn(ny) };
}

function convIsas(xs, k, Cout, s, pad, timeIt) {
  const { p, nx, ny, nf, x, f, dy } = convData(xs, k, Cout, s, pad);
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

// The conv3d kernel paths the harness runs (--conv-path NAME|all): 'auto' (the production choice) first.
function selectedConvPaths() {
  const all = [{ name: 'auto', ops: ['forward', 'backpropInput', 'backpropFilter'] }, ...addon.conv3dPaths()];
  if (convPathArg === 'all') return all;
  const one = all.find((p) => p.name === convPathArg);
  if (!one)
    throw new Error(`--conv-path: unknown path '${convPathArg}' (known: ${all.map((p) => p.name).join(', ')}, all)`);
  return [one];
}

// One conv shape, once per kernel path: validation on every ISA (timed shapes: the current best ISA only), then
// the time of each path alone and its GFLOP/s (2 * outputs * k^3 * Cin flops per op).
function convPaths(xs, k, Cout, s, pad, timeIt) {
  const { p, nx, ny, nf, x, f, dy } = convData(xs, k, Cout, s, pad);
  const refs = {
    forward: new Float32Array(ny),
    backpropInput: new Float32Array(nx),
    backpropFilter: new Float32Array(nf),
  };
  addon.conv3dForwardRef(refs.forward, x, f, p);
  addon.conv3dBackpropInputRef(refs.backpropInput, dy, f, p);
  addon.conv3dBackpropFilterRef(refs.backpropFilter, x, dy, p);
  const inputs = { forward: [x, f], backpropInput: [dy, f], backpropFilter: [x, dy] };
  const tols = { forward: 1e-3, backpropInput: 1e-3, backpropFilter: 1e-2 };
  const best = ISAS[0];
  const run = (op, name, out) => addon.conv3dRun(op, name, out, ...inputs[op], p);
  const auto = Object.keys(refs).map((op) => `${op} ${run(op, 'auto', new Float32Array(refs[op].length))}`);
  console.log(
    `conv3d x=[${xs}] k=${k} Cout=${Cout} s=${s} ${pad} -> [${p.slice(5, 9)}]; auto (${best}): ${auto.join(', ')}`,
  );
  const flop = 2 * ny * k ** 3 * p[4];
  const rows = [];
  for (const { name, ops } of selectedConvPaths())
    for (const op of ops) {
      let ok = true;
      const isas = timeIt ? [best] : ISAS;
      const refused = [];
      for (const isa of isas) {
        addon.setIsa(isa);
        const out = new Float32Array(refs[op].length).fill(NaN);
        let ran;
        try {
          ran = run(op, name, out);
        } catch (e) {
          if (!/cannot serve this shape/.test(e.message)) throw e;
          refused.push(`${isa} ${name} ${op}: ${e.message.replace(/^.*cannot serve this shape: /, 'cannot serve: ')}`);
          ok = false;
          continue;
        }
        if (name !== 'auto' && ran.join() !== name) {
          console.log(`  FAIL ${isa} ${name} ${op}: ran ${ran.join('+')}`);
          process.exitCode = 1;
          ok = false;
        }
        ok = validate(`${isa} ${name} ${op}`, out, refs[op], tols[op], 1e-4) && ok;
      }
      // A path that no ISA can run here: one line (the best ISA's reason).
      for (const r of refused.length === isas.length ? refused.slice(0, 1) : refused) console.log(`  -    ${r}`);
      addon.setIsa(best);
      if (timeIt && ok) {
        const out = new Float32Array(refs[op].length);
        const ms = time(() => run(op, name, out));
        rows.push(
          `  ${best} ${name.padEnd(13)} ${op.padEnd(14)} ${ms.toFixed(2).padStart(8)} ms ${(flop / (ms * 1e6)).toFixed(1).padStart(7)} GFLOP/s`,
        );
      }
    }
  for (const r of rows) console.log(r);
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
  const conv = convPathArg ? convPaths : convIsas;
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
    // The decoders' upsampling (k = 2, stride 2): the input-k2s2 path.
    if (convPathArg) conv([1, 48, 48, 48, 16], 2, 32, 2, 'valid', true);
  }
}
