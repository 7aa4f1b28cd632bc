// Separable smoothing of volumes stored i-fastest (phantom finishing, training-patch augmentation).
type Vec3 = [number, number, number];

/**
 * In-place 3-tap blur [w, 1-2w, w] along one axis (edges repeat). Running rows keep it cache-friendly
 * and allocation-light: one row (or plane) of scratch, whatever the axis.
 */
export function blurAxis(a: Float32Array, dims: Vec3, axis: 0 | 1 | 2, w: number): void {
  const [ni, nj, nk] = dims;
  const c = 1 - 2 * w;
  if (axis === 0) {
    for (let line = 0; line < nj * nk; line++) {
      const base = line * ni;
      let prev = a[base];
      for (let i = 0; i < ni; i++) {
        const cur = a[base + i];
        const next = i + 1 < ni ? a[base + i + 1] : cur;
        a[base + i] = w * (prev + next) + c * cur;
        prev = cur;
      }
    }
    return;
  }
  const stride = axis === 1 ? ni : ni * nj;
  const length = axis === 1 ? nj : nk;
  const blocks = axis === 1 ? nk : 1;
  const blockSize = ni * nj;
  const prev = new Float32Array(stride);
  for (let b = 0; b < blocks; b++) {
    const base = b * blockSize;
    prev.set(a.subarray(base, base + stride));
    for (let n = 0; n < length; n++) {
      const row = base + n * stride;
      const nextRow = n + 1 < length ? row + stride : row;
      for (let q = 0; q < stride; q++) {
        const cur = a[row + q];
        a[row + q] = w * (prev[q] + a[nextRow + q]) + c * cur;
        prev[q] = cur;
      }
    }
  }
}
