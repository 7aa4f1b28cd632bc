// Smooth random fields (value noise on a coarse lattice) for organ shape wobble and tissue texture.
import type { Rng } from './random';

/**
 * Random values on an infinite lattice with `cellMm` spacing, read back with smoothstep trilinear
 * interpolation: a cheap band-limited field in [-1, 1], smooth at the scale of the cell. Lattice
 * values come from hashing the cell index with a per-field key, so nothing is stored and a field
 * costs nothing to create however large the volume.
 */
export class SmoothField {
  private readonly key: number;
  private readonly invCellMm: number;

  constructor(rng: Rng, cellMm: number) {
    this.key = rng.nextUint32();
    this.invCellMm = 1 / cellMm;
  }

  private lattice(i: number, j: number, k: number): number {
    let h = this.key;
    h = Math.imul(h ^ i, 0x9e3779b1);
    h = Math.imul(h ^ j, 0x85ebca77);
    h = Math.imul(h ^ k, 0xc2b2ae3d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x27d4eb2f);
    h ^= h >>> 13;
    return (h >>> 0) / 2147483648 - 1;
  }

  /** Field value at world position (mm). */
  at(x: number, y: number, z: number): number {
    const fx = x * this.invCellMm;
    const fy = y * this.invCellMm;
    const fz = z * this.invCellMm;
    const i0 = Math.floor(fx);
    const j0 = Math.floor(fy);
    const k0 = Math.floor(fz);
    let tx = fx - i0;
    let ty = fy - j0;
    let tz = fz - k0;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    tz = tz * tz * (3 - 2 * tz);
    const c000 = this.lattice(i0, j0, k0);
    const c100 = this.lattice(i0 + 1, j0, k0);
    const c010 = this.lattice(i0, j0 + 1, k0);
    const c110 = this.lattice(i0 + 1, j0 + 1, k0);
    const c001 = this.lattice(i0, j0, k0 + 1);
    const c101 = this.lattice(i0 + 1, j0, k0 + 1);
    const c011 = this.lattice(i0, j0 + 1, k0 + 1);
    const c111 = this.lattice(i0 + 1, j0 + 1, k0 + 1);
    const c00 = c000 + (c100 - c000) * tx;
    const c10 = c010 + (c110 - c010) * tx;
    const c01 = c001 + (c101 - c001) * tx;
    const c11 = c011 + (c111 - c011) * tx;
    const c0 = c00 + (c10 - c00) * ty;
    const c1 = c01 + (c11 - c01) * ty;
    return c0 + (c1 - c0) * tz;
  }
}
