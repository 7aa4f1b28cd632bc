// Host-array access for kernels: zero-copy on the cpu backend, a host copy on other backends (tfjs-node-gpu).
import type { TensorInfo } from '@tensorflow/tfjs';

interface CpuLikeBackend {
  data?: { get(dataId: object): { values: unknown } };
  readSync?(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** The float32 values of `t` (the backend's own array on cpu: never write to it). */
export function readF32(backend: unknown, t: TensorInfo, name: string): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`${name} must be float32, got ${t.dtype}.`);
  const b = backend as CpuLikeBackend;
  const values = b.data ? b.data.get(t.dataId).values : b.readSync?.(t.dataId);
  if (values instanceof Float32Array) return values;
  // Other backends may return a copy of another typed array; normalise once.
  if (ArrayBuffer.isView(values)) return Float32Array.from(values as unknown as ArrayLike<number>);
  throw new Error(`${name}: the backend returned no float32 data (was the tensor disposed?).`);
}

/** Wraps `values` as a new tensor of the backend (the cpu backend keeps the array, no copy). */
export function makeF32(backend: unknown, shape: number[], values: Float32Array): TensorInfo {
  return (backend as CpuLikeBackend).makeTensorInfo(shape, 'float32', values);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}
