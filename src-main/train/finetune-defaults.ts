// Fine-tune defaults (one place for the app's jobs and `deformux train --model`), light enough for the main process.

/** The fine-tune defaults: one place, used by the app's jobs and by `deformux train --model`. */
export const FINETUNE_DEFAULTS = {
  batch: 2,
  lr: 2e-4,
  foregroundProb: 0.5,
  // For a model that records no starterSettings.classBalanced (a model that does is fine-tuned as it was trained): a
  // lesion centres as many patches as its organ, in replay and in the annotator's cases.
  classBalanced: true,
  replayShare: 0.5,
  replayTolerance: 0.01,
  anchorDecay: 100,
  encoderLrMult: 0.1,
  // The candidate is the half-way point between the base and the trained weights (WiSE-FT, weight-average.ts).
  // bench finetune, one corrected shifted-domain portal-venous phantom (cases 200001-3), 150 steps, 8 unseen ones,
  // the seventh-phase kidney starter (2026-12-07): the candidates' mean Dice +0.005 / +0.007 / +0.010 over the base
  // (trained weights: -0.004 / +0.005 / +0.014), their worst case -0.019 / -0.014 / 0.000 (trained: -0.042 /
  // -0.036 / +0.001), kidney class 0.955 / 0.968 / 0.970 (trained: 0.930 / 0.967 / 0.971; base 0.966); promoted
  // yes / yes / no (trained: yes / no / no), so the annotator got +0.005 / +0.007 / 0 (trained: -0.004 / 0 / 0).
  // bench finetune-real (the shared crop): replay holdout 0.505 -> 0.500 (trained 0.485: refused), promoted. With the
  // eighth-phase starter (base 0.523, kidney class 0.971) the same three cases: +0.016 / +0.016 / +0.008, worst
  // case -0.020 / -0.003 / -0.003, promoted yes / yes / no.
  baseBlend: 0.5,
} as const;

/**
 * Replay defaults: 8 recipe cases in the batches, 6 scored before and after (with 3, one phantom's lesion decided
 * the promotion: its swing alone was 0.04 of the mean).
 */
export const RECIPE_DEFAULTS = { cases: 8, holdout: 6 } as const;

/**
 * Which of a step's `batch` patch slots come from replay: a fixed share of every batch (at least one replay
 * and one own-case patch when batch ≥ 2), or every other step when batch is 1.
 */
export function replaySlots(step: number, batch: number, share: number): boolean[] {
  if (share <= 0) return new Array<boolean>(batch).fill(false);
  if (batch === 1) return [step % 2 === 1];
  const r = Math.min(batch - 1, Math.max(1, Math.round(batch * share)));
  return Array.from({ length: batch }, (_, b) => b >= batch - r);
}

/**
 * Whether a fine-tune draws its foreground patch centres class by class: as asked, else as the model's starter
 * sampled (its recorded starterSettings.classBalanced), else the default. A starter trained without it calls fewer
 * lesions in plain kidneys; a fine-tune that oversampled lesions would teach that back.
 */
export function finetuneClassBalanced(
  explicit: boolean | undefined,
  starterSettings?: Record<string, unknown>,
): boolean {
  if (explicit !== undefined) return explicit;
  const recorded = starterSettings?.classBalanced;
  return typeof recorded === 'boolean' ? recorded : FINETUNE_DEFAULTS.classBalanced;
}

/**
 * Whether a fine-tune's patches read a case's end planes past its ends (left out of the loss) instead of air: when
 * the model pads short scans so at inference (shortScanPad 'edge') and its starter trained so (trainShortScanPad).
 */
export function finetuneEdgePad(starterSettings: Record<string, unknown> | undefined, shortScanPad?: string): boolean {
  return shortScanPad === 'edge' && starterSettings?.trainShortScanPad === 'edge';
}
