// The one place the engine reaches past tfjs's public API (pinned: @tensorflow/tfjs 4.22). Each use says why;
// tests/engine/tfjs-internals.test.ts checks every one against the installed tfjs, so an upgrade that moves
// them fails there by name instead of somewhere inside a kernel.
//
//  - the cpu backend's tensor store (data.get/has) and its write/move/disposeData: kernels read inputs without a
//    copy (kernels/io.ts readF32), and the output pool counts which arrays live tensors still use
//    (kernels/output_pool.ts);
//  - the engine's gradient depth: the fused norms skip saving what only a gradient needs when no tape records
//    (model/fused.ts);
//  - the cpu backend's firstUse flag: its first write prints a banner recommending tfjs-node, which is not the
//    fast path here (the native kernels are).

type Values = { values?: unknown };

/** The cpu backend's internals the engine uses. */
export interface CpuBackendInternals {
  data: { get(id: object): Values | undefined; has(id: object): boolean };
  write(values: unknown, shape: number[], dtype: string): object;
  move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
  firstUse?: boolean;
}

/** `backend` as the cpu backend's internals, or null when it is another backend (tfjs-node-gpu) or they moved. */
export function cpuBackendInternals(backend: unknown): CpuBackendInternals | null {
  const b = backend as Partial<CpuBackendInternals> | null;
  if (!b || typeof b !== 'object') return null;
  const ok =
    typeof b.write === 'function' &&
    typeof b.move === 'function' &&
    typeof b.disposeData === 'function' &&
    typeof b.data?.get === 'function' &&
    typeof b.data?.has === 'function';
  return ok ? (b as CpuBackendInternals) : null;
}

/** The values array the backend keeps for a tensor (cpu: its own array, no copy), or undefined elsewhere. */
export function storedValues(backend: unknown, dataId: object): unknown {
  return cpuBackendInternals(backend)?.data.get(dataId)?.values;
}

interface EngineLike {
  state?: { gradientDepth?: unknown };
}

/** Whether a gradient tape is recording (inside tf.grad / variableGrads). */
export function gradientRecording(engine: unknown): boolean {
  const depth = (engine as EngineLike | null)?.state?.gradientDepth;
  return typeof depth === 'number' && depth > 0;
}

/** Turns off the cpu backend's tfjs-node banner (no effect on other backends). */
export function silenceCpuBanner(backend: unknown): void {
  const b = backend as { firstUse?: unknown } | null;
  if (b && b.firstUse === true) b.firstUse = false;
}

/** What of the above the given engine and backend lack (empty: all there, as the pinned tfjs has them). */
export function missingInternals(engine: unknown, backend: unknown): string[] {
  const missing: string[] = [];
  if (!cpuBackendInternals(backend)) missing.push('cpu backend data/write/move/disposeData');
  if (typeof (backend as { firstUse?: unknown } | null)?.firstUse !== 'boolean') missing.push('cpu backend firstUse');
  if (typeof (engine as EngineLike | null)?.state?.gradientDepth !== 'number')
    missing.push('engine state.gradientDepth');
  return missing;
}
