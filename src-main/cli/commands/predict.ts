// `deformux predict`: pre-labels one CT (NIfTI file or DICOM folder) or a worklist folder with a model folder.
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../index';
import { parseCliArgs, parseOverlap } from '../args';
import { InputError } from '../../imaging/volume';
import { checkInputPath } from '../../imaging/input-path';
import { readVolume } from '../../imaging/read';
import { writeNifti } from '../../imaging/nifti';
import { LABEL_SCHEMAS } from '../../api/contract';
import type { SchemaName } from '../../api/contract';
import { initEngine } from '../../engine/tf';
import { segmentationModelOf } from '../../engine/model/segmentation_model';
import { predictVolume } from '../../predict/predict';
import type { PredictStats } from '../../predict/predict';
import type { SegmentationModel } from '../../predict/types';
import { resolveModelDir } from '../../jobs/model-source';
import { loadModelForSchema } from '../../worker/load-model';
import { fetchSourceToTemp, isDicomwebSource } from '../../dicomweb/connect';

const HELP = `Usage: deformux predict IN --schema kidney|pancreas [--model DIR] --out OUT.nii.gz [--uncertainty U.nii.gz] [--tta]
       deformux predict INDIR --schema kidney|pancreas [--model DIR] --out OUTDIR [--uncertainty UDIR] [--tta]

  IN               a NIfTI file (.nii, .nii.gz), a DICOM folder, or a series on a DICOMweb server:
                   dicomweb+http(s)://HOST/ROOT/studies/UID/series/UID (token from
                   DEFORMUX_DICOMWEB_TOKEN, or --credentials FILE; --ca FILE for a private CA)
  INDIR            a worklist: every .nii/.nii.gz file and every sub-folder (DICOM) is one case;
                   labels go to OUTDIR/<case>.nii.gz (used when --out does not end in .nii or .nii.gz)
  --model DIR      model folder (default: resources/models/<schema>-lite, see npm run train:starter)
  --uncertainty    also write the per-voxel uncertainty (0..1, float32)
  --tta            mirror test-time augmentation along the axes the model was trained mirrored (the
                   kidney starter: left-right, 2 runs per patch; the pancreas starter: none, no effect)
  --overlap F      sliding-window overlap (default 0.5); --no-postprocess keeps the raw argmax
  --no-crop        run the windows over the whole scan, not only the body's bounding box (> -500 HU)
  --no-denoise     never smooth the scan for its noise (default: smoothed on the model grid when its
                   noise is above 28 HU, as a low-dose 3 mm scan can be)
  --json           one JSON summary line per case on stdout`;

const NIFTI = /\.nii(\.gz)?$/i;

interface CaseOutcome {
  name: string;
  ok: boolean;
  message: string;
  seconds: number;
  voxelsPerClass?: number[];
}

function progressLine(prefix: string): (f: number, msg: string) => void {
  let last = -1;
  let lastQuarter = -1;
  const tty = process.stderr.isTTY;
  return (f, msg) => {
    const pct = Math.floor(f * 100);
    if (pct === last) return;
    last = pct;
    const width = 24;
    const filled = Math.round((pct / 100) * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    // Without a terminal (logs, tests) print only every 25 % so the output stays short.
    if (tty) process.stderr.write(`\r${prefix}${bar} ${String(pct).padStart(3)}% ${msg}`.padEnd(100));
    else if (Math.floor(pct / 25) !== lastQuarter) {
      lastQuarter = Math.floor(pct / 25);
      process.stderr.write(`${prefix}${bar} ${String(pct).padStart(3)}% ${msg}\n`);
    }
  };
}

function summaryOf(classNames: string[], stats: PredictStats): string {
  return classNames
    .map((n, c) => `${n} ${stats.voxelsPerClass[c] ?? 0}`)
    .slice(1)
    .join(', ');
}

async function predictOne(
  input: string,
  out: string,
  uncertaintyOut: string | undefined,
  model: SegmentationModel,
  opts: {
    schema: SchemaName | undefined;
    tta: boolean;
    overlap: number;
    postprocess: boolean;
    cropToBody: boolean;
    denoise: boolean;
    prefix: string;
  },
): Promise<{ stats: PredictStats }> {
  const image = await readVolume(input);
  const res = await predictVolume(image, model, {
    tta: opts.tta,
    overlap: opts.overlap,
    schema: opts.schema,
    postprocess: opts.postprocess,
    cropToBody: opts.cropToBody,
    denoise: opts.denoise,
    uncertaintyFormat: 'float32',
    onProgress: progressLine(opts.prefix),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  await writeNifti(out, res.label);
  if (uncertaintyOut && res.uncertainty) await writeNifti(uncertaintyOut, res.uncertainty);
  return { stats: res.stats };
}

/** The cases of a worklist folder: NIfTI files and sub-folders, sorted by name. */
async function listWorklist(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const kept = await Promise.all(
    entries.map(async (e) => {
      if (!e.isSymbolicLink()) return (e.isFile() && NIFTI.test(e.name)) || e.isDirectory();
      // A link counts as what it points at; a dangling link to a scan stays, so its case fails naming it.
      const target = await fs.stat(join(dir, e.name)).catch(() => null);
      if (!target) return NIFTI.test(e.name);
      return (target.isFile() && NIFTI.test(e.name)) || target.isDirectory();
    }),
  );
  return entries
    .filter((_, i) => kept[i])
    .map((e) => e.name)
    .sort();
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    {
      schema: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      uncertainty: { type: 'string' },
      tta: { type: 'boolean' },
      overlap: { type: 'string' },
      'no-postprocess': { type: 'boolean' },
      'no-crop': { type: 'boolean' },
      'no-denoise': { type: 'boolean' },
      json: { type: 'boolean' },
      credentials: { type: 'string' },
      ca: { type: 'string' },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.out)
    throw new UsageError(`give one input (file or folder) and --out.\n${HELP}`);
  let input = positionals[0];
  const out = values.out as string;
  const schemaArg = values.schema as string | undefined;
  if (schemaArg !== undefined && !(schemaArg in LABEL_SCHEMAS))
    throw new UsageError(`--schema must be one of ${Object.keys(LABEL_SCHEMAS).join(', ')}, got '${schemaArg}'`);
  if (!schemaArg && !values.model) throw new UsageError('--schema is required unless --model DIR is given');
  const overlap = parseOverlap(values.overlap) ?? 0.5;
  const uncertainty = values.uncertainty as string | undefined;
  const batch = !NIFTI.test(out);
  if (!batch && uncertainty && !NIFTI.test(uncertainty))
    throw new UsageError('--uncertainty must name a .nii or .nii.gz file when --out does');

  // A DICOMweb series is retrieved first into a temporary folder, then read like any DICOM folder.
  let remote: Awaited<ReturnType<typeof fetchSourceToTemp>> | null = null;
  if (isDicomwebSource(input)) {
    if (batch) throw new UsageError('a dicomweb+http(s) source is one series: give --out a .nii.gz file name');
    remote = await fetchSourceToTemp(input, {
      credentialsFile: values.credentials as string | undefined,
      caFile: values.ca as string | undefined,
      onProgress: progressLine('retrieve '),
    });
    input = remote.dir;
  }
  try {
    return await predictInput(
      input,
      remote ? remote.seriesUid : basename(input),
      out,
      uncertainty,
      batch,
      values,
      schemaArg,
      overlap,
    );
  } finally {
    await remote?.cleanup();
  }
}

async function predictInput(
  input: string,
  displayName: string,
  out: string,
  uncertainty: string | undefined,
  batch: boolean,
  values: Record<string, string | boolean | undefined>,
  schemaArg: string | undefined,
  overlap: number,
): Promise<number> {
  // Check the input exists before the (slow) model load, so a typo fails at once.
  const isDir = (await checkInputPath(input)) === 'dir';
  if (batch && !isDir) throw new UsageError(`--out '${out}' is a folder name, so the input must be a worklist folder`);

  const schema = schemaArg as SchemaName | undefined;
  const modelDir = resolveModelDir(schema ?? 'kidney', values.model as string | undefined);
  await initEngine();
  const loaded = await loadModelForSchema(modelDir, schema);
  const effectiveSchema =
    schema ?? (loaded.meta.schema in LABEL_SCHEMAS ? (loaded.meta.schema as SchemaName) : undefined);
  const model = segmentationModelOf(loaded);
  const names = loaded.meta.classes;
  const common = {
    schema: effectiveSchema,
    tta: !!values.tta,
    overlap,
    postprocess: !values['no-postprocess'],
    cropToBody: !values['no-crop'],
    denoise: !values['no-denoise'],
  };
  const report = (o: CaseOutcome): void => {
    if (values.json) console.log(JSON.stringify(o));
    else if (o.ok) process.stderr.write(`${o.name}: ${o.seconds.toFixed(1)} s; voxels: ${o.message}\n`);
    else process.stderr.write(`${o.name}: FAILED: ${o.message}\n`);
  };
  try {
    if (!batch) {
      const t0 = performance.now();
      const { stats } = await predictOne(input, out, uncertainty, model, { ...common, prefix: '' });
      const seconds = (performance.now() - t0) / 1000;
      report({
        name: displayName,
        ok: true,
        message: summaryOf(names, stats),
        seconds,
        voxelsPerClass: stats.voxelsPerClass,
      });
      return 0;
    }
    const cases = await listWorklist(input);
    if (cases.length === 0) throw new InputError(input, 'holds no NIfTI files or DICOM folders');
    await fs.mkdir(out, { recursive: true });
    if (uncertainty) await fs.mkdir(uncertainty, { recursive: true });
    const outcomes: CaseOutcome[] = [];
    for (let n = 0; n < cases.length; n++) {
      const name = cases[n];
      const stem = name.replace(NIFTI, '');
      const t0 = performance.now();
      let o: CaseOutcome;
      try {
        const { stats } = await predictOne(
          join(input, name),
          join(out, `${stem}.nii.gz`),
          uncertainty ? join(uncertainty, `${stem}.nii.gz`) : undefined,
          model,
          { ...common, prefix: `[${n + 1}/${cases.length}] ${stem} ` },
        );
        o = {
          name,
          ok: true,
          message: summaryOf(names, stats),
          seconds: (performance.now() - t0) / 1000,
          voxelsPerClass: stats.voxelsPerClass,
        };
      } catch (err) {
        // A bad case must not stop the worklist: note it and go on; only our own bugs are rethrown.
        if (!(err instanceof InputError)) throw err;
        o = { name, ok: false, message: err.message, seconds: (performance.now() - t0) / 1000 };
      }
      outcomes.push(o);
      report(o);
    }
    const failed = outcomes.filter((o) => !o.ok);
    process.stderr.write(`${outcomes.length - failed.length} of ${outcomes.length} cases pre-labelled into ${out}\n`);
    if (failed.length > 0) {
      process.stderr.write(`${failed.length} failed:\n${failed.map((f) => `  ${f.name}: ${f.message}`).join('\n')}\n`);
      return 1;
    }
    return 0;
  } finally {
    loaded.net.dispose();
  }
}
