// 3×3 helpers: the inverse undoes the matrix, the determinant of a product is the product of determinants, and a
// singular matrix is refused rather than inverted into infinities.
import { describe, expect, it } from 'vitest';
import { detMat3, invertMat3, mulMat3, mulMat3Vec } from '../../src-main/util/mat3';

const M = [0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296];
const N = [0, -1, 0, 2, 0, 0, 0, 0, 3];

describe('mat3', () => {
  it('inverse, product and determinant agree', () => {
    const I = mulMat3(M, invertMat3(M));
    I.forEach((x, k) => expect(x).toBeCloseTo(k % 4 === 0 ? 1 : 0, 12));
    expect(detMat3(mulMat3(M, N))).toBeCloseTo(detMat3(M) * detMat3(N), 12);
    expect(detMat3(N)).toBe(6);
    expect(mulMat3Vec(N, [1, 2, 3])).toEqual([-2, 2, 9]);
  });

  it('refuses a singular matrix', () => {
    expect(() => invertMat3([1, 2, 3, 2, 4, 6, 0, 0, 1])).toThrow(RangeError);
  });
});
