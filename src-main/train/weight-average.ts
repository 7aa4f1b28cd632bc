// Weight-space interpolation between two checkpoints of one network (WiSE-FT, Wortsman et al., CVPR 2022): the
// average of a model and its fine-tuned descendant often holds up better under distribution shift than either.
import type { TensorMap } from '../engine/io/safetensors';

/**
 * `start + alpha · (end − start)`, tensor by tensor: alpha 0 gives `start`, 1 gives `end`. Both maps must hold
 * the same tensor names and shapes (the same network); `what` names them in errors.
 */
export function interpolateWeights(start: TensorMap, end: TensorMap, alpha: number, what: string): TensorMap {
  if (!(alpha >= 0 && alpha <= 1))
    throw new RangeError(`${what}: weight average alpha must be in [0, 1], got ${alpha}`);
  const names = [...end.keys()];
  const missing = [...start.keys()].filter((k) => !end.has(k)).concat(names.filter((k) => !start.has(k)));
  if (missing.length)
    throw new Error(`${what}: the two weight sets differ in tensors (${missing.slice(0, 3).join(', ')})`);
  const out: TensorMap = new Map();
  for (const name of names) {
    const a = start.get(name)!;
    const b = end.get(name)!;
    if (a.shape.join('x') !== b.shape.join('x'))
      throw new Error(`${what}: tensor ${name} is ${a.shape.join('x')} in one and ${b.shape.join('x')} in the other`);
    const data = new Float32Array(b.data.length);
    for (let i = 0; i < data.length; i++) data[i] = a.data[i] + alpha * (b.data[i] - a.data[i]);
    out.set(name, { shape: [...b.shape], data });
  }
  return out;
}
