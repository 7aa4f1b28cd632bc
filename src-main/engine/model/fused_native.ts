// Native (N-API, multithreaded) back end of the fused block ops of fused.ts; null when the addon is absent or older.
import { currentEngine, type FusedMode } from '../engine';
import { loadAddon } from '../kernels/addon';

export type { FusedMode };

type F32 = Float32Array;

/** The fused* functions of native/src/fused_ops_binding.cc: outputs first, then inputs, then sizes. */
export interface FusedNative {
  /** Softmax + DiceCE sums (src-main/train/loss.ts): out = [inter N*C, sums N*C, ce sum, weight sum]. */
  fusedDiceCeForward(
    prob: F32,
    out: Float64Array,
    z: F32,
    labels: Int32Array,
    weights: F32 | null,
    N: number,
    V: number,
    C: number,
    ignoreLabel: number | null,
  ): void;
  fusedDiceCeBackward(
    dz: F32,
    prob: F32,
    labels: Int32Array,
    weights: F32 | null,
    stats: Float64Array,
    N: number,
    V: number,
    C: number,
    ignoreLabel: number | null,
    scale: number,
    diceWeight: number,
    ceWeight: number,
    wsum: number,
    smooth: number,
  ): void;
  /** xhat (the normalised values, kept for the gradient) is written when given. */
  fusedLayerNormForward(
    y: F32,
    xhat: F32 | null,
    rstd: F32,
    x: F32,
    w: F32,
    b: F32,
    rows: number,
    C: number,
    eps: number,
  ): void;
  fusedLayerNormBackward(
    dx: F32,
    dw: F32,
    db: F32,
    dy: F32,
    xhat: F32,
    rstd: F32,
    w: F32,
    rows: number,
    C: number,
  ): void;
  /** y must be given exactly when slope is (the leaky ReLU output); xhat is written when given (null: only with y). */
  fusedInstanceNormForward(
    y: F32 | null,
    xhat: F32 | null,
    rstd: F32,
    x: F32,
    N: number,
    S: number,
    C: number,
    eps: number,
    slope: number | null,
  ): void;
  fusedInstanceNormBackward(
    dx: F32,
    dy: F32,
    xhat: F32,
    rstd: F32,
    N: number,
    S: number,
    C: number,
    slope: number | null,
  ): void;
  fusedGeluForward(y: F32, x: F32): void;
  fusedGeluBackward(dx: F32, dy: F32, x: F32): void;
  fusedExpand4Forward(y: F32, x: F32, w: F32, b: F32, rows: number, C: number): void;
  fusedExpand4Backward(dx: F32, dw: F32, db: F32, dy: F32, x: F32, w: F32, rows: number, C: number): void;
  fusedReduce4Forward(y: F32, x: F32, w: F32, b: F32, rows: number, C: number): void;
  fusedReduce4Backward(dx: F32, dw: F32, db: F32, dy: F32, x: F32, w: F32, rows: number, C: number): void;
  fusedResidualForward(out: F32, x: F32, y: F32, gamma: F32, rows: number, C: number): void;
  fusedResidualBackward(dy: F32, dgamma: F32, dout: F32, y: F32, gamma: F32, rows: number, C: number): void;
  fusedBiasForward(y: F32, x: F32, b: F32, rows: number, C: number): void;
  fusedColumnSum(db: F32, dy: F32, rows: number, C: number): void;
  fusedAddLeakyReluForward(y: F32, a: F32, b: F32, slope: number): void;
  fusedLeakyReluBackward(dx: F32, dy: F32, y: F32, slope: number): void;
  /** The scalar erf of the GELU kernels (for accuracy tests). */
  fusedErf(x: number): number;
}

/**
 * Chooses native kernels when available ('auto') or the JS reference loops ('js') for the current engine; returns
 * the previous mode. 'js' lets tests compare the two; the engine switch DEFORMUX_FUSED=js does it for a whole run.
 */
export function setFusedMode(m: FusedMode): FusedMode {
  const engine = currentEngine();
  const prev = engine.fusedMode;
  engine.fusedMode = m;
  return prev;
}

/** The native fused kernels, or null (mode 'js', no addon, or an addon built before they existed). */
export function fusedNative(): FusedNative | null {
  if (currentEngine().fusedMode === 'js') return null;
  const a = loadAddon().addon as unknown as Partial<FusedNative> | null;
  return a && typeof a.fusedLayerNormForward === 'function' ? (a as FusedNative) : null;
}

/** The native kernels for a problem of `n` values (none for empty tensors: the kernels reject zero sizes). */
export function nativeFor(n: number): FusedNative | null {
  return n > 0 ? fusedNative() : null;
}
