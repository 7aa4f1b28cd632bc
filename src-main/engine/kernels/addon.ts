// Loads the native addon (native/build/Release/deformux_native.node); never throws: callers fall back to JS loudly.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type F32 = Float32Array;

/** The addon's functions: plain arrays + shape ints, outputs first (see native/src/binding.cc). */
export interface NativeAddon {
  version: string;
  /** Whether loading tuned glibc malloc to keep tensor-sized blocks in the heap (binding.cc tune_malloc_once). */
  mallocTuned?: boolean;
  /**
   * MB of address space the heap was grown by and advised for huge pages at load (and again after trimMemory), so
   * fresh tensors fault in 2 MB at a time (binding.cc reserve_huge_heap); 0 when off or not glibc.
   */
  heapReservedMb?: number;
  /** Hands free heap memory back to the system (glibc malloc_trim), then re-grows the huge-page reserve; true when some was released. */
  trimMemory?(): boolean;
  /** y = a + b elementwise (equal lengths), rounded as tfjs's cpu Add; multithreaded. */
  fusedAdd?(y: F32, a: F32, b: F32): void;
  /** Instruction set the CPU kernels dispatched to: 'avx512', 'avx2' or 'scalar'. */
  isa: string;
  /** The best instruction set this CPU has. */
  machineIsa: string;
  /** Threads in the persistent pool (including the caller). */
  threads: number;
  /** Resizes the pool (0: the machine's size); returns the new size. Not while kernels run. */
  setThreads(n: number): number;
  /** Caps the instruction set ('avx512', 'avx2', 'scalar'; never above the machine's); returns the one in effect. */
  setIsa(isa: string): string;
  /** dims = [N,D,H,W,C,k,G]; throws on non-finite offsets. */
  deformForward: DeformForward<void>;
  deformBackward: DeformBackward<void>;
  /** dims = [N,D,H,W,C,k]; bias/dbias may be null. */
  depthwiseForward: DepthwiseForward<void>;
  depthwiseBackward: DepthwiseBackward<void>;
  /** p = [N, inD,inH,inW,Cin, outD,outH,outW,Cout, kd,kh,kw, sd,sh,sw, padFront,padTop,padLeft]. */
  conv3dForward: Conv3dCall<void>;
  conv3dBackpropInput: Conv3dCall<void>;
  conv3dBackpropFilter: Conv3dCall<void>;
  /** Same as the above, on the libuv pool; resolve when done (the arrays must stay untouched meanwhile). */
  deformForwardAsync: DeformForward<Promise<void>>;
  deformBackwardAsync: DeformBackward<Promise<void>>;
  depthwiseForwardAsync: DepthwiseForward<Promise<void>>;
  depthwiseBackwardAsync: DepthwiseBackward<Promise<void>>;
  conv3dForwardAsync: Conv3dCall<Promise<void>>;
  conv3dBackpropInputAsync: Conv3dCall<Promise<void>>;
  conv3dBackpropFilterAsync: Conv3dCall<Promise<void>>;
  /** The readable C++ references (slow; for the dev harness and tests). */
  deformForwardRef: DeformForward<void>;
  deformBackwardRef: DeformBackward<void>;
  conv3dForwardRef: Conv3dCall<void>;
  conv3dBackpropInputRef: Conv3dCall<void>;
  conv3dBackpropFilterRef: Conv3dCall<void>;
  /** The named dense conv3d kernel paths (harness and tests only; native/src/conv3d.inc). */
  conv3dPaths?(): Conv3dPathInfo[];
  /**
   * Runs one dense conv3d op on a named path ('auto': the production choice) at the current ISA, with the arrays
   * of conv3dForward / conv3dBackpropInput / conv3dBackpropFilter; returns the names of the paths that ran.
   * Throws when the path does not serve the op or cannot serve the shape (harness and tests only).
   */
  conv3dRun?(op: Conv3dOp, path: string, out: F32, a: F32, b: F32, p: number[]): string[];
  /** Loads the CUDA library and finds a GPU; returns '' on success, else why not. */
  cudaInit(): string;
  cudaDeviceName(): string;
  deformForwardCuda: DeformForward<void>;
  deformBackwardCuda: DeformBackward<void>;
  depthwiseForwardCuda: DepthwiseForward<void>;
  depthwiseBackwardCuda: DepthwiseBackward<void>;
}

// One signature per kernel, shared by its sync, async, reference and CUDA entry points (outputs first).
type DeformForward<R> = (y: F32, x: F32, offset: F32, weight: F32, bias: F32, dims: number[]) => R;
type DeformBackward<R> = (
  dx: F32,
  doffset: F32,
  dweight: F32,
  dbias: F32,
  dy: F32,
  x: F32,
  offset: F32,
  weight: F32,
  dims: number[],
) => R;
type DepthwiseForward<R> = (y: F32, x: F32, weight: F32, bias: F32 | null, dims: number[]) => R;
type DepthwiseBackward<R> = (
  dx: F32,
  dweight: F32,
  dbias: F32 | null,
  dy: F32,
  x: F32,
  weight: F32,
  dims: number[],
) => R;
/** conv3dForward(y, x, filter, p), conv3dBackpropInput(dx, dy, filter, p), conv3dBackpropFilter(dfilter, x, dy, p). */
type Conv3dCall<R> = (out: F32, a: F32, b: F32, p: number[]) => R;

export type Conv3dOp = 'forward' | 'backpropInput' | 'backpropFilter';

/** One named dense conv3d kernel path: the ops it serves and what it is. */
export interface Conv3dPathInfo {
  name: string;
  ops: Conv3dOp[];
  about: string;
}

export interface AddonStatus {
  addon: NativeAddon | null;
  /** The file that loaded, or the last one tried. */
  path: string | null;
  /** Why it did not load (null when it did). */
  error: string | null;
}

const ADDON_FILE = join('native', 'build', 'Release', 'deformux_native.node');

/** Where the addon may be: $DEFORMUX_NATIVE, then native/ in every folder above this module, then the cwd. */
export function addonCandidates(env: Record<string, string | undefined> = process.env): string[] {
  const out: string[] = [];
  if (env.DEFORMUX_NATIVE && env.DEFORMUX_NATIVE !== 'off') out.push(resolve(env.DEFORMUX_NATIVE));
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    out.push(join(dir, ADDON_FILE));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  out.push(join(process.cwd(), ADDON_FILE));
  return [...new Set(out)];
}

let cached: AddonStatus | null = null;

/** Loads the addon once. DEFORMUX_NATIVE=off forces the JS fallback (for tests of that path). */
export function loadAddon(): AddonStatus {
  if (cached) return cached;
  if (process.env.DEFORMUX_NATIVE === 'off') {
    cached = { addon: null, path: null, error: 'disabled by DEFORMUX_NATIVE=off' };
    return cached;
  }
  const require = createRequire(import.meta.url);
  let lastError = `not built (looked for ${ADDON_FILE}; run 'npm run build:native')`;
  let lastPath: string | null = null;
  for (const p of addonCandidates()) {
    if (!existsSync(p)) continue;
    lastPath = p;
    try {
      cached = { addon: require(p) as NativeAddon, path: p, error: null };
      return cached;
    } catch (err) {
      lastError = `failed to load ${p}: ${(err as Error).message}`;
    }
  }
  cached = { addon: null, path: lastPath, error: lastError };
  return cached;
}
