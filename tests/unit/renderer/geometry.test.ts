// Unit tests of the viewer's pure geometry: voxel <-> world against src-main's affine, orientation
// letters against Cornerstone's own camera constants, slice numbers and W/L presets.
import { describe, expect, it } from 'vitest';
import mprCameraValues from '@cornerstonejs/core/constants/mprCameraValues';
import {
  cross,
  ijkToWorld,
  nearestVoxel,
  orientationLetters,
  orientationMarkers,
  sliceInfo,
  voxelValue,
  worldToIjk,
  type GridGeometry,
  type Vec3,
} from '../../../src-renderer/lib/viewer/geometry';
import { fromVoiRange, presetIdFor, toVoiRange, WL_PRESETS } from '../../../src-renderer/lib/viewer/presets';
import { voxelToWorld, type Direction, type Volume } from '../../../src-main/imaging/volume';

/** Rotation about an arbitrary unit axis (Rodrigues), as i/j/k axis vectors. */
function rotation(axis: Vec3, angleRad: number): Direction {
  const n = Math.hypot(...axis);
  const [x, y, z] = axis.map((a) => a / n);
  const c = Math.cos(angleRad);
  const s = Math.sin(angleRad);
  const t = 1 - c;
  const m = [
    [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
    [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
    [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
  ];
  // Columns of m are the rotated i, j, k axes.
  return [m[0][0], m[1][0], m[2][0], m[0][1], m[1][1], m[2][1], m[0][2], m[1][2], m[2][2]];
}

const oblique: GridGeometry = {
  dims: [40, 30, 20],
  spacingMm: [0.7, 0.9, 2.5],
  originMm: [-120.5, 33.25, 410],
  direction: rotation([0.3, -0.5, 0.8], 0.4),
};

describe('voxel <-> world', () => {
  it('matches src-main voxelToWorld on an oblique grid and inverts it', () => {
    const vol = {
      ...oblique,
      data: new Int16Array(1),
      modality: 'CT',
      description: '',
      source: '',
    } as unknown as Volume;
    for (const ijk of [
      [0, 0, 0],
      [39, 29, 19],
      [12.5, 3.25, 7],
      [-2, 31, 5],
    ] as Vec3[]) {
      const ours = ijkToWorld(oblique, ijk);
      const reference = voxelToWorld(vol, ...ijk);
      for (let a = 0; a < 3; a++) expect(ours[a]).toBeCloseTo(reference[a], 9);
      const back = worldToIjk(oblique, reference);
      for (let a = 0; a < 3; a++) expect(back[a]).toBeCloseTo(ijk[a], 9);
    }
  });

  it('inverts a flipped, non-orthogonal (sheared) grid', () => {
    const g: GridGeometry = { ...oblique, direction: [-1, 0, 0, 0.2, -0.98, 0, 0, 0.1, 0.995] };
    const p = ijkToWorld(g, [3, 4, 5]);
    const back = worldToIjk(g, p);
    [3, 4, 5].forEach((v, a) => expect(back[a]).toBeCloseTo(v, 9));
  });

  it('refuses a degenerate grid', () => {
    expect(() => worldToIjk({ ...oblique, direction: [1, 0, 0, 1, 0, 0, 0, 0, 1] }, [0, 0, 0])).toThrow(/degenerate/);
  });

  it('rounds to the nearest voxel and rejects points outside', () => {
    expect(nearestVoxel([4, 4, 4], [0.49, 2.5, 3.4])).toEqual([0, 3, 3]);
    expect(nearestVoxel([4, 4, 4], [-0.51, 0, 0])).toBeNull();
    expect(nearestVoxel([4, 4, 4], [0, 3.5, 0])).toBeNull();
  });

  it('reads i-fastest voxels', () => {
    const dims: Vec3 = [3, 4, 5];
    const data = Int16Array.from({ length: 60 }, (_, n) => n * 7 - 100);
    // Independent index: walk k, then j, then i as the file order does.
    let n = 0;
    for (let k = 0; k < 5; k++)
      for (let j = 0; j < 4; j++) for (let i = 0; i < 3; i++) expect(voxelValue(data, dims, [i, j, k])).toBe(data[n++]);
  });
});

describe('orientation markers', () => {
  it('names LPS directions with the strongest component first', () => {
    expect(orientationLetters([1, 0, 0])).toBe('L');
    expect(orientationLetters([-1, 0, 0])).toBe('R');
    expect(orientationLetters([0, -1, 0])).toBe('A');
    expect(orientationLetters([0, 0, 1])).toBe('S');
    expect(orientationLetters([0.3, -0.9, 0.05])).toBe('AL');
    expect(orientationLetters([0, 0, 0])).toBe('');
  });

  it("puts screen-right where Cornerstone's camera says (viewRight) for the three MPR views", () => {
    for (const name of ['axial', 'sagittal', 'coronal'] as const) {
      const cam = mprCameraValues[name] as { viewUp: Vec3; viewPlaneNormal: Vec3; viewRight: Vec3 };
      const right = cross(cam.viewUp, cam.viewPlaneNormal);
      right.forEach((v, a) => expect(v).toBeCloseTo(cam.viewRight[a], 12));
      const m = orientationMarkers(cam.viewUp, cam.viewPlaneNormal);
      expect(m.right).toBe(orientationLetters(cam.viewRight));
      expect(m.left).toBe(orientationLetters(cam.viewRight.map((v) => -v) as Vec3));
      expect(m.top).toBe(orientationLetters(cam.viewUp));
    }
  });

  it('gives the radiological convention for axial (R on the left, A on top)', () => {
    const cam = mprCameraValues.axial as { viewUp: Vec3; viewPlaneNormal: Vec3 };
    expect(orientationMarkers(cam.viewUp, cam.viewPlaneNormal)).toEqual({
      top: 'A',
      bottom: 'P',
      left: 'R',
      right: 'L',
    });
  });
});

describe('slice numbers', () => {
  it('picks the voxel axis along the view normal and the focal point index', () => {
    const g: GridGeometry = {
      dims: [64, 64, 30],
      spacingMm: [1, 1, 3],
      originMm: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    };
    expect(sliceInfo(g, [10, 20, 3 * 7.2], [0, 0, -1])).toEqual({ axis: 2, index: 7, count: 30 });
    expect(sliceInfo(g, [12.4, 20, 0], [1, 0, 0])).toEqual({ axis: 0, index: 12, count: 64 });
    expect(sliceInfo(g, [0, 500, 0], [0, -1, 0])).toEqual({ axis: 1, index: 63, count: 64 });
  });

  it('works on a flipped grid (index counts voxels, not the view direction)', () => {
    const g: GridGeometry = {
      dims: [8, 8, 10],
      spacingMm: [1, 1, 2],
      originMm: [0, 0, 0],
      direction: [-1, 0, 0, 0, -1, 0, 0, 0, -1],
    };
    expect(sliceInfo(g, [0, 0, -2 * 3], [0, 0, -1])).toEqual({ axis: 2, index: 3, count: 10 });
  });
});

describe('W/L presets', () => {
  it('holds the standard abdominal CT windows', () => {
    const byId = Object.fromEntries(WL_PRESETS.map((p) => [p.id, [p.width, p.center]]));
    expect(byId.abdomen).toEqual([400, 40]);
    expect(byId.bone).toEqual([1800, 400]);
    expect(byId.lung).toEqual([1500, -600]);
  });

  it('converts to and from VOI ranges and recognises presets', () => {
    expect(toVoiRange({ width: 400, center: 40 })).toEqual({ lower: -160, upper: 240 });
    expect(fromVoiRange({ lower: -160, upper: 240 })).toEqual({ width: 400, center: 40 });
    expect(presetIdFor({ width: 1800, center: 400.2 })).toBe('bone');
    expect(presetIdFor({ width: 1000, center: 400 })).toBe('custom');
  });
});
