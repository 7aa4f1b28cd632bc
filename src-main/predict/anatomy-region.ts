// Where an organ can be, found from the image alone on the model's grid (canonical RAS: +x right,
// +y anterior, +z superior; HU values), so a pancreas model never labels the pelvis, the chest or a
// loop of bowel far from the spine, and a kidney model never the chest or an arm. Landmarks, per axial slice:
//   - the body (the trunk): the largest region not reached from the slice edge through air (holes filled);
//     arms lying beside the body are pieces of their own, and no abdominal organ lies in them;
//   - the spine: bone (> 180 HU) in a strip 30 mm either side of the body's centre line, in the body's
//     posterior 60%; its median point, median-smoothed along z;
//   - the pelvis: iliac wings, large bone plates lateral to the spine on both sides, in slices that
//     (80% of them) run up from the scan's lowest slice;
//   - the thorax: lungs (-960..-500 HU, above the air outside and in the bowel) a fifth of the body and
//     lungs together, in slices that (80% of them) run down from the scan's top slice. Lung is counted only
//     within the body's extent along both the voxel's row and its column (enclosedByBody), so air outside the
//     patient that reads above -960 HU (a scanner's air offset, noise, foam pads, blankets) is never lung.
// The pancreas: slices above the pelvis and below the thorax, inside a box around the spine of the slice.
// The kidneys: slices below the thorax (with a margin for the upper poles beside the lung bases), at most
// 160 mm either side of the spine. Both: inside the trunk.
// The box follows published anatomy with wide margins: the head lies right of the midline (up to ~50 mm),
// the tail reaches the splenic hilum (up to ~120 mm left), the body crosses 40-100 mm anterior to the
// vertebral body's centre; on the shared real CT the TotalSegmentator pancreas spans 81 mm left to 30 mm
// right and 48-100 mm anterior of the spine point found here.
import type { Vec3 } from '../imaging/volume';

export interface PancreasRegionOptions {
  /** Box around the spine point, mm: left and right of it, and from..to anterior of it. */
  leftMm?: number;
  rightMm?: number;
  anteriorMm?: [number, number];
}

export interface OrganRegion {
  /** 1 where the organ may be, on the [D, H, W] grid given. */
  mask: Uint8Array;
  /** Highest slice (z index) of the pelvis run from the bottom; -1: no pelvis in the scan. */
  pelvisTop: number;
  /** Lowest slice of the thorax run from the top; D: no thorax in the scan. */
  thoraxBottom: number;
  /** Slices where a spine point was found. */
  spineSlices: number;
  /** Share of the grid allowed. */
  allowedShare: number;
}

export const PANCREAS_REGION_DEFAULTS: Required<PancreasRegionOptions> = {
  leftMm: 150,
  rightMm: 80,
  anteriorMm: [15, 150],
};

const BODY_HU = -300;
/** Lung parenchyma: above the air outside the body and in the bowel (about -1000 HU), below -500. */
const LUNG_HU: [number, number] = [-960, -500];
const BONE_HU = 180;
/** Lateral bone per side (cm²) and its largest piece (cm²) that make a slice pelvic (ribs stay below). */
const PELVIS_SIDE_CM2 = 5;
const PELVIS_PIECE_CM2 = 3;
/**
 * Lung share of a thoracic slice. It was a quarter while air outside the body counted as lung too: 3-7 % of each
 * slice of the phantoms and 14 % of the shared real CT's were such air, and on the phantoms' lung bases (a fifth
 * to a quarter lung) the verdict hung on it. With lung counted inside the body only, a fifth finds the thorax of
 * the held-out kidney phantoms again, and the real chest CT angiogram's lowest thoracic slice moves 6 mm down.
 */
const LUNG_SHARE = 0.2;
/** A pelvis or thorax run shorter than this is not trusted. */
const MIN_RUN_MM = 15;

/**
 * Labels 4-connected components of `on` in a W×H plane; returns per-pixel labels (0 = off) and sizes.
 * `seedsFromEdge`: label only what connects to the plane's edge (one component, label 1).
 */
function planeComponents(
  on: Uint8Array,
  w: number,
  h: number,
  seedsFromEdge = false,
): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(w * h);
  const sizes = [0];
  // Each pixel enters the stack at most once (it is labelled when pushed), so w*h slots suffice.
  const stack = new Int32Array(w * h);
  const flood = (start: number, id: number): number => {
    labels[start] = id;
    stack[0] = start;
    let top = 1;
    let n = 0;
    while (top > 0) {
      const p = stack[--top];
      n++;
      const x = p % w;
      if (x > 0 && on[p - 1] && !labels[p - 1]) {
        labels[p - 1] = id;
        stack[top++] = p - 1;
      }
      if (x < w - 1 && on[p + 1] && !labels[p + 1]) {
        labels[p + 1] = id;
        stack[top++] = p + 1;
      }
      if (p >= w && on[p - w] && !labels[p - w]) {
        labels[p - w] = id;
        stack[top++] = p - w;
      }
      if (p + w < w * h && on[p + w] && !labels[p + w]) {
        labels[p + w] = id;
        stack[top++] = p + w;
      }
    }
    return n;
  };
  if (seedsFromEdge) {
    sizes.push(0);
    for (let p = 0; p < w * h; p++) {
      const x = p % w;
      const y = (p - x) / w;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1;
      if (edge && on[p] && !labels[p]) sizes[1] += flood(p, 1);
    }
    return { labels, sizes };
  }
  for (let p = 0; p < w * h; p++) if (on[p] && !labels[p]) sizes.push(flood(p, sizes.length));
  return { labels, sizes };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface SliceLandmarks {
  spine: [number, number] | null;
  pelvic: boolean;
  thoracic: boolean;
}

/** An arm's core survives this much erosion; the kidneys and the pancreas lie deeper in the trunk than this. */
const TRUNK_CORE_MM = 12;
/** The smallest eroded core taken for an arm (an 80 mm arm eroded by 12 mm each side keeps about 25 cm²). */
const ARM_CORE_CM2 = 10;

/**
 * Marks the trunk of one slice's body mask `inside` (W×H) in `trunk` from `off`. Arms lying against the flanks
 * touch the body along a bridge that a threshold cannot cut, so: erode the body by TRUNK_CORE_MM (4-neighbour
 * steps), take each remaining piece as a core, give every body voxel to the core it reaches first (city-block
 * steps inside the body), and keep the voxels of the largest core. An arm is its own core and keeps its voxels.
 * Without any core (a body thinner than the erosion) the largest body piece is the trunk.
 */
function markTrunk(
  inside: Uint8Array,
  nw: number,
  nh: number,
  spacingMm: number,
  trunk: Uint8Array,
  off: number,
): void {
  const plane = nw * nh;
  let core = inside;
  for (let k = 0; k < Math.round(TRUNK_CORE_MM / spacingMm); k++) {
    const next = new Uint8Array(plane);
    for (let y = 1; y < nh - 1; y++)
      for (let x = 1; x < nw - 1; x++) {
        const p = y * nw + x;
        next[p] = core[p] & core[p - 1] & core[p + 1] & core[p - nw] & core[p + nw];
      }
    core = next;
  }
  let parts = planeComponents(core, nw, nh);
  if (parts.sizes.length <= 1) parts = planeComponents(inside, nw, nh);
  let best = 0;
  for (let c = 1; c < parts.sizes.length; c++) if (parts.sizes[c] > (parts.sizes[best] ?? 0)) best = c;
  if (best === 0) return;
  // Only cores the size of an arm's compete with the trunk's; smaller ones (a fold, a rim between lung and wall)
  // are the trunk's.
  const minCore = ARM_CORE_CM2 / ((spacingMm * spacingMm) / 100);
  const owner = new Int32Array(plane);
  for (let p = 0; p < plane; p++) {
    const c = parts.labels[p];
    owner[p] = c && parts.sizes[c] < minCore ? best : c;
  }
  const queue = new Int32Array(plane);
  let head = 0;
  let tail = 0;
  for (let p = 0; p < plane; p++) if (owner[p]) queue[tail++] = p;
  const claim = (q: number, by: number): void => {
    if (!inside[q] || owner[q]) return;
    owner[q] = by;
    queue[tail++] = q;
  };
  while (head < tail) {
    const p = queue[head++];
    const x = p % nw;
    if (x > 0) claim(p - 1, owner[p]);
    if (x < nw - 1) claim(p + 1, owner[p]);
    if (p >= nw) claim(p - nw, owner[p]);
    if (p + nw < plane) claim(p + nw, owner[p]);
  }
  for (let p = 0; p < plane; p++) if (owner[p] === best) trunk[off + p] = 1;
}

/**
 * Whether pixel p of a W×H plane lies between body pixels (`inside`: every piece, holes filled) both along its row
 * and along its column, where a side of the plane that body pixels touch counts as body (a field of view that cuts
 * the patient, as a CT angiogram's tight crop cuts the chest wall off and leaves the lungs open to its edge). Lungs
 * do; air around the patient, a pad under the back or a blanket over the belly do not. Measured on the shared real
 * CT: 14 % of each slice's lung-range voxels (-960..-500 HU) were air outside the body; with that air at -930 HU (a
 * scanner whose air reads high) every slice read as thorax and the kidney and pancreas regions all but vanished.
 */
function enclosedByBody(inside: Uint8Array, nw: number, nh: number): (p: number) => boolean {
  const rowLo = new Int32Array(nh).fill(nw);
  const rowHi = new Int32Array(nh).fill(-1);
  const colLo = new Int32Array(nw).fill(nh);
  const colHi = new Int32Array(nw).fill(-1);
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++) {
      if (!inside[y * nw + x]) continue;
      if (x < rowLo[y]) rowLo[y] = x;
      if (x > rowHi[y]) rowHi[y] = x;
      if (y < colLo[x]) colLo[x] = y;
      if (y > colHi[x]) colHi[x] = y;
    }
  // Sides the body touches: the field of view cuts it there, and every row or column is bounded on that side.
  const left = rowLo.includes(0);
  const right = rowHi.includes(nw - 1);
  const top = colLo.includes(0);
  const bottom = colHi.includes(nh - 1);
  return (p) => {
    const x = p % nw;
    const y = (p - x) / nw;
    return (left || x >= rowLo[y]) && (right || x <= rowHi[y]) && (top || y >= colLo[x]) && (bottom || y <= colHi[x]);
  };
}

/** Landmarks of slice z; marks the slice's trunk voxels in `trunk` (nothing when the slice has no body). */
function sliceLandmarks(
  hu: Float32Array,
  z: number,
  nh: number,
  nw: number,
  sy: number,
  sx: number,
  trunk: Uint8Array,
): SliceLandmarks {
  const plane = nh * nw;
  const off = z * plane;
  // Outside = reached from the edge through non-body voxels; the body is the largest piece of the rest.
  const notBody = new Uint8Array(plane);
  for (let p = 0; p < plane; p++) notBody[p] = hu[off + p] <= BODY_HU ? 1 : 0;
  const outside = planeComponents(notBody, nw, nh, true).labels;
  const inside = new Uint8Array(plane);
  for (let p = 0; p < plane; p++) inside[p] = outside[p] ? 0 : 1;
  const parts = planeComponents(inside, nw, nh);
  let best = 0;
  for (let c = 1; c < parts.sizes.length; c++) if (parts.sizes[c] > (parts.sizes[best] ?? 0)) best = c;
  const none = { spine: null, pelvic: false, thoracic: false };
  if (best === 0 || parts.sizes[best] * sx * sy < 2500) return none; // under 25 cm²: no body in this slice
  markTrunk(inside, nw, nh, Math.min(sx, sy), trunk, off);
  let sumX = 0;
  let y0 = nh;
  let y1 = -1;
  let area = 0;
  let lung = 0;
  const enclosed = enclosedByBody(inside, nw, nh);
  for (let p = 0; p < plane; p++) {
    const v = hu[off + p];
    // Not only in the body piece: a field of view that cuts the chest leaves lungs open to its edge.
    if (v > LUNG_HU[0] && v < LUNG_HU[1] && enclosed(p)) lung++;
    if (parts.labels[p] !== best) continue;
    const x = p % nw;
    const y = (p - x) / nw;
    sumX += x;
    area++;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  const xc = sumX / area;
  const yMaxSpine = y0 + 0.6 * (y1 - y0);
  const xs: number[] = [];
  const ys: number[] = [];
  const left = new Uint8Array(plane);
  const right = new Uint8Array(plane);
  let leftN = 0;
  let rightN = 0;
  for (let p = 0; p < plane; p++) {
    if (parts.labels[p] !== best || hu[off + p] <= BONE_HU) continue;
    const x = p % nw;
    const y = (p - x) / nw;
    const dxMm = (x - xc) * sx; // + toward the patient's right
    if (Math.abs(dxMm) <= 30 && y <= yMaxSpine) {
      xs.push(x);
      ys.push(y);
    } else if (dxMm > 60) {
      right[p] = 1;
      rightN++;
    } else if (dxMm < -60) {
      left[p] = 1;
      leftN++;
    }
  }
  const cm2 = (sx * sy) / 100;
  const spine: [number, number] | null = xs.length * cm2 >= 1 ? [median(xs), median(ys)] : null;
  const largest = (m: Uint8Array) => Math.max(0, ...planeComponents(m, nw, nh).sizes.slice(1)) * cm2;
  const pelvic =
    leftN * cm2 >= PELVIS_SIDE_CM2 &&
    rightN * cm2 >= PELVIS_SIDE_CM2 &&
    largest(left) >= PELVIS_PIECE_CM2 &&
    largest(right) >= PELVIS_PIECE_CM2;
  return { spine, pelvic, thoracic: lung / (lung + area) >= LUNG_SHARE };
}

/** The landmarks of a [D, H, W] HU grid: pelvis top and thorax bottom slices, and a smoothed spine point per slice. */
export interface Landmarks {
  pelvisTop: number;
  thoraxBottom: number;
  /** Median-smoothed spine point [x, y] per slice; null where none was found within 30 mm. */
  spine: ([number, number] | null)[];
  spineSlices: number;
  /** 1 on each slice's trunk (its largest body piece, holes filled); [D, H, W]. */
  trunk: Uint8Array;
  /** Slices with a trunk. */
  trunkSlices: number;
}

export function findLandmarks(hu: Float32Array, dims: Vec3, spacingDhwMm: Vec3): Landmarks {
  const [nd, nh, nw] = dims;
  const [sz, sy, sx] = spacingDhwMm;
  if (hu.length !== nd * nh * nw) throw new Error(`anatomy region: ${hu.length} values for a ${dims.join('×')} grid`);
  const trunk = new Uint8Array(nd * nh * nw);
  const marks = Array.from({ length: nd }, (_, z) => sliceLandmarks(hu, z, nh, nw, sy, sx, trunk));
  let trunkSlices = 0;
  for (let z = 0; z < nd; z++) if (trunk.subarray(z * nh * nw, (z + 1) * nh * nw).includes(1)) trunkSlices++;
  const minRun = Math.ceil(MIN_RUN_MM / sz);
  // The pelvis: the highest pelvic slice with 80% of the slices from the bottom to it pelvic; the thorax alike
  // from the top (single slices that miss a threshold do not end either run).
  let pelvisTop = -1;
  for (let z = 0, n = 0; z < nd; z++) {
    if (marks[z].pelvic) n++;
    if (marks[z].pelvic && z + 1 >= minRun && n >= 0.8 * (z + 1)) pelvisTop = z;
  }
  let thoraxBottom = nd;
  for (let z = nd - 1, n = 0; z >= 0; z--) {
    if (marks[z].thoracic) n++;
    if (marks[z].thoracic && nd - z >= minRun && n >= 0.8 * (nd - z)) thoraxBottom = z;
  }

  // Spine points median-smoothed over ±3 slices; a slice without one borrows the nearest within 30 mm.
  const found = marks.map((m) => m.spine);
  const spineSlices = found.filter((s) => s !== null).length;
  const reach = Math.round(30 / sz);
  const spine: ([number, number] | null)[] = found.map((_, z) => {
    const near: [number, number][] = [];
    for (let d = 0; d <= reach && near.length === 0; d++) {
      for (const zz of d === 0 ? [z] : [z - d, z + d]) {
        if (zz < 0 || zz >= nd) continue;
        for (let k = zz - 3; k <= zz + 3; k++) {
          const s = k >= 0 && k < nd ? found[k] : null;
          if (s) near.push(s);
        }
      }
    }
    return near.length ? [median(near.map((s) => s[0])), median(near.map((s) => s[1]))] : null;
  });
  return { pelvisTop, thoraxBottom, spine, spineSlices, trunk, trunkSlices };
}

/**
 * The pancreatic region of a [D, H, W] HU grid in canonical RAS with `spacingDhwMm`; null when no spine is
 * found in any slice (then there is no landmark to place the region by, and nothing is restricted).
 */
export function pancreasRegion(
  hu: Float32Array,
  dims: Vec3,
  spacingDhwMm: Vec3,
  opts: PancreasRegionOptions = {},
  landmarks: Landmarks = findLandmarks(hu, dims, spacingDhwMm),
): OrganRegion | null {
  const [nd, nh, nw] = dims;
  const [, sy, sx] = spacingDhwMm;
  const o = { ...PANCREAS_REGION_DEFAULTS, ...opts };
  const { pelvisTop, thoraxBottom, spine, spineSlices } = landmarks;
  if (spineSlices === 0) return null;

  const mask = new Uint8Array(nd * nh * nw);
  let allowed = 0;
  for (let z = pelvisTop + 1; z < thoraxBottom; z++) {
    const s = spine[z];
    if (!s) continue;
    // +x is the patient's right: the box reaches rightMm toward +x and leftMm toward -x.
    const x0 = Math.max(0, Math.ceil(s[0] - o.leftMm / sx));
    const x1 = Math.min(nw - 1, Math.floor(s[0] + o.rightMm / sx));
    const y0 = Math.max(0, Math.ceil(s[1] + o.anteriorMm[0] / sy));
    const y1 = Math.min(nh - 1, Math.floor(s[1] + o.anteriorMm[1] / sy));
    for (let y = y0; y <= y1; y++) {
      const row = (z * nh + y) * nw;
      for (let x = x0; x <= x1; x++) {
        mask[row + x] = landmarks.trunk[row + x];
        allowed += landmarks.trunk[row + x];
      }
    }
  }
  return { mask, pelvisTop, thoraxBottom, spineSlices, allowedShare: allowed / mask.length };
}

/** How far above the thorax's lowest slice a kidney's upper pole may still reach (lung bases lie beside it). */
export const KIDNEY_ABOVE_THORAX_MM = 30;

/**
 * How far from the spine's centre line a kidney may reach sideways: adult kidneys lie within about 120 mm of the
 * midline (the lateral border of a large kidney); past this lie the flank wall and, in a scan with the arms down,
 * the arms, which can touch the flank along a bridge the trunk cannot be cut at.
 */
export const KIDNEY_LATERAL_MM = 160;

/**
 * The kidneys' region: the trunk (no arm), within KIDNEY_LATERAL_MM of the spine in slices where one is found, in
 * every slice below the thorax (lungs a fifth of the slice, a run from the top) plus KIDNEY_ABOVE_THORAX_MM, or
 * in every slice when the scan has no thorax. No pelvis limit (transplanted and pelvic kidneys lie there). Null
 * when no slice has a body (nothing to place it by).
 */
export function kidneyRegion(
  hu: Float32Array,
  dims: Vec3,
  spacingDhwMm: Vec3,
  landmarks: Landmarks = findLandmarks(hu, dims, spacingDhwMm),
): OrganRegion | null {
  const [nd, nh, nw] = dims;
  if (landmarks.trunkSlices === 0) return null;
  const top =
    landmarks.thoraxBottom >= nd
      ? nd
      : Math.min(nd, landmarks.thoraxBottom + Math.ceil(KIDNEY_ABOVE_THORAX_MM / spacingDhwMm[0]));
  const mask = new Uint8Array(nd * nh * nw);
  const reach = KIDNEY_LATERAL_MM / spacingDhwMm[2];
  let allowed = 0;
  for (let z = 0; z < top; z++) {
    const s = landmarks.spine[z];
    const x0 = s ? Math.max(0, Math.ceil(s[0] - reach)) : 0;
    const x1 = s ? Math.min(nw - 1, Math.floor(s[0] + reach)) : nw - 1;
    for (let y = 0; y < nh; y++) {
      const row = (z * nh + y) * nw;
      for (let x = x0; x <= x1; x++) {
        mask[row + x] = landmarks.trunk[row + x];
        allowed += mask[row + x];
      }
    }
  }
  return {
    mask,
    pelvisTop: landmarks.pelvisTop,
    thoraxBottom: landmarks.thoraxBottom,
    spineSlices: landmarks.spineSlices,
    allowedShare: allowed / mask.length,
  };
}
