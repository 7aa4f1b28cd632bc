// `deformux bench real-ct`: pre-labels the real abdomen CT of ../shared/data/real with a model and
// scores it against the TotalSegmentator labels of its 30-slice crop (kidney and pancreas Dice):
// the gap between phantom-trained starter models and patient CT, measured rather than guessed.
//
//   bench real-ct [--model DIR | --starter kidney|pancreas] [--data DIR] [--tta] [--max-patch d,h,w] [--json]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNifti } from '../imaging/nifti';
import { InputError } from '../imaging/volume';
import { predictVolume } from '../predict/predict';
import { resolveModelDir } from '../jobs/model-source';
import { parseCliArgs } from '../cli/args';
import { UsageError } from '../cli/index';

/** TotalSegmentator label values in the crop (README of the data folder). */
const TOTALSEG = { rightKidney: 2, leftKidney: 3, pancreas: 7 };
/** The crop is slices 82..111 (k) of the full 3 mm abdomen volume. */
const CROP_FIRST_SLICE = 82;

/** Dice of two binary masks given as predicates over the same voxel indices; NaN when both are empty. */
export function binaryDice(n: number, a: (i: number) => boolean, b: (i: number) => boolean): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    const x = a(i);
    const y = b(i);
    if (x) sa++;
    if (y) sb++;
    if (x && y) inter++;
  }
  return sa + sb === 0 ? NaN : (2 * inter) / (sa + sb);
}

const HELP =
  'bench real-ct [--model DIR | --starter kidney|pancreas] [--data DIR] [--tta] [--max-patch d,h,w] [--json]';

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    {
      model: { type: 'string' },
      starter: { type: 'string' },
      data: { type: 'string' },
      tta: { type: 'boolean' },
      'max-patch': { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values as {
    model?: string;
    starter?: string;
    data?: string;
    tta?: boolean;
    'max-patch'?: string;
    json?: boolean;
  };
  const starter = v.starter ?? 'kidney';
  if (starter !== 'kidney' && starter !== 'pancreas') throw new UsageError('--starter must be kidney or pancreas');
  const modelDir = v.model ? resolve(v.model) : resolveModelDir(starter);
  const data = resolve(v.data ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'real'));
  const ctFile = join(data, 'totalseg_example_ct_abdomen_3mm.nii.gz');
  const segFile = join(data, 'totalseg_example_seg_sm_labels.nii.gz');
  if (!existsSync(ctFile) || !existsSync(segFile)) throw new InputError(data, 'the real CT test data is not there');

  const { initEngine } = await import('../engine/tf');
  const { loadModelFolder } = await import('../engine/io/model_folder');
  const { segmentationModelOf } = await import('../engine/model/segmentation_model');
  await initEngine();
  const loaded = await loadModelFolder(modelDir);
  try {
    const model = segmentationModelOf(loaded);
    const maxPatch = v['max-patch'];
    if (maxPatch) {
      const m = maxPatch.split(/[,x×]/).map(Number);
      if (m.length !== 3 || !m.every((x) => Number.isInteger(x) && x > 0))
        throw new UsageError('--max-patch needs d,h,w');
      model.maxPatchSize = [m[0], m[1], m[2]];
    }
    const image = await readNifti(ctFile);
    const seg = await readNifti(segFile);
    const [ni, nj, nk] = image.dims;
    if (seg.dims[0] !== ni || seg.dims[1] !== nj || seg.dims[2] + CROP_FIRST_SLICE > nk)
      throw new InputError(segFile, `dims ${seg.dims.join('×')} do not fit slices ${CROP_FIRST_SLICE}.. of ${ctFile}`);
    const t0 = performance.now();
    const res = await predictVolume(image, model, { tta: !!v.tta });
    const seconds = (performance.now() - t0) / 1000;
    const classes = loaded.meta.classes;
    const pred = res.label.data as Uint8Array;
    const ref = seg.data;
    const offset = CROP_FIRST_SLICE * ni * nj;
    const n = seg.dims[0] * seg.dims[1] * seg.dims[2];
    // The organ mask of the prediction includes its lesions (TotalSegmentator's organ labels do too).
    const organOf = (name: string) => {
      const values = classes
        .map((c, v) => ({ c, v }))
        .filter(({ c, v }) => v > 0 && (c === name || c === 'tumor' || c === 'cyst'));
      return new Set(values.map(({ v }) => v));
    };
    const report: Record<string, unknown> = {
      bench: 'real-ct',
      model: modelDir,
      schema: loaded.meta.schema,
      tta: !!v.tta,
      seconds: Math.round(seconds * 100) / 100,
      stageMs: res.stats.stageMs,
      patches: res.stats.patches,
    };
    if (classes.includes('kidney')) {
      const k = organOf('kidney');
      report.kidney_dice = binaryDice(
        n,
        (i) => k.has(pred[offset + i]),
        (i) => ref[i] === TOTALSEG.rightKidney || ref[i] === TOTALSEG.leftKidney,
      );
    }
    if (classes.includes('pancreas')) {
      const p = organOf('pancreas');
      report.pancreas_dice = binaryDice(
        n,
        (i) => p.has(pred[offset + i]),
        (i) => ref[i] === TOTALSEG.pancreas,
      );
    }
    console.log(JSON.stringify(report, null, v.json ? undefined : 2));
    return 0;
  } finally {
    loaded.net.dispose();
  }
}
