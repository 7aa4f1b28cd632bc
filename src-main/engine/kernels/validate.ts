// Argument checks shared by the ops and the kernels: each error says what was expected and what came.
import type { DeformShape } from './reference/deform_dwconv3d_ref';
import type { DepthwiseShape } from './reference/depthwise_conv3d_ref';

const MAX_K = 7;

function fmt(shape: readonly number[] | undefined): string {
  return shape ? `[${shape.join(',')}]` : 'nothing';
}

function checkKernelSize(op: string, k: number): void {
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0 || k > MAX_K) {
    throw new Error(`${op}: kernel size must be odd and between 1 and ${MAX_K}, got ${k}.`);
  }
}

function checkRank5(op: string, name: string, shape: readonly number[]): void {
  if (shape.length !== 5)
    throw new Error(`${op}: ${name} must be 5-D [N,D,H,W,C] (channels-last), got shape ${fmt(shape)}.`);
  if (shape.some((s) => !Number.isInteger(s) || s < 1))
    throw new Error(`${op}: ${name} has an empty or invalid dimension: ${fmt(shape)}.`);
}

/** Checks DeformDwConv3D shapes and groups; returns the problem size. */
export function checkDeformArgs(
  xShape: readonly number[],
  offsetShape: readonly number[],
  weightShape: readonly number[],
  biasShape: readonly number[] | undefined,
  groups: unknown,
): DeformShape {
  const op = 'deformDwConv3d';
  checkRank5(op, 'x', xShape);
  const [N, D, H, W, C] = xShape;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
    throw new Error(`${op}: groups must be a positive integer, got ${String(groups)}.`);
  }
  if (C % groups !== 0) throw new Error(`${op}: channels C=${C} must be divisible by groups G=${groups}.`);
  if (weightShape.length !== 4) throw new Error(`${op}: weight must be 4-D [k,k,k,C], got shape ${fmt(weightShape)}.`);
  const k = weightShape[0];
  checkKernelSize(op, k);
  if (weightShape[1] !== k || weightShape[2] !== k || weightShape[3] !== C) {
    throw new Error(`${op}: weight must be [${k},${k},${k},${C}] for x ${fmt(xShape)}, got ${fmt(weightShape)}.`);
  }
  const K = k * k * k;
  const offC = groups * K * 3;
  if (
    offsetShape.length !== 5 ||
    offsetShape[0] !== N ||
    offsetShape[1] !== D ||
    offsetShape[2] !== H ||
    offsetShape[3] !== W ||
    offsetShape[4] !== offC
  ) {
    throw new Error(
      `${op}: offset must be [${N},${D},${H},${W},${offC}] (G*k^3*3 channels) for x ${fmt(xShape)}, k=${k}, G=${groups}; got ${fmt(offsetShape)}.`,
    );
  }
  if (biasShape && (biasShape.length !== 1 || biasShape[0] !== C)) {
    throw new Error(`${op}: bias must be [${C}], got ${fmt(biasShape)}.`);
  }
  return { N, D, H, W, C, k, G: groups };
}

/** Checks DepthwiseConv3D shapes; returns the problem size. */
export function checkDepthwiseArgs(
  xShape: readonly number[],
  weightShape: readonly number[],
  biasShape: readonly number[] | undefined,
): DepthwiseShape {
  const op = 'depthwiseConv3d';
  checkRank5(op, 'x', xShape);
  const [N, D, H, W, C] = xShape;
  if (weightShape.length !== 4) throw new Error(`${op}: weight must be 4-D [k,k,k,C], got shape ${fmt(weightShape)}.`);
  const k = weightShape[0];
  checkKernelSize(op, k);
  if (weightShape[1] !== k || weightShape[2] !== k || weightShape[3] !== C) {
    throw new Error(`${op}: weight must be [${k},${k},${k},${C}] for x ${fmt(xShape)}, got ${fmt(weightShape)}.`);
  }
  if (biasShape && (biasShape.length !== 1 || biasShape[0] !== C)) {
    throw new Error(`${op}: bias must be [${C}], got ${fmt(biasShape)}.`);
  }
  return { N, D, H, W, C, k };
}

/** Throws when an offset is NaN or infinite (the sampling position would be meaningless). */
export function checkFinite(op: string, name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new Error(`${op}: ${name} contains a non-finite value (${values[i]}) at flat index ${i}.`);
  }
}
