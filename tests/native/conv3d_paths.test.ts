// Every named dense conv3d kernel path (native/src/conv3d.inc), forced through conv3dRun, against the addon's C++
// reference on every instruction set this CPU has: each path must report that it (and only it) ran, write every
// output element (outputs start as NaN) and match the reference within |got - ref| <= tol + 1e-4 |ref|, with
// tol = 1e-4 sqrt(k^3 Cin) for y and dx and 1e-3 sqrt(k^3 Cin) for dfilter (the rule of conv3d.test.ts).
// The production choice ('auto') is pinned per shape on AVX-512, and a forced path that cannot serve a shape
// must throw a clear error without writing anything.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type Conv3dOp, type NativeAddon } from '../../src-main/engine/kernels/addon';
import { expectClose, seeded } from './helpers';

type Pad = 'same' | 'valid' | number; // a number: that much zero padding in front on every axis, and at most as much behind
type Shape = [x: [number, number, number, number, number], k: number, cout: number, stride: number, pad: Pad];

const OPS: Conv3dOp[] = ['forward', 'backpropInput', 'backpropFilter'];
const ISAS = ['avx512', 'avx2', 'scalar'];

/** [N, inD,inH,inW,Cin, outD,outH,outW,Cout, kd,kh,kw, sd,sh,sw, pf,pt,pl] as the addon takes it. */
function params([x, k, cout, s, pad]: Shape): number[] {
  const out = (n: number) =>
    pad === 'same' ? Math.ceil(n / s) : pad === 'valid' ? Math.ceil((n - k + 1) / s) : Math.floor((n + 2 * pad - k) / s) + 1;
  const front = (n: number) =>
    pad === 'same' ? Math.floor(Math.max((out(n) - 1) * s + k - n, 0) / 2) : pad === 'valid' ? 0 : pad;
  const [N, D, H, W, Cin] = x;
  return [N, D, H, W, Cin, out(D), out(H), out(W), cout, k, k, k, s, s, s, front(D), front(H), front(W)];
}

const name = ([x, k, cout, s, pad]: Shape) => `x=[${x}] k=${k} Cout=${cout} stride=${s} pad=${pad}`;

// Shapes, by what they exercise (AVX-512 register blocking: 24-row tiles, 16-lane vectors).
const LONG16: Shape = [[1, 3, 4, 45, 16], 3, 16, 1, 'same']; // windowed lines with a partial tile (45 = 24 + 21)
const SHORT16: Shape = [[1, 6, 7, 8, 16], 3, 16, 1, 'same']; // lines too short for the windowed core's auto choice
const STRIDED: Shape = [[2, 5, 6, 7, 5], 3, 20, 2, 'same']; // stride 2, odd channel counts, 8 stride classes
const K2S2: Shape = [[2, 4, 6, 26, 5], 2, 7, 2, 'valid']; // the decoders' upsampling, tiles spanning lines
const K2S2_16: Shape = [[1, 8, 8, 8, 16], 2, 32, 2, 'valid'];
const STEM: Shape = [[1, 9, 10, 11, 1], 7, 16, 2, 'same']; // one input channel, k = 7, stride 2
const STEM_S1: Shape = [[2, 4, 5, 21, 1], 3, 32, 1, 'same']; // one input channel, 32 outputs, unit stride
const FEW_IN: Shape = [[1, 5, 6, 7, 2], 3, 16, 1, 'same']; // two input channels: col2im's auto choice
const HEAD: Shape = [[1, 4, 5, 19, 16], 3, 1, 1, 'same']; // one output channel, unit rows
const HEAD_S2: Shape = [[1, 6, 6, 20, 32], 3, 1, 2, 'same']; // one output channel, strided rows
const WIDE_OUT: Shape = [[1, 4, 5, 30, 24], 3, 40, 1, 'valid']; // several vectors of outputs
const PANELS: Shape = [[1, 3, 4, 45, 16], 3, 20, 1, 'same']; // windowed: a full and a partial panel of outputs
const SHORT32: Shape = [[1, 2, 3, 10, 32], 3, 48, 1, 'same']; // windowed forced onto short lines, three panels
const SHORT32_IN: Shape = [[1, 2, 3, 10, 48], 3, 32, 1, 'same']; // the same for backprop-input: 32 dy, 48 dx channels
const PAD2: Shape = [[1, 3, 3, 18, 16], 3, 16, 1, 2]; // two padding columns: windowed forward on a padded copy
const IN10: Shape = [[1, 3, 3, 45, 10], 3, 16, 1, 'same']; // windowed backprop-input: 16 dy channels, 10 dx
const C64: Shape = [[1, 3, 2, 17, 64], 3, 64, 1, 'same']; // 64 channels, four vectors of outputs

/** The shapes each path is forced onto, per op it serves (several the production choice would not give it). */
const FORCED: Record<string, Partial<Record<Conv3dOp, Shape[]>>> = {
  dot: { forward: [HEAD, HEAD_S2], backpropInput: [STEM, STEM_S1] },
  windowed: { forward: [PANELS, SHORT32, PAD2, C64], backpropInput: [IN10, C64, SHORT32_IN, PAD2] },
  'generic-mr1': { forward: [LONG16, WIDE_OUT, HEAD], backpropInput: [LONG16, WIDE_OUT, STEM] },
  'generic-big': { forward: [LONG16, STRIDED, SHORT16], backpropInput: [LONG16, STRIDED, K2S2] },
  'input-k2s2': { backpropInput: [K2S2, K2S2_16] },
  'input-col2im': { backpropInput: [FEW_IN, STRIDED, LONG16] },
  'filter-halo': { backpropFilter: [LONG16, STRIDED, STEM, K2S2] },
  'filter-padded': { backpropFilter: [LONG16, STRIDED, PAD2] },
  'filter-cin1': { backpropFilter: [STEM, STEM_S1] },
};

/** The production choice on AVX-512 per shape: [forward, backpropInput, backpropFilter]. */
const AUTO_AVX512: [Shape, string, string, string][] = [
  [LONG16, 'windowed', 'windowed', 'filter-halo'],
  [SHORT16, 'generic-mr1', 'generic-mr1', 'filter-padded'],
  [STRIDED, 'generic-big', 'generic-mr1', 'filter-padded'],
  [K2S2_16, 'generic-big', 'input-k2s2', 'filter-padded'],
  [STEM, 'generic-mr1', 'dot', 'filter-cin1'],
  [FEW_IN, 'generic-mr1', 'input-col2im', 'filter-padded'],
  // Lines the windowed core could read through virtual padding, served by the dot core on a padded copy.
  [HEAD, 'dot', 'generic-mr1', 'filter-padded'],
  [STEM_S1, 'generic-big', 'dot', 'filter-cin1'],
];

let addon: NativeAddon;
let isas: string[];

beforeAll(() => {
  const status = loadAddon();
  expect(status.error).toBeNull();
  addon = status.addon!;
  expect(typeof addon.conv3dRun).toBe('function');
  const best = addon.isa;
  isas = ISAS.filter((i) => addon.setIsa(i) === i);
  addon.setIsa(best);
});

interface Data {
  p: number[];
  inputs: Record<Conv3dOp, [Float32Array, Float32Array]>;
  refs: Record<Conv3dOp, Float32Array>;
  tol: Record<Conv3dOp, number>;
}

const cache = new Map<Shape, Data>();

/** Inputs and the C++ reference results of one shape (computed once). */
function data(shape: Shape): Data {
  const hit = cache.get(shape);
  if (hit) return hit;
  const p = params(shape);
  const [N, D, H, W, Cin, oD, oH, oW, Cout, k] = p;
  const nx = N * D * H * W * Cin,
    ny = N * oD * oH * oW * Cout,
    nf = k ** 3 * Cin * Cout;
  const rnd = seeded(nx + 7 * ny + 13 * nf);
  const x = rnd(nx),
    f = rnd(nf),
    dy = rnd(ny);
  const refs = {
    forward: new Float32Array(ny),
    backpropInput: new Float32Array(nx),
    backpropFilter: new Float32Array(nf),
  };
  addon.conv3dForwardRef(refs.forward, x, f, p);
  addon.conv3dBackpropInputRef(refs.backpropInput, dy, f, p);
  addon.conv3dBackpropFilterRef(refs.backpropFilter, x, dy, p);
  const scale = Math.sqrt(k ** 3 * Cin);
  const d: Data = {
    p,
    inputs: { forward: [x, f], backpropInput: [dy, f], backpropFilter: [x, dy] },
    refs,
    tol: { forward: 1e-4 * scale, backpropInput: 1e-4 * scale, backpropFilter: 1e-3 * scale },
  };
  cache.set(shape, d);
  return d;
}

/** Runs op on path with NaN-filled output; returns [paths that ran, output]. */
function run(op: Conv3dOp, path: string, shape: Shape): [string[], Float32Array] {
  const d = data(shape);
  const out = new Float32Array(d.refs[op].length).fill(NaN);
  const ran = addon.conv3dRun!(op, path, out, ...d.inputs[op], d.p);
  return [ran, out];
}

/** fn on every instruction set this CPU has, restoring the best one after. */
function eachIsa(fn: (isa: string) => void): void {
  const best = addon.isa;
  try {
    for (const isa of isas) {
      expect(addon.setIsa(isa)).toBe(isa);
      fn(isa);
    }
  } finally {
    addon.setIsa(best);
  }
}

describe('dense conv3d kernel paths, each forced alone', () => {
  it('conv3dPaths lists every path with the ops it serves, and each (path, op) has cases here', () => {
    const paths = addon.conv3dPaths!();
    expect(paths.map((p) => p.name)).toEqual(Object.keys(FORCED));
    for (const p of paths) {
      expect(p.ops, p.name).toEqual(OPS.filter((op) => FORCED[p.name][op]));
      for (const op of p.ops) expect(FORCED[p.name][op]!.length, `${p.name} ${op}`).toBeGreaterThan(0);
      expect(p.about.length).toBeGreaterThan(0);
    }
  });

  for (const [path, byOp] of Object.entries(FORCED))
    for (const op of OPS)
      for (const shape of byOp[op] ?? [])
        it(`${path} ${op}: ${name(shape)}`, () => {
          const d = data(shape);
          eachIsa((isa) => {
            const [ran, out] = run(op, path, shape);
            expect(ran, `${isa}: the kernels that ran`).toEqual([path]);
            expectClose(out, d.refs[op], d.tol[op], 1e-4, `${path} ${op} (${isa})`);
          });
        });
});

describe("dense conv3d 'auto' (the production choice)", () => {
  for (const [shape, ...want] of AUTO_AVX512)
    it(`${name(shape)}: matches the reference on every ISA, and picks ${want.join(' / ')} on AVX-512`, () => {
      const d = data(shape);
      eachIsa((isa) => {
        OPS.forEach((op, i) => {
          const [ran, out] = run(op, 'auto', shape);
          if (isa === 'avx512') expect(ran, `${op}: the kernels that ran`).toEqual([want[i]]);
          else expect(ran.length, `${op} (${isa}): a kernel ran`).toBeGreaterThan(0);
          expectClose(out, d.refs[op], d.tol[op], 1e-4, `auto ${op} (${isa})`);
        });
      });
    });

  it('auto and the production entry points give bit-identical results', () => {
    for (const shape of [LONG16, STRIDED, STEM, K2S2_16]) {
      const d = data(shape);
      const entry = {
        forward: addon.conv3dForward,
        backpropInput: addon.conv3dBackpropInput,
        backpropFilter: addon.conv3dBackpropFilter,
      };
      for (const op of OPS) {
        const [, viaRun] = run(op, 'auto', shape);
        const direct = new Float32Array(d.refs[op].length).fill(NaN);
        entry[op](direct, ...d.inputs[op], d.p);
        expect(Buffer.compare(Buffer.from(viaRun.buffer), Buffer.from(direct.buffer)), `${name(shape)} ${op}`).toBe(0);
      }
    }
  });
});

describe('dense conv3d forced paths that cannot serve', () => {
  const refuse: [Conv3dOp, string, Shape, RegExp][] = [
    ['forward', 'windowed', STRIDED, /^conv3d: path 'windowed' cannot serve this shape: needs Cin = 16, 32 or 64 \(got 5\)/],
    [
      'backpropInput',
      'windowed',
      [[1, 6, 6, 12, 16], 3, 16, 2, 'same'],
      /^conv3dBackpropInput: path 'windowed' cannot serve this shape: needs a filter width of 3 along W in every stride class/,
    ],
    ['forward', 'dot', LONG16, /^conv3d: path 'dot' cannot serve this shape: needs Cout = 1/],
    ['backpropInput', 'dot', LONG16, /^conv3dBackpropInput: path 'dot' cannot serve this shape: needs Cin = 1/],
    ['backpropInput', 'input-k2s2', LONG16, /^conv3dBackpropInput: path 'input-k2s2' cannot serve this shape: needs k = 2, stride 2/],
    ['backpropFilter', 'filter-cin1', LONG16, /^conv3dBackpropFilter: path 'filter-cin1' cannot serve this shape: needs Cin = 1/],
    ['forward', 'filter-halo', LONG16, /^conv3d: path 'filter-halo' does not serve this op \(it serves conv3dBackpropFilter\)/],
    ['backpropFilter', 'windowed', LONG16, /^conv3dBackpropFilter: path 'windowed' does not serve this op/],
    ['forward', 'nope', LONG16, /unknown conv3d path 'nope' \(known: auto, dot, windowed/],
  ];
  for (const [op, path, shape, message] of refuse)
    it(`${path} ${op} on ${name(shape)} throws, writing nothing`, () => {
      eachIsa(() => {
        let out = new Float32Array(0);
        expect(() => {
          const d = data(shape);
          out = new Float32Array(d.refs[op].length).fill(NaN);
          addon.conv3dRun!(op, path, out, ...d.inputs[op], d.p);
        }).toThrow(message);
        expect(out.every(Number.isNaN)).toBe(true);
      });
    });
});
