// Brush dab: a 2D disc on the shown plane or a 3D ball, radius in mm, through the paint rules
// (used by the brush, the eraser (value 0) and the threshold brush (HU range)).
import type { LabelGrid, PaintRules, StrokeRecorder, Vec3 } from './labelGrid';

export type BrushShape = { kind: 'circle'; normalAxis: 0 | 1 | 2 } | { kind: 'sphere' };

/**
 * Paints every voxel whose centre lies within radiusMm of `centerIjk` (continuous voxel
 * coordinates); a circle keeps to the slice nearest the centre along its normal axis.
 * Returns the number of voxels changed.
 */
export function paintBrush(
  grid: LabelGrid,
  rules: PaintRules,
  centerIjk: Vec3,
  radiusMm: number,
  shape: BrushShape,
  rec: StrokeRecorder,
): number {
  const [ni, nj, nk] = grid.dims;
  const s = grid.spacingMm;
  const lo: number[] = [];
  const hi: number[] = [];
  for (let a = 0; a < 3; a++) {
    if (shape.kind === 'circle' && shape.normalAxis === a) {
      const c = Math.round(centerIjk[a]);
      lo.push(c);
      hi.push(c);
    } else {
      const r = radiusMm / s[a];
      lo.push(Math.ceil(centerIjk[a] - r));
      hi.push(Math.floor(centerIjk[a] + r));
    }
  }
  if (lo[0] >= ni || lo[1] >= nj || lo[2] >= nk || hi[0] < 0 || hi[1] < 0 || hi[2] < 0) return 0;
  const r2 = radiusMm * radiusMm;
  let changed = 0;
  for (let k = Math.max(0, lo[2]); k <= Math.min(nk - 1, hi[2]); k++) {
    const dk = shape.kind === 'circle' && shape.normalAxis === 2 ? 0 : (k - centerIjk[2]) * s[2];
    for (let j = Math.max(0, lo[1]); j <= Math.min(nj - 1, hi[1]); j++) {
      const dj = shape.kind === 'circle' && shape.normalAxis === 1 ? 0 : (j - centerIjk[1]) * s[1];
      const row = (k * nj + j) * ni;
      for (let i = Math.max(0, lo[0]); i <= Math.min(ni - 1, hi[0]); i++) {
        const di = shape.kind === 'circle' && shape.normalAxis === 0 ? 0 : (i - centerIjk[0]) * s[0];
        if (di * di + dj * dj + dk * dk > r2) continue;
        if (rec.paint(row + i, rules)) changed++;
      }
    }
  }
  return changed;
}
