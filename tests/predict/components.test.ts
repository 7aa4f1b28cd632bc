// Connected components (run-based union-find) against a brute-force voxel flood fill, and the
// post-processing rules on hand-built label maps.
import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../../src-main/imaging/volume';
import { componentIdMap, connectedComponents } from '../../src-main/predict/components';
import {
  KIDNEY_MIN_ML,
  LESION_MARGIN_MM,
  MAX_ORGAN_MEDIAN_HU,
  PANCREAS_MIN_ML,
  postprocessLabel,
  relabelInvisibleLesions,
  rulesForSchema,
} from '../../src-main/predict/postprocess';
import { rng } from './helpers';

/** Brute-force flood fill over member voxels (any member class connects to any other). */
function floodFill(label: Uint8Array, dims: Vec3, member: Uint8Array, conn: 6 | 26): Int32Array {
  const [ni, nj, nk] = dims;
  const ids = new Int32Array(label.length).fill(-1);
  const offsets: number[][] = [];
  for (let dz = -1; dz <= 1; dz++)
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const m = Math.abs(dx) + Math.abs(dy) + Math.abs(dz);
        if (m === 0 || (conn === 6 && m > 1)) continue;
        offsets.push([dx, dy, dz]);
      }
  let next = 0;
  for (let s = 0; s < label.length; s++) {
    if (!member[label[s]] || ids[s] >= 0) continue;
    const stack = [s];
    ids[s] = next;
    while (stack.length) {
      const v = stack.pop()!;
      const i = v % ni;
      const j = Math.floor(v / ni) % nj;
      const k = Math.floor(v / (ni * nj));
      for (const [dx, dy, dz] of offsets) {
        const x = i + dx,
          y = j + dy,
          z = k + dz;
        if (x < 0 || y < 0 || z < 0 || x >= ni || y >= nj || z >= nk) continue;
        const w = x + ni * (y + nj * z);
        if (member[label[w]] && ids[w] < 0) {
          ids[w] = next;
          stack.push(w);
        }
      }
    }
    next++;
  }
  return ids;
}

/** Same partition: a bijection between the two id sets. */
function samePartition(a: Int32Array, b: Int32Array): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let n = 0; n < a.length; n++) {
    if (a[n] < 0 !== b[n] < 0) return false;
    if (a[n] < 0) continue;
    if ((ab.get(a[n]) ?? b[n]) !== b[n] || (ba.get(b[n]) ?? a[n]) !== a[n]) return false;
    ab.set(a[n], b[n]);
    ba.set(b[n], a[n]);
  }
  return true;
}

describe('connected components', () => {
  it.each([6, 26] as const)('match a brute-force flood fill (%i-connectivity, random labels)', (conn) => {
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed);
      const dims: Vec3 = [7 + (seed % 5), 6 + (seed % 3), 5 + (seed % 4)];
      const density = 0.15 + 0.05 * (seed % 5);
      const label = new Uint8Array(dims[0] * dims[1] * dims[2]).map(() =>
        r() < density ? 1 + Math.floor(r() * 3) : 0,
      );
      const member = new Uint8Array(256);
      member.fill(1, 1);
      if (seed % 2 === 0) member[3] = 0; // a non-member class splits components
      const cc = connectedComponents(label, dims, member, conn);
      const ref = floodFill(label, dims, member, conn);
      expect(samePartition(componentIdMap(cc), ref)).toBe(true);
      expect(cc.count).toBe(Math.max(-1, ...ref) + 1);
      // Per-class voxel counts add up per component.
      const ids = componentIdMap(cc);
      for (let c = 0; c < cc.count; c++) {
        let total = 0;
        for (let v = 1; v < cc.classStride; v++) total += cc.classVoxels[c * cc.classStride + v];
        expect(total).toBe(cc.voxels[c]);
        expect(ids.filter((x) => x === c).length).toBe(cc.voxels[c]);
      }
    }
  });

  it('distinguishes 6- from 26-connectivity on a diagonal contact', () => {
    const dims: Vec3 = [3, 3, 3];
    const label = new Uint8Array(27);
    label[0] = 1;
    label[1 + 3 + 9] = 1; // corner-to-corner
    const member = new Uint8Array(256).fill(1, 1);
    expect(connectedComponents(label, dims, member, 6).count).toBe(2);
    expect(connectedComponents(label, dims, member, 26).count).toBe(1);
  });
});

/**
 * The built-in rules without minOrganMl: these scenes' bodies are a few mL at most, far under any organ it keeps
 * (that rule has its own test below).
 */
const schemaRules = (schema: 'kidney' | 'pancreas') => ({ ...rulesForSchema(schema), minOrganMl: 0 });

function box(label: Uint8Array, dims: Vec3, lo: Vec3, hi: Vec3, value: number): void {
  for (let k = lo[2]; k < hi[2]; k++)
    for (let j = lo[1]; j < hi[1]; j++)
      for (let i = lo[0]; i < hi[0]; i++) label[i + dims[0] * (j + dims[1] * k)] = value;
}

describe('post-processing rules', () => {
  const dims: Vec3 = [40, 20, 12];
  const spacing: Vec3 = [1, 1, 2]; // 2 mm³ voxels

  function kidneyScene() {
    const label = new Uint8Array(dims[0] * dims[1] * dims[2]);
    box(label, dims, [2, 2, 2], [10, 10, 10], 1); // kidney A: 512 voxels
    box(label, dims, [4, 4, 4], [7, 7, 7], 2); // tumour inside A
    box(label, dims, [14, 2, 2], [21, 9, 9], 1); // kidney B: 343 voxels
    box(label, dims, [21, 4, 4], [24, 7, 7], 3); // cyst touching B from outside
    box(label, dims, [26, 2, 2], [32, 8, 8], 1); // third "kidney": 216 voxels, dropped
    box(label, dims, [34, 12, 2], [38, 16, 6], 2); // tumour far from any kidney: 64 voxels
    box(label, dims, [36, 2, 9], [38, 3, 10], 1); // island: 2 voxels = 4 mm³
    return label;
  }

  it('keeps two kidneys with their lesions and drops the rest (kidney schema)', () => {
    const label = kidneyScene();
    const expected = new Uint8Array(label.length);
    box(expected, dims, [2, 2, 2], [10, 10, 10], 1);
    box(expected, dims, [4, 4, 4], [7, 7, 7], 2);
    box(expected, dims, [14, 2, 2], [21, 9, 9], 1);
    box(expected, dims, [21, 4, 4], [24, 7, 7], 3);
    const stats = postprocessLabel(label, dims, spacing, schemaRules('kidney'));
    expect(stats.components).toBe(5);
    expect(stats.removedComponents).toBe(3);
    expect(Array.from(label)).toEqual(Array.from(expected));
  });

  it('applies each rule on its own when the others are off', () => {
    const base = {
      ...schemaRules('kidney'),
      minIslandMm3: 0,
      maxOrganComponents: 0,
      lesionsMustTouchOrgan: false,
      maxLesionShare: 0,
    };
    const untouched = kidneyScene();
    postprocessLabel(untouched, dims, spacing, base);
    expect(Array.from(untouched)).toEqual(Array.from(kidneyScene()));

    const islands = kidneyScene();
    postprocessLabel(islands, dims, spacing, { ...base, minIslandMm3: 10 }); // removes only the 4 mm³ island
    const noIsland = kidneyScene();
    box(noIsland, dims, [36, 2, 9], [38, 3, 10], 0);
    expect(Array.from(islands)).toEqual(Array.from(noIsland));

    const lesions = kidneyScene();
    postprocessLabel(lesions, dims, spacing, { ...base, lesionsMustTouchOrgan: true });
    const noFarTumour = kidneyScene();
    box(noFarTumour, dims, [34, 12, 2], [38, 16, 6], 0);
    expect(Array.from(lesions)).toEqual(Array.from(noFarTumour));
  });

  it('reads a body that is mostly lesion as organ; a body with a minority lesion keeps it', () => {
    const label = new Uint8Array(dims[0] * dims[1] * dims[2]);
    // Body A: 3 organ voxels beside 54 tumour voxels (a kidney at an unfamiliar contrast called tumour).
    box(label, dims, [2, 2, 2], [5, 5, 8], 2);
    box(label, dims, [5, 2, 2], [6, 3, 5], 1);
    // Body B: 82 organ voxels around an 8-voxel cyst.
    box(label, dims, [20, 2, 2], [26, 5, 7], 1);
    box(label, dims, [21, 3, 3], [23, 5, 5], 3);
    const rules = { ...schemaRules('kidney'), minIslandMm3: 0 };
    const stats = postprocessLabel(label, dims, spacing, rules);
    const expected = new Uint8Array(label.length);
    box(expected, dims, [2, 2, 2], [5, 5, 8], 1);
    box(expected, dims, [5, 2, 2], [6, 3, 5], 1);
    box(expected, dims, [20, 2, 2], [26, 5, 7], 1);
    box(expected, dims, [21, 3, 3], [23, 5, 5], 3);
    expect(Array.from(label)).toEqual(Array.from(expected));
    expect(stats.relabelledVoxels).toBe(54);
    // Off: the tumour stays.
    const off = new Uint8Array(label.length);
    box(off, dims, [2, 2, 2], [5, 5, 8], 2);
    box(off, dims, [5, 2, 2], [6, 3, 5], 1);
    postprocessLabel(off, dims, spacing, { ...rules, maxLesionShare: 0 });
    expect(off.filter((v) => v === 2).length).toBe(54);
  });

  it('keeps the largest pancreas body, and a second piece only as large and across the same slices', () => {
    // dims 40 × 20 × 12, k the axial (foot-to-head) axis unless said otherwise.
    const scene = (second: { lo: Vec3; hi: Vec3 }) => {
      const label = new Uint8Array(dims[0] * dims[1] * dims[2]);
      box(label, dims, [2, 2, 2], [12, 8, 8], 1); // head: 360 voxels with its tumour
      box(label, dims, [5, 4, 4], [8, 6, 6], 2);
      box(label, dims, second.lo, second.hi, 1);
      return label;
    };
    const largestOnly = scene({ lo: [0, 0, 0], hi: [0, 0, 0] });
    const run = (label: Uint8Array, rules = schemaRules('pancreas'), superiorAxis: 0 | 1 | 2 = 2) => {
      postprocessLabel(label, dims, spacing, rules, undefined, superiorAxis);
      return Array.from(label);
    };
    // Body and tail beside the head, across slices 3..8: 6 × 6 × 6 = 216 voxels, 60 % of the head. Kept.
    const pieces = scene({ lo: [20, 2, 3], hi: [26, 8, 9] });
    expect(run(pieces.slice())).toEqual(Array.from(pieces));
    // The same piece with the rule off (or a kidney model's rules), or under half the head's size: dropped.
    expect(run(pieces.slice(), { ...schemaRules('pancreas'), pieceShare: 0 })).toEqual(Array.from(largestOnly));
    const small = scene({ lo: [20, 2, 3], hi: [25, 8, 8] }); // 5 × 6 × 5 = 150 voxels, 42 %
    expect(run(small)).toEqual(Array.from(largestOnly));
    // As large but below the head (slices 9..11 against 2..7): a bowel loop, not the gland's other half. Dropped.
    const below = scene({ lo: [14, 2, 9], hi: [26, 8, 12] }); // 12 × 6 × 3 = 216 voxels
    expect(run(below)).toEqual(Array.from(largestOnly));
    // Slices are along the axis the scan runs foot to head: with j that axis, the piece below shares the head's
    // rows 2..7, so it is kept; and the piece beside it shares none of rows 10..19 when moved there.
    expect(run(below.slice(), schemaRules('pancreas'), 1)).toEqual(Array.from(below));
    const apart = scene({ lo: [20, 10, 3], hi: [26, 16, 9] });
    expect(run(apart, schemaRules('pancreas'), 1)).toEqual(Array.from(largestOnly));
  });
});

describe('organs far smaller than any adult one (minOrganMl)', () => {
  const dims: Vec3 = [40, 20, 12];
  const spacing: Vec3 = [3, 3, 3]; // 27 mm³ voxels: 10 mL is 370 voxels, 5 mL 185

  it('removes a kidney under KIDNEY_MIN_ML inside the scan, keeps one the scan cuts, and keeps real sizes', () => {
    const scene = (small: { lo: Vec3; hi: Vec3 }) => {
      const label = new Uint8Array(dims[0] * dims[1] * dims[2]);
      box(label, dims, [2, 2, 2], [10, 10, 10], 1); // 512 voxels, 13.8 mL
      box(label, dims, [4, 4, 4], [6, 6, 6], 2); // its tumour
      box(label, dims, small.lo, small.hi, 1); // 125 voxels, 3.4 mL
      return label;
    };
    expect(KIDNEY_MIN_ML).toBe(10);
    const inside = scene({ lo: [20, 2, 2], hi: [25, 7, 7] });
    const stats = postprocessLabel(inside, dims, spacing, rulesForSchema('kidney'));
    expect(stats.smallOrganBodies).toBe(1);
    expect(Array.from(inside)).toEqual(Array.from(scene({ lo: [0, 0, 0], hi: [0, 0, 0] })));
    // Touching any face of the grid (the first slice, the last column): cut by the field of view, kept.
    for (const cut of [
      { lo: [20, 2, 0], hi: [25, 7, 5] },
      { lo: [35, 2, 2], hi: [40, 7, 7] },
    ] as { lo: Vec3; hi: Vec3 }[]) {
      const label = scene(cut);
      expect(postprocessLabel(label, dims, spacing, rulesForSchema('kidney')).smallOrganBodies).toBe(0);
      expect(Array.from(label)).toEqual(Array.from(scene(cut)));
    }
    // Off: kept.
    const off = scene({ lo: [20, 2, 2], hi: [25, 7, 7] });
    postprocessLabel(off, dims, spacing, { ...rulesForSchema('kidney'), minOrganMl: 0 });
    expect(Array.from(off)).toEqual(Array.from(scene({ lo: [20, 2, 2], hi: [25, 7, 7] })));
  });

  it("judges a pancreas's pieces together: two 4 mL pieces stay, either alone goes", () => {
    expect(PANCREAS_MIN_ML).toBe(5);
    const head = (label: Uint8Array) => box(label, dims, [2, 2, 2], [8, 7, 7], 1); // 150 voxels, 4.05 mL
    const tail = (label: Uint8Array) => box(label, dims, [12, 2, 2], [18, 7, 7], 1); // the same, same slices
    const both = new Uint8Array(dims[0] * dims[1] * dims[2]);
    head(both);
    tail(both);
    const kept = both.slice();
    expect(postprocessLabel(both, dims, spacing, rulesForSchema('pancreas')).smallOrganBodies).toBe(0);
    expect(Array.from(both)).toEqual(Array.from(kept));
    const alone = new Uint8Array(both.length);
    head(alone);
    expect(postprocessLabel(alone, dims, spacing, rulesForSchema('pancreas')).smallOrganBodies).toBe(1);
    expect(alone.every((v) => v === 0)).toBe(true);
  });
});

describe('bodies denser than any organ (maxOrganMedianHu)', () => {
  const dims: Vec3 = [40, 20, 12];
  const spacing: Vec3 = [3, 3, 3];

  /** Two kidneys at kidneyHu, and a third "kidney" in a vertebral body (bone at boneHu), the largest of the three. */
  function scene(kidneyHu: number, boneHu: number) {
    const label = new Uint8Array(dims[0] * dims[1] * dims[2]);
    const image = new Float32Array(label.length).fill(-100);
    const paint = (lo: Vec3, hi: Vec3, value: number, hu: number) => {
      box(label, dims, lo, hi, value);
      for (let k = lo[2]; k < hi[2]; k++)
        for (let j = lo[1]; j < hi[1]; j++)
          for (let i = lo[0]; i < hi[0]; i++) image[i + dims[0] * (j + dims[1] * k)] = hu;
    };
    paint([2, 2, 2], [10, 10, 10], 1, kidneyHu); // 512 voxels
    paint([28, 2, 2], [36, 10, 10], 1, kidneyHu); // 512 voxels
    paint([14, 2, 1], [24, 10, 11], 1, boneHu); // 800 voxels: ranked first by size
    // Dense urine in a small share of the first kidney does not make it dense.
    for (let k = 4; k < 6; k++) for (let j = 4; j < 6; j++) image[5 + dims[0] * (j + dims[1] * k)] = 1200;
    return { label, image };
  }
  const rules = { ...schemaRules('kidney'), minOrganMl: 0 };

  it('removes a body whose median is bone before ranking, so both kidneys stay', () => {
    expect(MAX_ORGAN_MEDIAN_HU).toBe(300);
    // Corticomedullary cortex (250 HU) stays; a 367 HU "kidney" in bone goes, and does not displace a kidney.
    const { label, image } = scene(250, 367);
    const stats = postprocessLabel(label, dims, spacing, rules, image);
    expect(stats.denseBodies).toBe(1);
    const expected = scene(250, 367).label;
    box(expected, dims, [14, 2, 1], [24, 10, 11], 0);
    expect(Array.from(label)).toEqual(Array.from(expected));
    // At 290 HU nothing is dense: the count rule keeps the two largest (the "bone" and one kidney).
    const soft = scene(250, 290);
    expect(postprocessLabel(soft.label, dims, spacing, rules, soft.image).denseBodies).toBe(0);
    expect(soft.label.filter((v) => v === 1).length).toBe(800 + 512);
    // Without an image, or with the rule off, nothing is judged.
    const blind = scene(250, 367);
    expect(postprocessLabel(blind.label, dims, spacing, rules).denseBodies).toBeUndefined();
    const off = scene(250, 367);
    expect(
      postprocessLabel(off.label, dims, spacing, { ...rules, maxOrganMedianHu: 0 }, off.image).denseBodies,
    ).toBeUndefined();
    expect(off.label.filter((v) => v === 1).length).toBe(800 + 512);
  });
});

describe('lesions the image does not show (minLesionContrastHu)', () => {
  const dims: Vec3 = [48, 24, 16];
  const spacing: Vec3 = [1, 1, 2];
  const at = (i: number, j: number, k: number) => i + dims[0] * (j + dims[1] * k);

  /** Two kidneys (30 HU parenchyma, ±6 HU noise) with four lesion bodies, and the image painted to match. */
  function scene(tumourHu: number) {
    const label = new Uint8Array(dims[0] * dims[1] * dims[2]);
    const image = new Float32Array(label.length);
    const r = rng(7);
    box(label, dims, [2, 2, 2], [20, 20, 14], 1);
    box(label, dims, [26, 2, 2], [44, 20, 14], 1);
    box(label, dims, [5, 5, 5], [10, 10, 9], 2); // tumour A, at tumourHu
    box(label, dims, [13, 12, 5], [17, 17, 10], 2); // tumour B, 60 HU: visible
    box(label, dims, [30, 5, 5], [35, 10, 9], 3); // cyst, 2 HU: visible
    box(label, dims, [36, 12, 4], [41, 17, 10], 2); // tumour C, 33 HU: as dense as its kidney
    const hu = [0, 30, tumourHu, 2];
    for (let n = 0; n < label.length; n++) image[n] = label[n] ? hu[label[n]] + (r() - 0.5) * 12 : -100;
    for (let k = 5; k < 10; k++) for (let j = 12; j < 17; j++) for (let i = 13; i < 17; i++) image[at(i, j, k)] = 60;
    for (let k = 4; k < 10; k++)
      for (let j = 12; j < 17; j++) for (let i = 36; i < 41; i++) image[at(i, j, k)] = 33 + (r() - 0.5) * 12;
    return { label, image };
  }
  const rules = { ...schemaRules('kidney'), minIslandMm3: 0 };

  it('relabels a lesion as dense as the kidney around it and keeps the visible ones', () => {
    const { label, image } = scene(31);
    const before = label.slice();
    const got = relabelInvisibleLesions(label, dims, spacing, image, rules);
    // Tumour A (31 HU) and C (33 HU) sit within 5 HU of their 30 HU kidney; B (60 HU) and the cyst (2 HU) do not.
    expect(got).toEqual({ lesions: 2, voxels: 5 * 5 * 4 + 5 * 5 * 6 });
    for (let n = 0; n < label.length; n++) {
      const wasInvisible = before[n] === 2 && image[n] < 45 && image[n] > 15;
      expect(label[n]).toBe(wasInvisible ? 1 : before[n]);
    }
    expect(label[at(14, 13, 6)]).toBe(2);
    expect(label[at(32, 7, 6)]).toBe(3);
  });

  it('keeps a lesion with contrast, a lesion with no organ in its ring, and everything without an image', () => {
    const visible = scene(45);
    const got = relabelInvisibleLesions(visible.label, dims, spacing, visible.image, rules);
    expect(got.lesions).toBe(1); // only C
    expect(visible.label[at(7, 7, 6)]).toBe(2);

    // A lesion body apart from any organ voxel: no organ to compare with, no verdict; touching 12 of them, one.
    const lone = new Uint8Array(dims[0] * dims[1] * dims[2]);
    const image = new Float32Array(lone.length).fill(30);
    box(lone, dims, [20, 8, 6], [24, 12, 9], 2);
    box(lone, dims, [26, 8, 6], [34, 12, 9], 1);
    const near = lone.slice();
    box(near, dims, [24, 8, 6], [25, 12, 9], 1);
    expect(relabelInvisibleLesions(lone, dims, spacing, image, rules).lesions).toBe(0);
    expect(relabelInvisibleLesions(near, dims, spacing, image, rules).lesions).toBe(1);

    // A cyst as dense as its kidney: the schema judges tumours only; with every lesion class judged, it goes too.
    const isoCyst = () => {
      const c = scene(31);
      for (let n = 0; n < c.image.length; n++) if (c.label[n] === 3) c.image[n] = 30;
      return c;
    };
    const a = isoCyst();
    expect(relabelInvisibleLesions(a.label, dims, spacing, a.image, rules).lesions).toBe(2);
    expect(a.label[at(32, 7, 6)]).toBe(3);
    const b = isoCyst();
    const all = { ...rules, visibilityClasses: undefined };
    expect(relabelInvisibleLesions(b.label, dims, spacing, b.image, all).lesions).toBe(3);
    expect(b.label[at(32, 7, 6)]).toBe(1);

    // An enhanced kidney (the same scene 120 HU brighter): cortex and medulla differ more than any threshold, so
    // no verdict there.
    const enhanced = scene(31);
    for (let n = 0; n < enhanced.image.length; n++) if (enhanced.label[n]) enhanced.image[n] += 120;
    expect(relabelInvisibleLesions(enhanced.label, dims, spacing, enhanced.image, rules).lesions).toBe(0);

    const { label } = scene(31);
    const before = label.slice();
    postprocessLabel(label, dims, spacing, rules);
    expect(Array.from(label)).toEqual(Array.from(before));
  });

  it("compares a lesion with its whole organ, not with the organ's voxels on its rim", () => {
    // An 18 HU kidney with a 38 HU tumour whose outer 1-voxel rim the prediction called kidney: the kidney voxels
    // next to the tumour are tumour tissue (38 HU); the kidney as a whole is 18 HU, so the tumour is visible.
    const label = new Uint8Array(dims[0] * dims[1] * dims[2]);
    const image = new Float32Array(label.length).fill(-100);
    box(label, dims, [2, 2, 1], [30, 22, 15], 1);
    for (let n = 0; n < label.length; n++) if (label[n]) image[n] = 18;
    for (let k = 3; k < 11; k++) for (let j = 5; j < 15; j++) for (let i = 8; i < 18; i++) image[at(i, j, k)] = 38;
    box(label, dims, [9, 6, 4], [17, 14, 10], 2);
    const got = relabelInvisibleLesions(label, dims, spacing, image, rules);
    expect(got.lesions).toBe(0);
    expect(label.filter((v) => v === 2).length).toBe(8 * 8 * 6);
  });

  it('keeps a predicted lesion that is half parenchyma and half a real hypodense tumour', () => {
    // Its median sits near the organ's; its lower quartile is the tumour's.
    const label = new Uint8Array(dims[0] * dims[1] * dims[2]);
    const image = new Float32Array(label.length).fill(-100);
    const r = rng(3);
    box(label, dims, [2, 2, 1], [30, 22, 15], 1);
    for (let n = 0; n < label.length; n++) if (label[n]) image[n] = 30 + (r() - 0.5) * 10;
    box(label, dims, [8, 6, 4], [18, 14, 10], 2);
    for (let k = 4; k < 10; k++) for (let j = 6; j < 14; j++) for (let i = 8; i < 12; i++) image[at(i, j, k)] = 5;
    expect(relabelInvisibleLesions(label.slice(), dims, spacing, image, rules).lesions).toBe(0);
    // The same body over plain parenchyma is relabelled.
    for (let k = 4; k < 10; k++) for (let j = 6; j < 14; j++) for (let i = 8; i < 12; i++) image[at(i, j, k)] = 30;
    expect(relabelInvisibleLesions(label, dims, spacing, image, rules).lesions).toBe(1);
  });

  it('compares with the organ at least LESION_MARGIN_MM from the lesion', () => {
    // A 45 HU tumour inside a band of 45 HU tissue the prediction called kidney: the organ within 6 mm of it
    // (1 mm voxels) is tumour tissue, 86 % of the organ. The real kidney, 30 HU, is the 2 columns farther away.
    const d: Vec3 = [32, 10, 4];
    const label = new Uint8Array(d[0] * d[1] * d[2]);
    const image = new Float32Array(label.length).fill(-100);
    const r = rng(5);
    box(label, d, [5, 0, 0], [25, 10, 4], 1);
    box(label, d, [12, 0, 0], [18, 10, 4], 2);
    expect(LESION_MARGIN_MM).toBe(6);
    for (let k = 0; k < 4; k++)
      for (let j = 0; j < 10; j++)
        for (let i = 5; i < 25; i++) image[i + 32 * (j + 10 * k)] = (i < 6 || i > 23 ? 30 : 45) + (r() - 0.5) * 8;
    expect(relabelInvisibleLesions(label.slice(), d, [1, 1, 2], image, rules).lesions).toBe(0);
    // The same with the far kidney at 45 HU too: now the tumour is as dense as its organ.
    for (let k = 0; k < 4; k++) for (let j = 0; j < 10; j++) for (const i of [5, 24]) image[i + 32 * (j + 10 * k)] = 45;
    expect(relabelInvisibleLesions(label, d, [1, 1, 2], image, rules).lesions).toBe(1);
  });

  it('runs after the body rules, and reports what it relabelled', () => {
    const { label, image } = scene(31);
    const stats = postprocessLabel(label, dims, spacing, rules, image);
    expect(stats.invisibleLesions).toBe(2);
    expect(stats.invisibleLesionVoxels).toBe(250);
    expect(stats.relabelledVoxels).toBe(0);
    const off = scene(31);
    const offStats = postprocessLabel(off.label, dims, spacing, { ...rules, minLesionContrastHu: 0 }, off.image);
    expect(offStats.invisibleLesions).toBe(0);
    expect(off.label.filter((v) => v === 2).length).toBe(100 + 100 + 150);
  });
});
