// Shared helpers of the native kernel tests: seeded random data, tolerant comparison, golden files.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** Deterministic uniform [-scale, scale) values (LCG: same data on every run and machine). */
export function seeded(seed: number): (n: number, scale?: number) => Float32Array {
  let s = seed >>> 0 || 1;
  return (n, scale = 1) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      out[i] = (s / 4294967296 - 0.5) * 2 * scale;
    }
    return out;
  };
}

/** Asserts |got - ref| <= tol + |ref| * eps everywhere, naming the first bad index. */
export function expectClose(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol = 1e-4,
  eps = 1e-4,
  what = 'values',
): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const bound = tol + Math.abs(ref[i]) * eps;
    if (!(Math.abs(got[i] - ref[i]) <= bound)) {
      expect.fail(`${what}: index ${i} is ${got[i]}, expected ${ref[i]} (±${bound.toExponential(2)})`);
    }
  }
}

export function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface GoldenCase {
  name: string;
  op: 'deformDwConv3d' | 'depthwiseConv3d';
  shape: [number, number, number, number, number];
  k: number;
  groups?: number;
  offsets?: string;
  compare: string[];
  [array: string]: unknown;
}

export interface Goldens {
  version: string;
  torch: string;
  cases: GoldenCase[];
}

export const GOLDEN_VERSION = 'kernel-goldens-v1';

export function loadGoldens(): Goldens {
  const here = dirname(fileURLToPath(import.meta.url));
  const doc = JSON.parse(
    readFileSync(join(here, '..', 'goldens', 'kernels', `${GOLDEN_VERSION}.json`), 'utf8'),
  ) as Goldens;
  expect(doc.version).toBe(GOLDEN_VERSION);
  return doc;
}

/** Decodes one base64 float32 array of a golden case. */
export function goldenArray(c: GoldenCase, name: string): Float32Array {
  const b = Buffer.from(c[name] as string, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
