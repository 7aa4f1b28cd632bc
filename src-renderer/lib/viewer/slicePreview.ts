// The quick first picture of a case: one slice per view, fetched alone (cases.sliceData) and drawn as a
// plain 2D image while the whole volume downloads and uploads to the GPU. It is laid out as the
// Cornerstone views will show the volume (same orientation, fitted and centred the same way, same
// linear window/level), so the hand-over does not jump. Pure: no DOM or Cornerstone imports.
import type { VolumeHeader } from '../../../src-main/api/contract';
import { cross, ijkToWorld, orientationMarkers, sliceInfo, type OrientationMarkers, type Vec3 } from './geometry';
import { toVoiRange, type WindowLevel } from './presets';
import { VIEW_NAMES, type ViewName } from './viewNames';

/** The cameras of the MPR views (Cornerstone's axial, sagittal and coronal orientations, LPS). */
export const VIEW_CAMERAS: Record<ViewName, { viewPlaneNormal: Vec3; viewUp: Vec3 }> = {
  axial: { viewPlaneNormal: [0, 0, -1], viewUp: [0, -1, 0] },
  sagittal: { viewPlaneNormal: [1, 0, 0], viewUp: [0, 0, 1] },
  coronal: { viewPlaneNormal: [0, -1, 0], viewUp: [0, 0, 1] },
};

/** Which slice a view previews and how the slice's array lands on the screen. */
export interface PreviewPlane {
  view: ViewName;
  /** The voxel axis held fixed (the one most along the view's normal) and its index there. */
  axis: 0 | 1 | 2;
  index: number;
  /** Slices along `axis` (the view's "index + 1 / count" label). */
  count: number;
  markers: OrientationMarkers;
  /** Array layout of the slice (cases.sliceData): `width` values per row, the lower remaining axis fastest. */
  width: number;
  height: number;
  /** True when the array's rows run down the screen's columns (the slice is shown transposed). */
  transpose: boolean;
  /** Mirror across (left-right) and down (top-bottom) after transposing. */
  flipX: boolean;
  flipY: boolean;
  /** Pixels across and down at voxel resolution, and the millimetres they span. */
  cols: number;
  rows: number;
  widthMm: number;
  heightMm: number;
}

function axisVector(h: Pick<VolumeHeader, 'direction'>, a: number): Vec3 {
  return [h.direction[a * 3], h.direction[a * 3 + 1], h.direction[a * 3 + 2]];
}

const dot3 = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** The voxel the views open at: the remembered place of the case, else the centre voxel (as MprViewer.reset). */
export function openingVoxel(h: Pick<VolumeHeader, 'dims'>, place?: Vec3 | null): Vec3 {
  if (place && place.every((x, a) => Number.isInteger(x) && x >= 0 && x < h.dims[a])) return place;
  return [Math.floor((h.dims[0] - 1) / 2), Math.floor((h.dims[1] - 1) / 2), Math.floor((h.dims[2] - 1) / 2)];
}

/** The preview of one view through voxel `at`. */
export function previewPlane(h: VolumeHeader, view: ViewName, at: Vec3): PreviewPlane {
  const { viewPlaneNormal, viewUp } = VIEW_CAMERAS[view];
  const info = sliceInfo(h, ijkToWorld(h, at), viewPlaneNormal);
  const [a, b] = ([0, 1, 2] as const).filter((x) => x !== info.axis) as [0 | 1 | 2, 0 | 1 | 2];
  const right = cross(viewUp, viewPlaneNormal);
  const down: Vec3 = [-viewUp[0], -viewUp[1], -viewUp[2]];
  const da = axisVector(h, a);
  const db = axisVector(h, b);
  // The in-plane axis closer to screen-right goes across; the other goes down.
  const transpose = Math.abs(dot3(db, right)) > Math.abs(dot3(da, right));
  const across = transpose ? b : a;
  const downAxis = transpose ? a : b;
  return {
    view,
    axis: info.axis,
    index: info.index,
    count: info.count,
    markers: orientationMarkers(viewUp, viewPlaneNormal),
    width: h.dims[a],
    height: h.dims[b],
    transpose,
    flipX: dot3(axisVector(h, across), right) < 0,
    flipY: dot3(axisVector(h, downAxis), down) < 0,
    cols: h.dims[across],
    rows: h.dims[downAxis],
    widthMm: h.dims[across] * h.spacingMm[across],
    heightMm: h.dims[downAxis] * h.spacingMm[downAxis],
  };
}

/** The previews of all three views through voxel `at`. */
export function previewPlanes(h: VolumeHeader, at: Vec3): Record<ViewName, PreviewPlane> {
  const out = {} as Record<ViewName, PreviewPlane>;
  for (const view of VIEW_NAMES) out[view] = previewPlane(h, view, at);
  return out;
}

/**
 * Grey RGBA pixels of a slice as the view shows it (cols × rows, row by row), with the viewer's
 * linear window/level: values at or below the window's lower end are black, at or above white.
 */
export function previewPixels(
  slice: ArrayLike<number>,
  p: PreviewPlane,
  wl: WindowLevel,
): Uint8ClampedArray<ArrayBuffer> {
  const { lower, upper } = toVoiRange(wl);
  const scale = 255 / Math.max(1e-6, upper - lower);
  const out = new Uint8ClampedArray(new ArrayBuffer(p.cols * p.rows * 4));
  let o = 0;
  for (let y = 0; y < p.rows; y++) {
    const yy = p.flipY ? p.rows - 1 - y : y;
    for (let x = 0; x < p.cols; x++) {
      const xx = p.flipX ? p.cols - 1 - x : x;
      const n = p.transpose ? xx * p.width + yy : yy * p.width + xx;
      const g = (slice[n] - lower) * scale;
      out[o] = out[o + 1] = out[o + 2] = g;
      out[o + 3] = 255;
      o += 4;
    }
  }
  return out;
}

/**
 * Where the slice goes in a canvas of `width` × `height`: fitted whole and centred, as Cornerstone's
 * camera reset fits a volume (the scale of the tighter side; physical aspect kept).
 */
export function fitRect(
  width: number,
  height: number,
  p: Pick<PreviewPlane, 'widthMm' | 'heightMm'>,
): { x: number; y: number; w: number; h: number } {
  const scale = Math.min(width / p.widthMm, height / p.heightMm);
  const w = p.widthMm * scale;
  const h = p.heightMm * scale;
  return { x: (width - w) / 2, y: (height - h) / 2, w, h };
}
