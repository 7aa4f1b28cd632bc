// Host-array access for kernels: zero-copy on the cpu backend, a host copy on other backends (tfjs-node-gpu).
import type { TensorInfo } from '@tensorflow/tfjs';
import { currentEngine } from '../engine';
import { adoptOutput, pooledOutput } from './output_pool';
import { cpuBackendInternals, storedValues } from '../tfjs-internals';

interface BackendLike {
  readSync?(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** The float32 values of `t` (the backend's own array on cpu: never write to it). */
export function readF32(backend: unknown, t: TensorInfo, name: string): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`${name} must be float32, got ${t.dtype}.`);
  const values = cpuBackendInternals(backend)
    ? storedValues(backend, t.dataId)
    : (backend as BackendLike).readSync?.(t.dataId);
  if (values instanceof Float32Array) return values;
  // Other backends may return a copy of another typed array; normalise once.
  if (ArrayBuffer.isView(values)) return Float32Array.from(values as unknown as ArrayLike<number>);
  throw new Error(`${name}: the backend returned no float32 data (was the tensor disposed?).`);
}

/** Wraps `values` as a new tensor of the backend (the cpu backend keeps the array, no copy). */
export function makeF32(backend: unknown, shape: number[], values: Float32Array): TensorInfo {
  return (backend as BackendLike).makeTensorInfo(shape, 'float32', values);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

// Output arrays of kernels that write every element. `new Float32Array(n)` zero-fills on the calling thread
// (glibc calloc of reused heap memory: 1.5-8 ms for a 56 MB activation at 96^3, ~30 of them per forward), work
// the kernel then overwrites. Large outputs come uninitialised from Buffer.allocUnsafe instead (Node's
// allocator skips the fill). With poisoning on (the engine's switch DEFORMUX_POISON_OUTPUTS=1, or setOutputPoison),
// every output starts as NaN, so a kernel that leaves an element unwritten shows up in the tests instead of in a mask.
const UNSAFE_MIN_BYTES = 1 << 16;

/** Turns NaN-poisoning of kernel outputs on or off for the current engine; returns the previous setting. */
export function setOutputPoison(on: boolean): boolean {
  const engine = currentEngine();
  const was = engine.poisonOutputs;
  engine.poisonOutputs = on;
  return was;
}

/**
 * A float32 array of n elements for a kernel that writes all of them (contents undefined until then). Inside
 * withOutputReuse (output_pool.ts) it may be an array of a disposed tensor of the same run.
 */
export function outputF32(n: number): Float32Array {
  const poisonOutputs = currentEngine().poisonOutputs;
  const reused = pooledOutput(n);
  if (reused) return poisonOutputs ? reused.fill(NaN) : reused;
  let a: Float32Array;
  if (poisonOutputs) a = new Float32Array(n).fill(NaN);
  else if (n * 4 < UNSAFE_MIN_BYTES || typeof Buffer === 'undefined') a = new Float32Array(n);
  else {
    const b = Buffer.allocUnsafe(n * 4);
    a = new Float32Array(b.buffer, b.byteOffset, n);
  }
  return adoptOutput(a);
}
