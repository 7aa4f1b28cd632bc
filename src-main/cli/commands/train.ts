// `deformux train`: trains or fine-tunes a DeformUX-Net on image/label NIfTI pairs; progress on stderr (or JSON lines on stdout).
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../index';
import { parseCliArgs } from '../args';
import { InputError } from '../../imaging/volume';
import { LABEL_SCHEMAS } from '../../api/contract';
import type { SchemaName } from '../../api/contract';
import { initEngine } from '../../engine/tf';
import { defaultMeta, loadModelFolder } from '../../engine/io/model_folder';
import type { ModelMeta } from '../../engine/io/model_folder';
import { parseConfig, presetConfig } from '../../engine/model/config';
import type { ModelConfig } from '../../engine/model/config';
import { DeformUXNet } from '../../engine/model/network';
import { trainRun } from '../../train/run';
import type { TrainProgress } from '../../train/run';
import { checkpointDirFor, finetune } from '../../train/finetune';
import type { FinetuneCase } from '../../train/finetune';
import { FINETUNE_DEFAULTS, RECIPE_DEFAULTS } from '../../train/finetune-defaults';
import { recipeForModel } from '../../train/recipe';
import { findPairs } from '../../train/data';
import { readNifti } from '../../imaging/nifti';
import { formatEta } from '../../util/eta';
import { promotionDecision } from '../../jobs/finetune-plan';
import type { FinetuneResult } from '../../train/finetune';

const HELP = `Usage: deformux train --data DIR --schema kidney|pancreas (--model DIR | --config lite|paper|FILE.json) --out DIR
                      [--steps N] [--patch D,H,W|S] [--batch B] [--lr LR] [--seed S] [--checkpoint-every N]
                      [--resume] [--ignore-label V] [--augment] [--class-balanced] [--keep-candidate] [--json]

  --data DIR       NAME_image.nii.gz + NAME_label.nii.gz pairs (or imagesTr/ + labelsTr/), any orientation
                   and spacing
  --model DIR      fine-tune this model folder exactly as the app does: cases reoriented and resampled to the
                   model's grid, the synthetic recipe replayed in every batch, L2-SP toward the model, encoder
                   at lr x0.1, augmentation, the half-way blend with the model, and a replay holdout scored
                   before and after (checkpoints in DIR.checkpoint); --no-replay turns the replay off. As in
                   the app, the fine-tuned model replaces the base only when it is not worse (replay
                   holdout, the cases trained on): else --out holds the base unchanged and the candidate
                   goes to OUT/candidate (--keep-candidate: --out holds the candidate anyway)
  --config NAME    start from a fresh network instead (lite, paper or a config.json; checkpoints in DIR/checkpoint;
                   patches read on the stored grid)
  --out DIR        the trained model folder (--resume continues from its checkpoint)
  --steps N        training steps (default 250); --patch voxels, multiples of 16 (default: the model's)
  --batch B        patches per step (default 2); --lr peak learning rate (default 2e-4 with --model, 1e-3
                   with --config; poly decay)
  --augment        with --config: augment patches (rotations/scales, intensity, noise, flips the schema allows)
  --class-balanced with --config: centre foreground patches on a class drawn uniformly among those present
  --json           one JSON object per step on stdout instead of the progress line on stderr
Ctrl-C stops after the current step and saves a checkpoint.`;

function num(v: unknown, flag: string, int: boolean, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n < min)
    throw new UsageError(`${flag} must be ${int ? 'a whole number' : 'a number'} >= ${min}, got '${String(v)}'`);
  return n;
}

function parsePatch(v: string): [number, number, number] {
  const parts = v.split(',').map((s) => Number(s.trim()));
  const p = parts.length === 1 ? [parts[0], parts[0], parts[0]] : parts;
  if (p.length !== 3 || !p.every((n) => Number.isInteger(n) && n > 0 && n % 16 === 0)) {
    throw new UsageError(`--patch must be one or three positive multiples of 16 (e.g. 96 or 64,96,96), got '${v}'`);
  }
  return p as [number, number, number];
}

/** The first Ctrl-C stops the run after its current step (with a checkpoint); the second quits at once. */
function stopOnSigint(): { signal: AbortSignal; release: () => void } {
  const abort = new AbortController();
  const onSigint = (): void => {
    process.stderr.write('\nstopping after this step; a checkpoint will be saved (Ctrl-C again to quit now)\n');
    abort.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  return { signal: abort.signal, release: () => process.off('SIGINT', onSigint) };
}

interface FinetuneCliOptions {
  modelDir: string;
  dataDir: string;
  outDir: string;
  classes: number;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  checkpointEvery: number;
  patch?: [number, number, number];
  resume: boolean;
  replay: boolean;
  keepCandidate: boolean;
  json: boolean;
}

/** What `deformux train --model` decided about its candidate: written to OUT/finetune.json. */
export interface CliFinetuneOutcome {
  promoted: boolean;
  reason: string;
  /** Where the candidate is, relative to OUT ('.' when OUT is the candidate). */
  candidate: string;
  base: string;
}

/**
 * As the app promotes: the candidate in `outDir` stays there when the app's rule would promote it (or when there is
 * nothing to judge it by, or `keepCandidate`); otherwise `outDir` becomes a copy of the base folder, with the
 * candidate moved to `outDir/candidate`. Either way `outDir/finetune.json` says which and why. The swap goes
 * through a sibling folder and renames, so `outDir` is whole before and after.
 */
export async function settleCandidate(
  baseDir: string,
  outDir: string,
  holdout: FinetuneResult['holdout'],
  keepCandidate: boolean,
): Promise<CliFinetuneOutcome> {
  const replay = holdout.replay;
  const judged = holdout.candidate !== null || (replay != null && replay.base !== null && replay.candidate !== null);
  const decision = promotionDecision({
    promoteIfNotWorse: true,
    baseDice: holdout.base,
    candidateDice: holdout.candidate,
    baseVersion: 0,
    ...(replay
      ? {
          replay: {
            base: replay.base,
            candidate: replay.candidate,
            tolerance: FINETUNE_DEFAULTS.replayTolerance,
            ...(replay.byClass ? { byClass: replay.byClass } : {}),
          },
        }
      : {}),
    ...(holdout.trained ? { trained: holdout.trained } : {}),
  });
  const reason = decision.reason.replace(' of version 0', ' of the base');
  const keep = decision.promote || !judged || keepCandidate;
  const outcome: CliFinetuneOutcome = {
    promoted: decision.promote,
    reason: judged ? reason : 'nothing to judge the candidate by (no replay holdout, no real holdout): kept as trained',
    candidate: keep ? '.' : 'candidate',
    base: baseDir,
  };
  if (keep) {
    await fs.writeFile(join(outDir, 'finetune.json'), JSON.stringify(outcome, null, 2) + '\n');
    return outcome;
  }
  const tmp = join(dirname(outDir), `.${basename(outDir)}.base-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(tmp);
    for (const f of ['config.json', 'model.json', 'weights.safetensors'])
      await fs.copyFile(join(baseDir, f), join(tmp, f));
    await fs.writeFile(join(tmp, 'finetune.json'), JSON.stringify(outcome, null, 2) + '\n');
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await fs.rename(outDir, join(tmp, 'candidate'));
  await fs.rename(tmp, outDir);
  return outcome;
}

/** `deformux train --model`: the app's fine-tune loop (train/finetune.ts) on a folder of pairs. */
async function finetuneCli(o: FinetuneCliOptions): Promise<number> {
  const train: FinetuneCase[] = [];
  for (const p of await findPairs(o.dataDir)) {
    const image = await readNifti(p.image);
    const label = await readNifti(p.label);
    train.push({ id: p.name, image, label });
  }
  const recipe = o.replay ? await recipeForModel(o.modelDir, RECIPE_DEFAULTS) : { replay: [], replayHoldout: [] };
  const { signal, release } = stopOnSigint();
  try {
    const r = await finetune({
      baseModelDir: o.modelDir,
      outDir: o.outDir,
      train,
      holdout: [],
      ...recipe,
      steps: o.steps,
      batch: o.batch,
      lr: o.lr,
      seed: o.seed,
      ...(o.patch ? { patch: o.patch } : {}),
      checkpointEvery: o.checkpointEvery || 25,
      resume: o.resume,
      signal,
      onProgress: (p) => {
        if (o.json) {
          if (p.phase === 'train')
            process.stdout.write(JSON.stringify({ step: p.step, steps: p.steps, loss: p.loss, eta_s: p.etaS }) + '\n');
        } else if (p.phase !== 'train' || p.step === 1 || p.step % 10 === 0 || p.step === p.steps) {
          process.stderr.write(`${p.message}\n`);
        }
      },
    });
    if (r.cancelled) {
      process.stderr.write(
        `cancelled at step ${r.steps}; checkpoint in ${checkpointDirFor(o.outDir)} (continue with --resume)\n`,
      );
      return 130;
    }
    const rep = r.holdout.replay;
    const replayLine =
      rep && rep.base !== null && rep.candidate !== null
        ? `; replay holdout (${rep.cases} synthetic cases never trained on) Dice pooled per class ${rep.base.toFixed(3)} -> ${rep.candidate.toFixed(3)}`
        : '';
    const tr = r.holdout.trained;
    const trainedLine =
      tr && tr.base !== null && tr.candidate !== null
        ? `; the ${tr.cases} case(s) trained on Dice ${tr.base.toFixed(3)} -> ${tr.candidate.toFixed(3)}`
        : '';
    const outcome = await settleCandidate(o.modelDir, o.outDir, r.holdout, o.keepCandidate);
    const where =
      outcome.candidate === '.'
        ? `model folder ${o.outDir}`
        : `model folder ${o.outDir} holds the base unchanged; the fine-tuned candidate is in ${join(o.outDir, 'candidate')} (--keep-candidate to keep it in ${o.outDir})`;
    const summary = `done: ${r.steps} steps on ${train.length} case(s), final loss ${(r.losses.at(-1) ?? NaN).toFixed(4)}${replayLine}${trainedLine}; ${outcome.reason}; ${where}`;
    if (o.json)
      process.stdout.write(JSON.stringify({ done: true, steps: r.steps, holdout: r.holdout, outcome }) + '\n');
    else process.stderr.write(summary + '\n');
    if (r.holdout.notWorse === false && outcome.candidate === '.')
      process.stderr.write(
        'warning: the fine-tuned model scores worse than its base on the replay holdout (it forgets) or on the cases it trained on; keep the base\n',
      );
    return 0;
  } finally {
    release();
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    {
      data: { type: 'string' },
      schema: { type: 'string' },
      model: { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
      steps: { type: 'string' },
      patch: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      'ignore-label': { type: 'string' },
      resume: { type: 'boolean' },
      augment: { type: 'boolean' },
      'no-replay': { type: 'boolean' },
      'keep-candidate': { type: 'boolean' },
      'class-balanced': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const dataDir = values.data as string | undefined;
  const outDir = values.out as string | undefined;
  const schemaName = values.schema as string | undefined;
  if (!dataDir || !outDir || !schemaName) throw new UsageError(`--data, --schema and --out are required.\n${HELP}`);
  if (!!values.model === !!values.config)
    throw new UsageError('give exactly one of --model DIR or --config lite|paper|FILE.json');
  if (!(schemaName in LABEL_SCHEMAS))
    throw new UsageError(`--schema must be one of ${Object.keys(LABEL_SCHEMAS).join(', ')}, got '${schemaName}'`);
  const schema = LABEL_SCHEMAS[schemaName as SchemaName];
  const classes = ['background', ...schema.classes.map((c) => c.name)];
  const steps = num(values.steps ?? 250, '--steps', true, 1);
  const batch = num(values.batch ?? 2, '--batch', true, 1);
  const lr = num(values.lr ?? (values.model ? FINETUNE_DEFAULTS.lr : 1e-3), '--lr', false, 0);
  const seed = num(values.seed ?? 0, '--seed', true, 0);
  const checkpointEvery = num(values['checkpoint-every'] ?? 0, '--checkpoint-every', true, 0);
  const ignoreLabel =
    values['ignore-label'] !== undefined ? num(values['ignore-label'], '--ignore-label', true, 0) : undefined;

  await initEngine();
  if (values.model) {
    if (ignoreLabel !== undefined) throw new UsageError('--ignore-label works with --config only');
    return finetuneCli({
      modelDir: values.model as string,
      dataDir,
      outDir,
      classes: classes.length,
      steps,
      batch,
      lr,
      seed,
      checkpointEvery,
      patch: values.patch ? parsePatch(values.patch as string) : undefined,
      resume: !!values.resume,
      replay: !values['no-replay'],
      keepCandidate: !!values['keep-candidate'],
      json: !!values.json,
    });
  }
  let net: DeformUXNet;
  let meta: ModelMeta;
  let base: string;
  if (values.model) {
    const loaded = await loadModelFolder(values.model as string);
    if (loaded.config.out_channels !== classes.length) {
      loaded.net.dispose();
      throw new InputError(
        values.model as string,
        `has ${loaded.config.out_channels} outputs but schema '${schemaName}' needs ${classes.length}`,
      );
    }
    ({ net, meta } = loaded);
    base = values.model as string;
  } else {
    const c = values.config as string;
    let config: ModelConfig;
    if (c === 'lite' || c === 'paper') config = presetConfig(c);
    else {
      if (!existsSync(c))
        throw new UsageError(`--config must be lite, paper or a config.json file; '${c}' is none of these`);
      config = parseConfig(JSON.parse(readFileSync(c, 'utf8')), c);
    }
    config = { ...config, out_channels: classes.length };
    net = DeformUXNet.create(config, seed);
    meta = { ...defaultMeta(config, schemaName, classes), provenance: `random initialisation, seed ${seed}` };
    base = c;
  }
  const patch = values.patch ? parsePatch(values.patch as string) : meta.inference.patchSize;

  const { signal, release } = stopOnSigint();
  const progress = (p: TrainProgress): void => {
    if (values.json) {
      process.stdout.write(
        JSON.stringify({
          step: p.step,
          steps: p.steps,
          loss: p.loss,
          lr: p.lr,
          grad_norm: p.gradNorm,
          elapsed_s: p.elapsedS,
          eta_s: p.etaS,
        }) + '\n',
      );
    } else {
      process.stderr.write(
        `step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${formatEta(p.etaS)}\n`,
      );
    }
  };
  try {
    const r = await trainRun({
      dataDir,
      outDir,
      net,
      meta,
      base,
      steps,
      batch,
      patch,
      lr,
      seed,
      ignoreLabel,
      checkpointEvery,
      resume: !!values.resume,
      augment: !!values.augment,
      classBalanced: !!values['class-balanced'],
      signal,
      onProgress: progress,
    });
    if (r.cancelled) {
      process.stderr.write(
        `cancelled at step ${r.steps}; checkpoint in ${join(outDir, 'checkpoint')} (continue with --resume)\n`,
      );
      return 130;
    }
    if (!values.json)
      process.stderr.write(`done: ${r.steps} steps, final loss ${r.finalLoss.toFixed(4)}; model folder ${outDir}\n`);
    return 0;
  } finally {
    release();
    net.dispose();
  }
}
