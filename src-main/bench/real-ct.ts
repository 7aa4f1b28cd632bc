// `deformux bench real-ct`: pre-labels the real abdomen CT of ../shared/data/real with a model and
// scores it against the TotalSegmentator labels of its 30-slice crop, per class: the organ class alone,
// the organ with its lesions, and the volume of lesion labels (the reference patient has no lesions
// labelled, so every lesion voxel counts as false positive). Two cases: the full 112-slice scan scored
// on the crop's slices, and the 30-slice crop file pre-labelled on its own (a scan that covers only the
// kidneys: a short field of view the network must not fill with anatomy). --absent FILE adds a real CT that
// holds none of the organ (e.g. the chest CT angiogram of TotalSegmentator's aorta-report test files, which ends
// in the upper abdomen above the kidneys and the pancreas): it reports the mL the model labels there anyway.
// --perturb air,smooth,hires,slab scores the full scan again with its outside air at -930 HU, mildly blurred,
// upsampled to 0.75 × 0.75 × 1 mm, and cut to its top 45 mm alone (predict/real-ct.ts perturbedScan): how much the
// figures hang on how this scan was made, and whether a short field of view gets filled with the organ.
// --enhance arterial,portal,nephrographic scores the crop alone again with that phase's contrast added inside its
// organ labels (predict/enhance.ts): enhanced kidneys (cortex and medulla apart) with the real scan's texture.
//
//   bench real-ct [--model DIR | --starter kidney|pancreas] [--data DIR] [--case full|crop|all|none]
//                 [--absent FILE[,FILE...]] [--perturb air,smooth,hires,slab] [--enhance arterial,portal,nephrographic] [--tta] [--overlap F] [--max-patch d,h,w] [--short-scan-pad edge|air]
//                 [--json]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNifti } from '../imaging/nifti';
import { InputError } from '../imaging/volume';
import { resolveModelDir } from '../jobs/model-source';
import { parseCliArgs, parseOverlap } from '../cli/args';
import { UsageError } from '../cli/index';
import {
  CROP_FIRST_SLICE,
  defaultRealCtDir,
  REAL_CT_FILES,
  REAL_CT_PERTURBATIONS,
  scoreAbsentCase,
  scoreCase,
  scoreEnhanced,
  scorePerturbed,
} from '../predict/real-ct';
import { ENHANCE_PHASES } from '../predict/enhance';
import type { EnhancePhase } from '../predict/enhance';
import type { RealCtPerturbation } from '../predict/real-ct';
import { readVolume } from '../imaging/read';

const HELP =
  'bench real-ct [--model DIR | --starter kidney|pancreas] [--data DIR] [--case full|crop|all|none] [--absent FILE[,FILE...]] [--perturb air,smooth,hires,slab] [--enhance arterial,portal,nephrographic] [--tta] [--overlap F] [--max-patch d,h,w] [--short-scan-pad edge|air] [--json]';

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    {
      model: { type: 'string' },
      starter: { type: 'string' },
      data: { type: 'string' },
      case: { type: 'string' },
      absent: { type: 'string' },
      perturb: { type: 'string' },
      enhance: { type: 'string' },
      tta: { type: 'boolean' },
      overlap: { type: 'string' },
      'max-patch': { type: 'string' },
      'short-scan-pad': { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values as {
    model?: string;
    starter?: string;
    data?: string;
    case?: string;
    absent?: string;
    perturb?: string;
    enhance?: string;
    tta?: boolean;
    overlap?: string;
    'max-patch'?: string;
    'short-scan-pad'?: string;
    json?: boolean;
  };
  const starter = v.starter ?? 'kidney';
  if (starter !== 'kidney' && starter !== 'pancreas') throw new UsageError('--starter must be kidney or pancreas');
  const which = v.case ?? 'all';
  if (which !== 'full' && which !== 'crop' && which !== 'all' && which !== 'none')
    throw new UsageError('--case must be full, crop, all or none');
  const absent = (v.absent ?? '')
    .split(',')
    .filter((f) => f !== '')
    .map((f) => resolve(f));
  for (const f of absent) if (!existsSync(f)) throw new InputError(f, 'no such file (--absent)');
  if (which === 'none' && absent.length === 0) throw new UsageError('--case none needs --absent FILE');
  const perturb = (v.perturb ?? '').split(',').filter((p) => p !== '') as RealCtPerturbation[];
  for (const p of perturb)
    if (!REAL_CT_PERTURBATIONS.includes(p))
      throw new UsageError(`--perturb takes ${REAL_CT_PERTURBATIONS.join(', ')}; got '${p}'`);
  if (perturb.length > 0 && which !== 'all' && which !== 'full')
    throw new UsageError('--perturb perturbs the full scan: use it with --case full or all');
  const enhance = (v.enhance ?? '').split(',').filter((p) => p !== '') as EnhancePhase[];
  for (const p of enhance)
    if (!ENHANCE_PHASES.includes(p)) throw new UsageError(`--enhance takes ${ENHANCE_PHASES.join(', ')}; got '${p}'`);
  if (enhance.length > 0 && which !== 'all' && which !== 'crop')
    throw new UsageError('--enhance adds contrast to the crop: use it with --case crop or all');
  const overlap = parseOverlap(v.overlap);
  const shortScanPad = v['short-scan-pad'] ?? 'edge';
  if (shortScanPad !== 'edge' && shortScanPad !== 'air') throw new UsageError('--short-scan-pad must be edge or air');
  const modelDir = v.model ? resolve(v.model) : resolveModelDir(starter);
  const data = v.data ? resolve(v.data) : defaultRealCtDir();
  const files = Object.values(REAL_CT_FILES).map((f) => join(data, f));
  if (which !== 'none' && !files.every((f) => existsSync(f)))
    throw new InputError(data, 'the real CT test data is not there');

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
    const classes = loaded.meta.classes;
    const report: Record<string, unknown> = {
      bench: 'real-ct',
      model: modelDir,
      schema: loaded.meta.schema,
      tta: !!v.tta,
      ...(overlap !== undefined ? { overlap } : {}),
      shortScanPad,
      // Whether the shared CT (or anything made from it) was in this model's training data.
      seen: loaded.meta.realDataSeen ?? false,
      cases: [] as unknown[],
    };
    const cases = report.cases as unknown[];
    const predictOpts = { tta: !!v.tta, overlap, shortScanPad } as const;
    const seg = which === 'none' ? null : await readNifti(join(data, REAL_CT_FILES.labels));
    if (seg && (which === 'all' || which === 'full')) {
      const file = join(data, REAL_CT_FILES.full);
      const image = await readNifti(file);
      const [ni, nj, nk] = image.dims;
      if (seg.dims[0] !== ni || seg.dims[1] !== nj || seg.dims[2] + CROP_FIRST_SLICE > nk)
        throw new InputError(
          file,
          `dims ${image.dims.join('×')} do not hold the labelled slices ${CROP_FIRST_SLICE}..`,
        );
      cases.push(await scoreCase('full', image, seg, model, classes, predictOpts));
      for (const p of perturb) cases.push(await scorePerturbed(p, image, seg, model, classes, predictOpts));
    }
    if (seg && (which === 'all' || which === 'crop')) {
      const file = join(data, REAL_CT_FILES.crop);
      const image = await readNifti(file);
      if (image.dims.some((d, a) => d !== seg.dims[a]))
        throw new InputError(file, `dims ${image.dims.join('×')} differ from the labels' ${seg.dims.join('×')}`);
      cases.push(await scoreCase('crop', image, seg, model, classes, predictOpts));
      for (const p of enhance) cases.push(await scoreEnhanced(p, image, seg, model, classes, predictOpts));
    }
    for (const file of absent) cases.push(await scoreAbsentCase(await readVolume(file), model, classes, predictOpts));
    console.log(JSON.stringify(report, null, v.json ? undefined : 2));
    return 0;
  } finally {
    loaded.net.dispose();
  }
}
