// `deformux bench finetune`: the issue-7 and issue-14 evidence. Starts from a model (the kidney starter by default),
// fine-tunes it on shifted-domain phantoms "corrected" with their true labels through the app's fine-tune path
// (replay of the starter's recipe in every batch, L2-SP, encoder lr x0.1, the safe-promotion rule), and reports
// the Dice on further shifted phantoms before, of the candidate, and after (what the annotator gets: the
// candidate only when the app would promote it), as JSON. The test phantoms play no part in the promotion: with
// one or two submitted cases the app has nothing else to hold out.
//
//   bench finetune [--model DIR] [--train 5] [--test 10] [--steps N] [--batch B] [--patch D,H,W]
//                  [--lr LR] [--seed S] [--case-seed S] [--dims I,J,K] [--phase P] [--no-augment]
//                  [--anchor-decay X] [--replay-share X] [--encoder-lr X] [--blend X] [--fast] [--keep DIR]
//                  [--sequence N] [--json]
//
// Phantoms are made at the model's spacing over the standard 384×384×320 mm field of view, or over
// --dims voxels (centred on the body: e.g. 96,96,64 at 3 mm is a 288×288×192 mm kidney field). --case-seed picks
// the fine-tune phantoms (which patient was corrected).
//
// --sequence N: a project's first N submissions (the case seeds from --case-seed on) one at a time, as the app
// handles them: after each, a fine-tune of the active model on the corrected cases not held out (the project's
// holdout rule: its first case at the 3rd submission), promoted only when the app's rule allows; prints each
// stage's candidate and the test cases' Dice of what the annotator has after it.
//
// --fast (CI): a randomly initialised tiny network at 8 mm, fine-tuned for 60
// at lr 3e-3 without augmentation or guards on the shifted domain in its arterial-phase variant (--phase overrides
// the shifted domain's non-contrast phase), 4 test cases.
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Vec3 } from '../imaging/volume';
import { initEngine } from '../engine/tf';
import { defaultMeta, loadModelFolder, saveModelFolder } from '../engine/io/model_folder';
import { presetConfig } from '../engine/model/config';
import type { ModelConfig } from '../engine/model/config';
import { DeformUXNet } from '../engine/model/network';
import { finetune, scoreModel } from '../train/finetune';
import type { FinetuneCase, FinetuneOptions, FinetuneProgress, FinetuneResult } from '../train/finetune';
import { RECIPE_DEFAULTS } from '../train/finetune-defaults';
import { recipeForModel } from '../train/recipe';
import { generatePhantom, SHIFTED_DOMAIN } from '../phantom';
import { CONTRAST_PHASES } from '../phantom/hu';
import type { ContrastPhase, DomainShift, PhantomDomain } from '../phantom';
import { resolveModelDir } from '../jobs/model-source';
import { recipeDims } from '../phantom/replay';
import { nextHoldoutIds } from '../domain/holdout-rule';

class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Seeds disjoint from the starter's (1.., 100001..): fine-tune cases and test cases never overlap. */
export const FINETUNE_TRAIN_SEED0 = 200_001;
export const FINETUNE_TEST_SEED0 = 300_001;

/** The tiny network of the fast variant (the smoke starter's shape). */
export const TINY_CONFIG: ModelConfig = {
  ...presetConfig('lite'),
  out_channels: 4,
  feature_sizes: [4, 8, 8, 16],
  depths: [1, 1, 1, 1],
  hidden_size: 16,
  offset_kernel_size: 3,
};
export const TINY_SPACING_MM: Vec3 = [8, 8, 8];

/** Phantom dims covering the standard field of view at the model's spacing (the replay recipe's grid). */
export const phantomDimsFor = recipeDims;

/** Phantom cases as fine-tune cases (their true labels stand in for the annotator's corrections). */
export function phantomCases(
  seeds: number[],
  domain: PhantomDomain,
  dims: Vec3,
  spacingMm: Vec3,
  domainShift?: DomainShift,
): FinetuneCase[] {
  return seeds.map((seed) => {
    const c = generatePhantom({ seed, schema: 'kidney', dims, spacingMm, domain, domainShift });
    return { id: `${domain}-${seed}`, image: c.image, label: c.label };
  });
}

/**
 * A tiny kidney model: random init, then (steps > 0) that many steps on standard phantoms. The fast
 * variant uses the random init: a few dozen steps on standard phantoms teach a tiny network at 8 mm
 * little but to answer background, which no later short run recovers from.
 */
export async function makeTinyBaseModel(dir: string, steps: number, seed = 0): Promise<string> {
  const initDir = steps > 0 ? `${dir}-init` : dir;
  const net = DeformUXNet.create(TINY_CONFIG, seed);
  const meta = defaultMeta(TINY_CONFIG, 'kidney', ['background', 'kidney', 'tumor', 'cyst']);
  meta.inference = { ...meta.inference, targetSpacingMm: [...TINY_SPACING_MM], patchSize: [32, 32, 32] };
  try {
    await saveModelFolder(initDir, net, meta);
  } finally {
    net.dispose();
  }
  if (steps === 0) return dir;
  const dims = phantomDimsFor(TINY_SPACING_MM);
  const seeds = Array.from({ length: 4 }, (_, i) => 1 + i);
  await finetune({
    baseModelDir: initDir,
    outDir: dir,
    train: phantomCases(seeds, 'standard', dims, TINY_SPACING_MM),
    holdout: [],
    steps,
    batch: 2,
    patch: [32, 32, 32],
    lr: 3e-3,
    seed,
    augment: false,
    // From a random initialisation: nothing to stay near, every layer has to learn.
    anchorDecay: 0,
    encoderLrMult: 1,
    baseBlend: 1,
  });
  await fs.rm(initDir, { recursive: true, force: true });
  return dir;
}

export interface FinetuneBenchOptions {
  modelDir: string;
  outDir: string;
  trainCases: number;
  testCases: number;
  steps: number;
  batch?: number;
  patch?: [number, number, number];
  lr?: number;
  seed?: number;
  /** Seed of the first fine-tune phantom (default FINETUNE_TRAIN_SEED0): which shifted case is "corrected". */
  caseSeed?: number;
  /** Patch augmentation (default true). */
  augment?: boolean;
  /** Contrast phase overriding the shifted domain's. */
  phase?: ContrastPhase;
  /** Phantom dims (default: the standard field of view at the model's spacing). */
  dims?: Vec3;
  /**
   * The app's fine-tune path (default true): replay of the starter's recipe in every batch with its replay holdout,
   * L2-SP toward the base, encoder lr x0.1. Off for a randomly initialised base, which has nothing worth keeping.
   */
  guards?: boolean;
  /** Overrides of FINETUNE_DEFAULTS, to measure a change before making it the default. */
  overrides?: Partial<Pick<FinetuneOptions, 'anchorDecay' | 'replayShare' | 'encoderLrMult' | 'baseBlend'>>;
  onProgress?: (p: FinetuneProgress) => void;
}

export interface FinetuneBenchResult {
  /** Test cases before, the candidate on them, and what the annotator gets (the candidate only when promoted). */
  dice_before: number;
  dice_candidate: number;
  dice_after: number;
  minutes: number;
  steps: number;
  train_cases: number;
  test_cases: number;
  step_ms: number;
  /** The app's rule (replay holdout, the cases trained on); the test cases play no part in it. */
  promoted: boolean;
  /** Its pooled Dice, and per foreground class (by_class, index 0 = class 1; null where a class never occurs). */
  replay_holdout: {
    base: number | null;
    candidate: number | null;
    by_class?: { base: (number | null)[]; candidate: (number | null)[] };
  } | null;
  trained_cases: DicePair;
  model: string;
  domain: PhantomDomain;
  contrast_phase: ContrastPhase;
  phantom_dims: Vec3;
  spacing_mm: Vec3;
  patch: [number, number, number] | null;
  batch: number;
  case_seed: number;
  overrides: Record<string, number>;
  final_loss: number;
  /** Mean Dice per foreground class (kidney, tumor, cyst), before and of the candidate; null where a class never occurs. */
  dice_by_class_before: (number | null)[];
  dice_by_class_candidate: (number | null)[];
  /** Per test case: before and candidate. */
  per_case: { id: string; before: number; candidate: number }[];
}

/** A base / candidate pair of Dice in the JSON (null: not scored). */
type DicePair = { base: number | null; candidate: number | null } | null;

/** The shifted-domain phantoms of a bench run: `corrected` ones from the case seed on, and the test ones. */
async function benchCases(o: FinetuneBenchOptions, corrected: number) {
  const loaded = await loadModelFolder(o.modelDir);
  loaded.net.dispose();
  const spacing = [...loaded.meta.inference.targetSpacingMm] as Vec3;
  const dims = o.dims ?? phantomDimsFor(spacing);
  const seeds = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
  const shift = o.phase ? { contrastPhase: o.phase } : undefined;
  const caseSeed = o.caseSeed ?? FINETUNE_TRAIN_SEED0;
  const guards = o.guards !== false;
  const overrides = guards ? (o.overrides ?? {}) : { anchorDecay: 0, encoderLrMult: 1, baseBlend: 1 };
  return {
    spacing,
    dims,
    caseSeed,
    corrected: phantomCases(seeds(caseSeed, corrected), 'shifted', dims, spacing, shift),
    test: phantomCases(seeds(FINETUNE_TEST_SEED0, o.testCases), 'shifted', dims, spacing, shift),
    guards,
    overrides,
    // What every fine-tune of the run is given besides its cases and folders.
    settings: {
      steps: o.steps,
      batch: o.batch,
      patch: o.patch,
      lr: o.lr,
      seed: o.seed,
      augment: o.augment,
      ...overrides,
    },
  };
}

/** A base / candidate pair of Dice, rounded; null when absent. */
function pair(x: { base: number | null; candidate: number | null } | undefined): DicePair {
  return x ? { base: round4(x.base ?? NaN), candidate: round4(x.candidate ?? NaN) } : null;
}

/** The replay holdout's pooled Dice and, when scored, per class, rounded for the JSON. */
function replayJson(replay: FinetuneResult['holdout']['replay']): FinetuneBenchResult['replay_holdout'] {
  if (!replay) return null;
  const r4 = (xs: (number | null)[]) => xs.map((v) => (v === null ? null : round4(v)));
  return {
    ...pair(replay)!,
    ...(replay.byClass ? { by_class: { base: r4(replay.byClass.base), candidate: r4(replay.byClass.candidate) } } : {}),
  };
}

export async function benchFinetune(o: FinetuneBenchOptions): Promise<FinetuneBenchResult> {
  const t0 = performance.now();
  const {
    spacing,
    dims,
    caseSeed,
    corrected: train,
    test,
    guards,
    overrides,
    settings,
  } = await benchCases(o, o.trainCases);
  const recipe = guards ? await recipeForModel(o.modelDir, RECIPE_DEFAULTS) : { replay: [], replayHoldout: [] };
  const before = await scoreModel(o.modelDir, test);
  let trainMs = 0;
  let lastStepAt = 0;
  // As the app with one submitted case: nothing else to hold out, so the test cases stay out of the decision.
  const r = await finetune({
    baseModelDir: o.modelDir,
    outDir: o.outDir,
    train,
    holdout: [],
    ...recipe,
    ...settings,
    onProgress: (p) => {
      // Step time: wall time between train-phase reports (the first step's start is the previous report).
      const now = performance.now();
      if (p.phase === 'train' && lastStepAt > 0) trainMs += now - lastStepAt;
      lastStepAt = now;
      o.onProgress?.(p);
    },
  });
  const cand = await scoreModel(o.outDir, test);
  if (before.mean === null || cand.mean === null) throw new Error('bench finetune: no test scores');
  const promoted = r.holdout.notWorse === true;
  const batch = o.batch ?? 2;
  return {
    dice_before: round4(before.mean),
    dice_candidate: round4(cand.mean),
    dice_after: round4(promoted ? cand.mean : before.mean),
    minutes: round4((performance.now() - t0) / 60000),
    steps: r.steps,
    train_cases: o.trainCases,
    test_cases: o.testCases,
    step_ms: Math.round(trainMs / Math.max(1, r.steps)),
    promoted,
    replay_holdout: replayJson(r.holdout.replay),
    trained_cases: pair(r.holdout.trained),
    model: o.modelDir,
    domain: 'shifted',
    contrast_phase: o.phase ?? SHIFTED_DOMAIN.contrastPhase ?? 'portal',
    phantom_dims: dims,
    spacing_mm: spacing,
    patch: o.patch ?? null,
    batch,
    case_seed: caseSeed,
    overrides: { ...overrides },
    final_loss: round4(r.losses[r.losses.length - 1] ?? NaN),
    dice_by_class_before: (before.byClass ?? []).map((d) => (d === null ? null : round4(d))),
    dice_by_class_candidate: (cand.byClass ?? []).map((d) => (d === null ? null : round4(d))),
    per_case: before.perCase.map((p, i) => ({
      id: p.id,
      before: round4(p.dice),
      candidate: round4(cand.perCase[i].dice),
    })),
  };
}

/** One stage of `bench finetune --sequence`: the k-th case submitted, then the app's fine-tune of the active model. */
export interface FinetuneSequenceStage {
  submitted: number;
  /** The cases trained on and held out at this stage (the app's holdout rule, domain/holdout-rule.ts). */
  train: string[];
  holdout: string[];
  promoted: boolean;
  /** Test cases: the candidate's mean Dice, and the active model's after this stage (what the annotator has). */
  dice_candidate: number;
  dice_after: number;
  /** The active model after this stage against the starter, on the test case that lost most (negative: worse). */
  worst_case_delta: number;
  /** The same for this stage's candidate, promoted or not: what the rule's refusal spared or cost the annotator. */
  candidate_worst_case_delta: number;
  real_holdout: DicePair;
  replay_holdout: FinetuneBenchResult['replay_holdout'];
  trained_cases: DicePair;
  minutes: number;
}

export interface FinetuneSequenceResult {
  dice_before: number;
  stages: FinetuneSequenceStage[];
  /** Per test case: the starter's Dice, then the active model's after each stage. */
  per_case: { id: string; before: number; after: number[] }[];
  model: string;
  case_seed: number;
  steps: number;
  test_cases: number;
  contrast_phase: ContrastPhase;
  minutes: number;
}

/**
 * `bench finetune --sequence N`: a project's first N submissions, one at a time, as the app handles them. After each,
 * the app's fine-tune starts from the active model (the starter, or the last promoted candidate) on every corrected
 * case not held out, the holdout chosen by the project's rule (its first case at the 3rd submission; the replay
 * holdout and the trained-cases check while there is none), and promotes the candidate only when the rule allows.
 * The test phantoms play no part in any decision.
 */
export async function benchFinetuneSequence(
  o: FinetuneBenchOptions & { sequence: number },
): Promise<FinetuneSequenceResult> {
  const t0 = performance.now();
  const { caseSeed, corrected: submissions, test, guards, settings } = await benchCases(o, o.sequence);
  const before = await scoreModel(o.modelDir, test);
  if (before.mean === null) throw new Error('bench finetune: no test scores');
  let active = o.modelDir;
  let activeScore = before;
  const held = new Set<string>();
  const trainedOn = new Set<string>();
  const stages: FinetuneSequenceStage[] = [];
  const afterByStage: number[][] = [];
  // The replay recipe is the active model's: drawn once per model, not once per stage.
  const recipes = new Map<string, Awaited<ReturnType<typeof recipeForModel>>>();
  for (let k = 1; k <= o.sequence; k++) {
    const ts = performance.now();
    const submitted = submissions.slice(0, k);
    for (const id of nextHoldoutIds(
      submitted.map((c) => c.id),
      held,
      trainedOn,
    ))
      held.add(id);
    const train = submitted.filter((c) => !held.has(c.id));
    const holdout = submitted.filter((c) => held.has(c.id));
    const outDir = join(o.outDir, `stage-${k}`);
    if (guards && !recipes.has(active)) recipes.set(active, await recipeForModel(active, RECIPE_DEFAULTS));
    const r = await finetune({
      baseModelDir: active,
      outDir,
      train,
      holdout,
      ...(recipes.get(active) ?? {}),
      ...settings,
      onProgress: o.onProgress,
    });
    for (const c of train) trainedOn.add(c.id);
    const cand = await scoreModel(outDir, test);
    if (cand.mean === null) throw new Error('bench finetune: no test scores');
    const promoted = r.holdout.notWorse === true;
    if (promoted) {
      active = outDir;
      activeScore = cand;
    }
    afterByStage.push(activeScore.perCase.map((p) => round4(p.dice)));
    stages.push({
      submitted: k,
      train: train.map((c) => c.id),
      holdout: holdout.map((c) => c.id),
      promoted,
      dice_candidate: round4(cand.mean),
      dice_after: round4(activeScore.mean!),
      worst_case_delta: round4(Math.min(...activeScore.perCase.map((p, i) => p.dice - before.perCase[i].dice))),
      candidate_worst_case_delta: round4(Math.min(...cand.perCase.map((p, i) => p.dice - before.perCase[i].dice))),
      real_holdout: holdout.length ? pair({ base: r.holdout.base, candidate: r.holdout.candidate }) : null,
      replay_holdout: replayJson(r.holdout.replay),
      trained_cases: pair(r.holdout.trained),
      minutes: round4((performance.now() - ts) / 60000),
    });
    // A refused candidate is never a base again: only active folders are kept.
    if (!promoted) await fs.rm(outDir, { recursive: true, force: true });
  }
  return {
    dice_before: round4(before.mean),
    stages,
    per_case: before.perCase.map((p, i) => ({
      id: p.id,
      before: round4(p.dice),
      after: afterByStage.map((scores) => scores[i]),
    })),
    model: o.modelDir,
    case_seed: caseSeed,
    steps: o.steps,
    test_cases: o.testCases,
    contrast_phase: o.phase ?? SHIFTED_DOMAIN.contrastPhase ?? 'portal',
    minutes: round4((performance.now() - t0) / 60000),
  };
}

/**
 * Numbers ≥ 0 from parsed flags, by a table of option key → flag name (absent flags left out); `bad` throws for a flag
 * that is not one. The fine-tune benches read their overrides of FINETUNE_DEFAULTS with it.
 */
export function numericFlags<K extends string>(
  values: Record<string, unknown>,
  flags: Record<K, string>,
  bad: (flag: string, text: string) => never,
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const key of Object.keys(flags) as K[]) {
    const v = values[flags[key]];
    if (v === undefined) continue;
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) bad(flags[key], String(v));
    out[key] = x;
  }
  return out;
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function positiveInt(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BenchUsageError(`${flag} must be a whole number ≥ 1, got '${v}'`);
  return n;
}

const HELP =
  'bench finetune [--model DIR] [--train 5] [--test 10] [--steps N] [--batch B] [--patch D,H,W] [--lr LR] [--seed S] [--case-seed S] [--dims I,J,K] [--phase P] [--no-augment] [--anchor-decay X] [--replay-share X] [--encoder-lr X] [--blend X] [--fast] [--keep DIR] [--sequence N] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      train: { type: 'string' },
      test: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      patch: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      keep: { type: 'string' },
      dims: { type: 'string' },
      fast: { type: 'boolean' },
      'no-augment': { type: 'boolean' },
      phase: { type: 'string' },
      'case-seed': { type: 'string' },
      sequence: { type: 'string' },
      'anchor-decay': { type: 'string' },
      'replay-share': { type: 'string' },
      'encoder-lr': { type: 'string' },
      blend: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const fast = !!values.fast;
  let patch: [number, number, number] | undefined;
  if (values.patch) {
    const p = values.patch.split(',').map(Number);
    const q = p.length === 1 ? [p[0], p[0], p[0]] : p;
    if (q.length !== 3 || !q.every((n) => Number.isInteger(n) && n > 0))
      throw new BenchUsageError(`--patch must be one or three whole numbers, got '${values.patch}'`);
    patch = q as [number, number, number];
  }
  let dims: Vec3 | undefined;
  if (values.dims) {
    const d = values.dims.split(',').map(Number);
    if (d.length !== 3 || !d.every((n) => Number.isInteger(n) && n >= 8 && n <= 1024))
      throw new BenchUsageError(`--dims must be three whole numbers from 8 to 1024, got '${values.dims}'`);
    dims = d as Vec3;
  }
  const phase = (values.phase ?? (fast ? 'arterial' : undefined)) as ContrastPhase | undefined;
  if (phase !== undefined && !CONTRAST_PHASES.includes(phase))
    throw new BenchUsageError(`--phase must be one of ${CONTRAST_PHASES.join(', ')}, got '${phase}'`);
  const lrText = values.lr ?? (fast ? '3e-3' : undefined);
  const lr = lrText === undefined ? undefined : Number(lrText);
  if (lr !== undefined && !(lr > 0)) throw new BenchUsageError(`--lr must be a positive number, got '${lrText}'`);
  const overrides = numericFlags(
    values,
    { anchorDecay: 'anchor-decay', replayShare: 'replay-share', encoderLrMult: 'encoder-lr', baseBlend: 'blend' },
    (flag, text) => {
      throw new BenchUsageError(`--${flag} must be a number ≥ 0, got '${text}'`);
    },
  );
  await initEngine();
  const work = mkdtempSync(join(tmpdir(), 'deformux-bench-finetune-'));
  try {
    const log = (line: string): void => {
      if (!values.json) process.stderr.write(`${line}\n`);
    };
    let modelDir: string;
    if (values.model) modelDir = resolveModelDir('kidney', values.model);
    else if (fast) {
      log('fast: a randomly initialised tiny model');
      modelDir = await makeTinyBaseModel(join(work, 'base'), 0);
    } else modelDir = resolveModelDir('kidney');
    const common: FinetuneBenchOptions = {
      modelDir,
      outDir: values.keep ?? join(work, 'candidate'),
      trainCases: positiveInt('--train', values.train, 5),
      testCases: positiveInt('--test', values.test, fast ? 4 : 10),
      steps: positiveInt('--steps', values.steps, fast ? 60 : 100),
      batch: positiveInt('--batch', values.batch, 2),
      patch: patch ?? (fast ? [32, 32, 32] : undefined),
      lr,
      dims,
      phase,
      // The fast variant's 60 steps are too few for a tiny network to gain from augmentation.
      augment: !fast && !values['no-augment'],
      guards: !fast,
      overrides,
      caseSeed: values['case-seed'] === undefined ? undefined : positiveInt('--case-seed', values['case-seed'], 1),
      seed: values.seed === undefined ? 0 : positiveInt('--seed', String(Number(values.seed) + 1), 1) - 1,
      onProgress: (p) => {
        if (p.phase !== 'train' || p.step % 10 === 0 || p.step === 1) log(p.message);
      },
    };
    const res =
      values.sequence === undefined
        ? await benchFinetune(common)
        : await benchFinetuneSequence({
            ...common,
            // Each stage's candidate is written under the work folder (or --keep): the next stage starts from it.
            outDir: values.keep ?? join(work, 'sequence'),
            sequence: positiveInt('--sequence', values.sequence, 1),
          });
    console.log(values.json ? JSON.stringify(res) : JSON.stringify(res, null, 2));
    return 0;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
