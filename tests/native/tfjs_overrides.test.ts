// deformux's replacements of tfjs cpu kernels outside the conv family: Add (src-main/engine/kernels/Add.ts; equal-
// shape float32 sums go native and equal tfjs's rounding exactly, the JS reference Math.fround(a + b); everything
// else still goes through tfjs's own kernel) and PadV2 (PadV2.ts, against a per-element reference).
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { deformuxKernel, nativeAddon } from '../../src-main/engine/kernels';
import { NATIVE_ADD_MIN } from '../../src-main/engine/kernels/Add';
import { outputF32, setOutputPoison } from '../../src-main/engine/kernels/io';
import { seeded } from './helpers';

beforeAll(async () => {
  const info = await initEngine({ device: 'cpu' });
  expect(info.native).toBe(true);
});

describe('native Add kernel', () => {
  it('is registered for the cpu backend and sums equal shapes exactly like JS (odd sizes, several blocks)', () => {
    expect(typeof nativeAddon()!.fusedAdd).toBe('function');
    const mine = deformuxKernel('Add');
    expect(mine, 'no native Add registered').toBeTruthy();
    expect(tf.getKernel('Add', 'cpu')).toBe(mine);
    for (const n of [NATIVE_ADD_MIN, 3 * 16384 + 7, 1_000_003]) {
      const rnd = seeded(n);
      const a = rnd(n, 1e3);
      const b = rnd(n, 1e-3);
      const y = tf.add(tf.tensor(a, [n]), tf.tensor(b, [n])).dataSync();
      let bad = -1;
      for (let i = 0; i < n && bad < 0; i++) if (y[i] !== Math.fround(a[i] + b[i])) bad = i;
      expect(bad, `n=${n}: first mismatch`).toBe(-1);
    }
  });

  it('broadcasting, int32 and small tensors still give tfjs results', () => {
    const n = NATIVE_ADD_MIN * 2;
    const a = tf.tensor(seeded(1)(n), [n / 4, 4]);
    const row = tf.tensor([1, 2, 3, 4], [4]);
    const y = tf.add(a, row).dataSync();
    const av = a.dataSync();
    let bad = -1;
    for (let i = 0; i < n && bad < 0; i++) if (y[i] !== Math.fround(av[i] + (i % 4) + 1)) bad = i;
    expect(bad, 'first mismatch of the broadcast sum').toBe(-1);
    expect(Array.from(tf.add(tf.tensor([1, 2], [2], 'int32'), tf.tensor([3, 4], [2], 'int32')).dataSync())).toEqual([4, 6]);
    expect(tf.add(tf.tensor([1, 2], [2], 'int32'), tf.tensor([3, 4], [2], 'int32')).dtype).toBe('int32');
    expect(Array.from(tf.add(tf.tensor([0.5]), tf.tensor([0.25])).dataSync())).toEqual([0.75]);
  });

  it('gradients through tf.add (the engine sums gradients with it) are unchanged', () => {
    const n = NATIVE_ADD_MIN + 5;
    const x = tf.tensor(seeded(3)(n), [n]);
    const g = tf.grad((t) => tf.sum(tf.add(tf.mul(t, 2), tf.mul(t, 3))))(x).dataSync();
    expect(g.every((v) => v === 5)).toBe(true);
  });
});

describe('PadV2 kernel (run copies)', () => {
  it('is registered and equals a per-element reference for 5-D channels-last, trailing padding and a fill value', () => {
    expect(tf.getKernel('PadV2', 'cpu')).toBe(deformuxKernel('PadV2'));
    const cases: [number[], [number, number][], number][] = [
      [[1, 5, 6, 7, 1], [[0, 0], [3, 3], [3, 3], [3, 3], [0, 0]], 0],
      [[2, 3, 4, 5, 3], [[0, 1], [1, 0], [0, 0], [2, 1], [0, 0]], 0],
      [[3, 4], [[1, 2], [0, 3]], 1.5],
      [[2, 3, 4], [[0, 0], [0, 0], [0, 0]], 0],
      [[4, 3, 2], [[0, 0], [1, 1], [0, 0]], -2],
    ];
    for (const [shape, pads, value] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = seeded(n + 1)(n);
      const y = tf.pad(tf.tensor(v, shape), pads, value);
      const outShape = shape.map((s, i) => s + pads[i][0] + pads[i][1]);
      expect(y.shape).toEqual(outShape);
      const got = y.dataSync();
      // Reference: every output index, mapped back to the input or the fill value.
      const total = outShape.reduce((a, b) => a * b, 1);
      let bad = -1;
      for (let o = 0; o < total && bad < 0; o++) {
        let rem = o;
        let src = 0;
        let inside = true;
        let mul = 1;
        for (let i = shape.length - 1; i >= 0; i--) {
          const c = (rem % outShape[i]) - pads[i][0];
          rem = Math.floor(rem / outShape[i]);
          if (c < 0 || c >= shape[i]) inside = false;
          src += c * mul;
          mul *= shape[i];
        }
        const want = inside ? v[src] : value;
        if (got[o] !== Math.fround(want)) bad = o;
      }
      expect(bad, `shape [${shape}] pads ${JSON.stringify(pads)}: first wrong output index`).toBe(-1);
    }
    // int32 still goes to tfjs's kernel.
    const yi = tf.pad(tf.tensor([1, 2], [2], 'int32'), [[1, 1]]);
    expect(yi.dtype).toBe('int32');
    expect(Array.from(yi.dataSync())).toEqual([0, 1, 2, 0]);
  });
});

describe('kernel output arrays (outputF32)', () => {
  it('have the asked length at every size, and start as NaN while poisoning is on', () => {
    for (const n of [0, 1, 1000, 16384, 300000]) expect(outputF32(n).length).toBe(n);
    const was = setOutputPoison(true);
    try {
      for (const n of [3, 300000]) expect(outputF32(n).every((v) => Number.isNaN(v))).toBe(true);
    } finally {
      setOutputPoison(was);
    }
  });
});
