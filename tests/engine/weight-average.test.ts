// Weight-space interpolation between two checkpoints (src-main/train/weight-average.ts): the end points, the
// midpoint, and refusals for weights of different networks.
import { describe, expect, it } from 'vitest';
import type { TensorMap } from '../../src-main/engine/io/safetensors';
import { interpolateWeights } from '../../src-main/train/weight-average';

const map = (entries: [string, number[], number[]][]): TensorMap =>
  new Map(entries.map(([name, shape, values]) => [name, { shape, data: Float32Array.from(values) }]));

describe('interpolateWeights', () => {
  const start = map([
    ['a.weight', [2, 2], [1, 2, 3, 4]],
    ['b.bias', [3], [0, -1, 0.5]],
  ]);
  const end = map([
    ['a.weight', [2, 2], [3, 2, -1, 8]],
    ['b.bias', [3], [1, 1, 0.5]],
  ]);

  it('gives the start at 0, the end at 1 and the tensor-wise line between', () => {
    const at = (alpha: number, name: string) => [...interpolateWeights(start, end, alpha, 'w').get(name)!.data];
    expect(at(0, 'a.weight')).toEqual([1, 2, 3, 4]);
    expect(at(1, 'a.weight')).toEqual([3, 2, -1, 8]);
    expect(at(0.5, 'a.weight')).toEqual([2, 2, 1, 6]);
    expect(at(0.25, 'b.bias')).toEqual([0.25, -0.5, 0.5]);
    expect(interpolateWeights(start, end, 0.5, 'w').get('b.bias')!.shape).toEqual([3]);
    // The inputs are left as they were.
    expect([...start.get('a.weight')!.data]).toEqual([1, 2, 3, 4]);
  });

  it('refuses weights of different networks and alphas outside [0, 1], naming them', () => {
    const other = map([['a.weight', [2, 2], [0, 0, 0, 0]]]);
    expect(() => interpolateWeights(start, other, 0.5, 'x.safetensors')).toThrow(/x\.safetensors.*b\.bias/);
    const reshaped = map([
      ['a.weight', [4], [0, 0, 0, 0]],
      ['b.bias', [3], [0, 0, 0]],
    ]);
    expect(() => interpolateWeights(start, reshaped, 0.5, 'y')).toThrow(/a\.weight is 2x2 in one and 4 in the other/);
    for (const alpha of [-0.1, 1.5, Number.NaN])
      expect(() => interpolateWeights(start, end, alpha, 'z')).toThrow(/alpha must be in \[0, 1\]/);
  });
});
