// Light, switchable post-processing that anatomy justifies, applied to the label on its own grid:
// drop tiny islands, keep at most N organ bodies (2 kidneys, 1 pancreas), keep lesions only inside
// or touching their organ, and read an organ body that is mostly "lesion" as organ. Removed voxels become
// background.
//
// One connected-components pass over all foreground classes together: a component is an organ
// body with the lesions it touches. A lesion touches its organ exactly when its component holds
// organ voxels (a lesion component is maximal, so anything else it touches is organ).
import type { Vec3 } from '../imaging/volume';
import { connectedComponents, eraseComponents, relabelInComponents } from './components';
import type { Connectivity } from './components';

export interface PostprocessRules {
  /** Components smaller than this are removed (0 = keep all). */
  minIslandMm3: number;
  connectivity: Connectivity;
  /** Label values of the organ (kidney, pancreas). */
  organClasses: number[];
  /** Label values of lesions (tumor, cyst). */
  lesionClasses: number[];
  /** Keep only the N largest organ bodies (0 = no limit). */
  maxOrganComponents: number;
  lesionsMustTouchOrgan: boolean;
  /**
   * A body (with some organ voxels) whose lesion classes hold more than this share of its voxels is relabelled
   * organ (0 or absent: off).
   * Measured on the shared native CT: the synth-trained kidney model outlines both kidneys (kidney with lesions
   * Dice 0.80) but calls most of each "tumor" (kidney class 0.42); a lesion that is most of its organ is far
   * more often the organ at an unfamiliar contrast than a tumour that replaced it. The share is a prior
   * (two thirds), not fitted to that scan; very large tumours then need the annotator's correction.
   */
  maxLesionShare?: number;
}

export interface PostprocessStats {
  components: number;
  removedComponents: number;
  removedVoxels: number;
  /** Lesion voxels relabelled organ by maxLesionShare. */
  relabelledVoxels?: number;
}

export const DEFAULT_MIN_ISLAND_MM3 = 250;

/** Rules for the built-in schemas, from class names (index = label value). */
export function rulesForClassNames(classNames: string[]): PostprocessRules | undefined {
  const lower = classNames.map((n) => n.toLowerCase());
  const organName = lower.includes('kidney') ? 'kidney' : lower.includes('pancreas') ? 'pancreas' : undefined;
  if (!organName) return undefined;
  const organClasses = lower.flatMap((n, v) => (v > 0 && n === organName ? [v] : []));
  const lesionClasses = lower.flatMap((n, v) =>
    v > 0 && (n === 'tumor' || n === 'tumour' || n === 'cyst' || n === 'lesion') ? [v] : [],
  );
  return {
    minIslandMm3: DEFAULT_MIN_ISLAND_MM3,
    connectivity: 26,
    organClasses,
    lesionClasses,
    maxOrganComponents: organName === 'kidney' ? 2 : 1,
    lesionsMustTouchOrgan: true,
    maxLesionShare: 2 / 3,
  };
}

export function rulesForSchema(schema: 'kidney' | 'pancreas'): PostprocessRules {
  return rulesForClassNames(
    schema === 'kidney' ? ['background', 'kidney', 'tumor', 'cyst'] : ['background', 'pancreas', 'tumor'],
  )!;
}

/** Applies the rules in place. Other non-zero classes only see the island rule. */
export function postprocessLabel(
  label: Uint8Array,
  dims: Vec3,
  spacingMm: Vec3,
  rules: PostprocessRules,
): PostprocessStats {
  const member = new Uint8Array(256);
  member.fill(1, 1);
  const cc = connectedComponents(label, dims, member, rules.connectivity);
  const voxelMm3 = spacingMm[0] * spacingMm[1] * spacingMm[2];
  const remove = new Uint8Array(cc.count);
  const organVoxels = new Float64Array(cc.count);
  const lesionVoxels = new Float64Array(cc.count);
  const relabel = new Uint8Array(cc.count);
  const share = rules.maxLesionShare ?? 0;
  for (let c = 0; c < cc.count; c++) {
    for (const v of rules.organClasses)
      if (v < cc.classStride) organVoxels[c] += cc.classVoxels[c * cc.classStride + v];
    for (const v of rules.lesionClasses)
      if (v < cc.classStride) lesionVoxels[c] += cc.classVoxels[c * cc.classStride + v];
    // Only bodies with some organ voxels: a lesion island with none stays a lesion (and the touch rule decides).
    if (share > 0 && organVoxels[c] > 0 && lesionVoxels[c] > share * (organVoxels[c] + lesionVoxels[c])) {
      relabel[c] = 1;
      organVoxels[c] += lesionVoxels[c];
      lesionVoxels[c] = 0;
    }
    if (cc.voxels[c] * voxelMm3 < rules.minIslandMm3) remove[c] = 1;
    if (rules.lesionsMustTouchOrgan && organVoxels[c] === 0 && lesionVoxels[c] > 0) remove[c] = 1;
  }
  if (rules.maxOrganComponents > 0) {
    const bodies: number[] = [];
    for (let c = 0; c < cc.count; c++) if (!remove[c] && organVoxels[c] > 0) bodies.push(c);
    // Largest first (whole body incl. its lesions); equal sizes keep the earlier one (stable).
    bodies.sort((a, b) => cc.voxels[b] - cc.voxels[a] || a - b);
    for (const c of bodies.slice(rules.maxOrganComponents)) remove[c] = 1;
  }
  let removedComponents = 0;
  for (let c = 0; c < cc.count; c++) removedComponents += remove[c];
  const removedVoxels = removedComponents > 0 ? eraseComponents(label, cc, remove, 0) : 0;
  // Bodies removed above are gone; the rest of the marked ones have their lesion voxels relabelled organ.
  for (let c = 0; c < cc.count; c++) if (remove[c]) relabel[c] = 0;
  let relabelledVoxels = 0;
  if (relabel.includes(1)) {
    const lesion = new Uint8Array(256);
    for (const v of rules.lesionClasses) lesion[v] = 1;
    relabelledVoxels = relabelInComponents(label, cc, relabel, lesion, rules.organClasses[0]);
  }
  return { components: cc.count, removedComponents, removedVoxels, relabelledVoxels };
}
