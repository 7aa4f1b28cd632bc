// 3×3 matrices, row-major (9 numbers): products, determinant and inverse, for direction cosines, affines and
// colour transforms.

export type Mat3 = readonly number[];

export function mulMat3(a: Mat3, b: Mat3): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return out;
}

export function mulMat3Vec(m: Mat3, v: readonly number[]): [number, number, number] {
  return [
    m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
    m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
    m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
  ];
}

export function detMat3(m: Mat3): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/** The inverse (adjugate over determinant); a RangeError for a singular matrix. */
export function invertMat3(m: Mat3): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = detMat3(m);
  if (!(Math.abs(det) > 1e-12)) throw new RangeError('singular 3x3 matrix');
  const s = 1 / det;
  return [
    (e * i - f * h) * s,
    -(b * i - c * h) * s,
    (b * f - c * e) * s,
    -(d * i - f * g) * s,
    (a * i - c * g) * s,
    -(a * f - c * d) * s,
    (d * h - e * g) * s,
    -(a * h - b * g) * s,
    (a * e - b * d) * s,
  ];
}
