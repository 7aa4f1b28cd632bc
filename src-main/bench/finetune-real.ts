// `deformux bench finetune-real`: fine-tunes a starter on the shared real case (the 30-slice crop, its
// TotalSegmentator organ masks standing in for the annotator's correction) through the default fine-tune path
// (the app's and `deformux train --model`'s: replay, L2-SP, encoder lr x0.1, augmentation), and prints Dice
// before and after on held-out phantoms of the starter's own domains (synth and standard, never trained on) and
// on the full real scan. The full scan is the same patient as the training case, so its figure is marked
// seen: it shows the case was learnt, not that the next patient gains. So is the crop with contrast added inside its
// organ labels (arterial, portal-venous): the trained patient in another phase. No other labelled real CT is here.
//
//   bench finetune-real [--schema kidney|pancreas] [--model DIR] [--steps N] [--data DIR] [--heldout N] [--keep DIR]
//                         [--lr X] [--anchor-decay X] [--replay-share X] [--batch N] [--encoder-lr X] [--blend X] [--json]
//
// --keep DIR copies the candidate model folder there (to inspect its pre-labels), promoted or not.
import { mkdtempSync, promises as fs, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Volume } from '../imaging/volume';
import { InputError } from '../imaging/volume';
import { readNifti } from '../imaging/nifti';
import { initEngine } from '../engine/tf';
import { loadModelFolder } from '../engine/io/model_folder';
import { segmentationModelOf } from '../engine/model/segmentation_model';
import { finetune } from '../train/finetune';
import { RECIPE_DEFAULTS } from '../train/finetune-defaults';
import { modelRecipe, recipeForModel } from '../train/recipe';
import { scoreCases } from '../train/holdout';
import type { FinetuneCase } from '../train/finetune';
import { cropToLabels, recipeDims, recipePhantom, REPLAY_HOLDOUT_SEED0, REPLAY_MARGIN_MM } from '../phantom/replay';
import { resolveModelDir } from '../jobs/model-source';
import { numericFlags } from './finetune';
import {
  CARD_ENHANCE_PHASES,
  defaultRealCtDir,
  REAL_CT_FILES,
  realCtScores,
  scoreEnhanced,
  TOTALSEG,
} from '../predict/real-ct';

const HELP =
  'bench finetune-real [--schema kidney|pancreas] [--model DIR] [--steps N] [--data DIR] [--heldout N] [--keep DIR] [--lr X] [--anchor-decay X] [--replay-share X] [--batch N] [--encoder-lr X] [--blend X] [--json]';

/** The crop's TotalSegmentator labels as the schema's organ class (1); everything else background. */
export function organLabel(seg: Volume, schema: 'kidney' | 'pancreas'): Volume {
  const values: number[] = schema === 'kidney' ? [TOTALSEG.rightKidney, TOTALSEG.leftKidney] : [TOTALSEG.pancreas];
  const data = new Uint8Array(seg.data.length);
  for (let i = 0; i < data.length; i++) data[i] = values.includes(seg.data[i]) ? 1 : 0;
  return { ...seg, data, description: `TotalSegmentator ${schema} mask as class 1` };
}

const round4 = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 1e4) / 1e4);

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      schema: { type: 'string' },
      model: { type: 'string' },
      steps: { type: 'string' },
      data: { type: 'string' },
      heldout: { type: 'string' },
      keep: { type: 'string' },
      lr: { type: 'string' },
      'anchor-decay': { type: 'string' },
      'replay-share': { type: 'string' },
      batch: { type: 'string' },
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
  const schema = (values.schema ?? 'kidney') as 'kidney' | 'pancreas';
  if (schema !== 'kidney' && schema !== 'pancreas') throw new InputError('--schema', 'must be kidney or pancreas');
  const steps = Number(values.steps ?? 150);
  const heldout = Number(values.heldout ?? 4);
  if (!Number.isInteger(steps) || steps < 1) throw new InputError('--steps', `must be a whole number ≥ 1`);
  if (!Number.isInteger(heldout) || heldout < 1) throw new InputError('--heldout', `must be a whole number ≥ 1`);
  // Overrides of the fine-tune defaults (FINETUNE_DEFAULTS), to measure a change before making it the default.
  const flags = {
    lr: 'lr',
    anchorDecay: 'anchor-decay',
    replayShare: 'replay-share',
    batch: 'batch',
    encoderLrMult: 'encoder-lr',
    baseBlend: 'blend',
  } as const;
  const overrides = numericFlags(values, flags, (flag, text) => {
    throw new InputError(`--${flag}`, `must be a number ≥ 0, got '${text}'`);
  });
  if (overrides.batch !== undefined) overrides.batch = Math.max(1, Math.round(overrides.batch));
  const data = values.data ? resolve(values.data) : defaultRealCtDir();
  if (!existsSync(join(data, REAL_CT_FILES.crop))) throw new InputError(data, 'the real CT test data is not there');
  const log = (line: string): void => {
    if (!values.json) process.stderr.write(`${line}\n`);
  };
  await initEngine();
  const baseDir = values.model ? resolve(values.model) : resolveModelDir(schema);
  const seg = await readNifti(join(data, REAL_CT_FILES.labels));
  const train: FinetuneCase[] = [
    { id: 'shared-real-crop', image: await readNifti(join(data, REAL_CT_FILES.crop)), label: organLabel(seg, schema) },
  ];

  // Held-out phantoms of both domains (the starters' held-out seeds, after the replay holdout's).
  // Drawn as the starter drew its phantoms (generator version), with lesions, in each domain.
  const base = await loadModelFolder(baseDir);
  const spacing = base.meta.inference.targetSpacingMm;
  base.net.dispose();
  const recipe = modelRecipe(JSON.parse(await fs.readFile(join(baseDir, 'model.json'), 'utf8')).starterSettings);
  const phantoms = (domain: 'synth' | 'standard'): FinetuneCase[] =>
    Array.from({ length: heldout }, (_, k) => {
      const seed = REPLAY_HOLDOUT_SEED0 + RECIPE_DEFAULTS.holdout + k;
      const draw = { domain, lesionFree: false };
      const c = recipePhantom(schema, recipe, seed, draw, recipeDims(spacing), spacing);
      return { id: `${domain}-${seed}`, ...cropToLabels(c.image, c.label, REPLAY_MARGIN_MM) };
    });
  const heldoutSets = { synth: phantoms('synth'), standard: phantoms('standard') };

  const score = async (modelDir: string) => {
    const loaded = await loadModelFolder(modelDir);
    try {
      const model = segmentationModelOf(loaded);
      const out: Record<string, number | null> = {};
      for (const [name, cases] of Object.entries(heldoutSets)) {
        const s = await scoreCases(model, cases);
        out[`heldout_${name}_dice`] = round4(s.mean);
        out[`heldout_${name}_dice_organ`] = round4(s.byClass?.[0] ?? null);
      }
      const real = await realCtScores(model, loaded.meta.classes, undefined, data);
      if (real) {
        const organ = schema === 'kidney' ? 'kidney_dice' : 'pancreas_dice';
        out[`real_full_seen_${organ}`] = real[`full_${organ}`];
        out[`real_crop_trained_${organ}`] = real[`crop_${organ}`];
        // The trained crop with contrast added: the same patient, in the phases the annotation queues mostly hold.
        for (const phase of CARD_ENHANCE_PHASES) {
          const e = await scoreEnhanced(phase, train[0].image, seg, model, loaded.meta.classes);
          out[`real_crop_trained_enhanced_${phase}_${organ}`] = e[organ] as number;
          out[`real_crop_trained_enhanced_${phase}_lesion_fp_ml`] = e.lesion_fp_ml as number;
        }
      }
      return out;
    } finally {
      loaded.net.dispose();
    }
  };

  const work = mkdtempSync(join(tmpdir(), 'deformux-finetune-real-'));
  const t0 = performance.now();
  try {
    log(`scoring the base model ${baseDir}`);
    const before = await score(baseDir);
    const recipe = await recipeForModel(baseDir, RECIPE_DEFAULTS);
    const outDir = join(work, 'candidate');
    const r = await finetune({
      baseModelDir: baseDir,
      outDir,
      train,
      holdout: [],
      ...recipe,
      ...overrides,
      steps,
      onProgress: (p) => {
        if (p.phase !== 'train' || p.step % 25 === 0 || p.step === 1) log(p.message);
      },
    });
    log('scoring the fine-tuned model');
    const after = await score(outDir);
    if (values.keep) await fs.cp(outDir, resolve(values.keep), { recursive: true });
    const report = {
      bench: 'finetune-real',
      schema,
      base: baseDir,
      trained_on: 'the shared real CT crop (30 slices, TotalSegmentator masks as the correction)',
      unseen_real_cases: 0,
      steps: r.steps,
      overrides,
      minutes: Math.round(((performance.now() - t0) / 60000) * 100) / 100,
      promoted: r.holdout.notWorse === true,
      replay_holdout: r.holdout.replay,
      trained_cases: r.holdout.trained,
      before,
      after,
    };
    console.log(JSON.stringify(report, null, values.json ? undefined : 2));
    return 0;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
