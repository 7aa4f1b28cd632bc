// nnU-Net v2 raw dataset export of submitted cases: DatasetXXX_Name/{imagesTr,labelsTr,dataset.json}.
// Built in a hidden temp folder beside the target and renamed into place at the end, so the target
// is either absent or complete; cancelling or failing removes the temp folder.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeNifti } from '../imaging/nifti';
import type { Volume } from '../imaging/volume';
import type { LabelSchema } from '../labels/schemas';
import { writeFileAtomic } from '../util/atomic';
import { asUint8Label, assertLabelValues, assertSameGrid } from './grid';

export interface NnunetCase {
  /** Case identifier, used in file names: letters, digits, '-' and '_' (e.g. "case_0007"). */
  caseId: string;
  /** Loaded one case at a time, so a large dataset never sits in memory at once. */
  loadImage: () => Promise<Volume>;
  loadLabel: () => Promise<Volume>;
}

export interface NnunetExportOptions {
  /** Folder that receives DatasetXXX_Name (nnUNet_raw). */
  outDir: string;
  /** 1..999 (nnU-Net's dataset id). */
  datasetId: number;
  /** Letters, digits, '-' and '_'. */
  datasetName: string;
  schema: LabelSchema;
  cases: readonly NnunetCase[];
  /** Extra text for dataset.json, e.g. "synthetic phantoms". */
  description?: string;
  /** Replace an existing dataset folder of the same name (default: refuse). */
  overwrite?: boolean;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

export interface NnunetExportResult {
  datasetDir: string;
  numTraining: number;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  if (signal.reason instanceof Error) throw signal.reason;
  const err = new Error('nnU-Net export was cancelled');
  err.name = 'AbortError';
  throw err;
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}

/** dataset.json as nnU-Net v2 reads it (labels: name → value, background 0). */
export function nnunetDatasetJson(
  opts: Pick<NnunetExportOptions, 'datasetName' | 'schema' | 'description'>,
  numTraining: number,
): object {
  const labels: Record<string, number> = { background: 0 };
  for (const c of [...opts.schema.classes].sort((a, b) => a.value - b.value)) labels[c.name] = c.value;
  return {
    name: opts.datasetName,
    description: opts.description ?? `${opts.schema.title}, exported by DeformUX Annotator`,
    channel_names: { '0': 'CT' },
    labels,
    numTraining,
    file_ending: '.nii.gz',
  };
}

function checkOptions(opts: NnunetExportOptions): string {
  if (!Number.isInteger(opts.datasetId) || opts.datasetId < 1 || opts.datasetId > 999) {
    throw new Error(`nnU-Net dataset id must be a whole number 1..999, got ${opts.datasetId}`);
  }
  if (!SAFE_NAME.test(opts.datasetName)) {
    throw new Error(`nnU-Net dataset name "${opts.datasetName}" may only hold letters, digits, '-' and '_'`);
  }
  if (opts.cases.length === 0) throw new Error('nnU-Net export needs at least one submitted case');
  const seen = new Set<string>();
  for (const c of opts.cases) {
    if (!SAFE_NAME.test(c.caseId)) throw new Error(`case id "${c.caseId}" may only hold letters, digits, '-' and '_'`);
    if (seen.has(c.caseId)) throw new Error(`case id "${c.caseId}" appears twice`);
    seen.add(c.caseId);
  }
  return `Dataset${String(opts.datasetId).padStart(3, '0')}_${opts.datasetName}`;
}

export async function exportNnunetDataset(opts: NnunetExportOptions): Promise<NnunetExportResult> {
  const folder = checkOptions(opts);
  const datasetDir = join(opts.outDir, folder);
  if (!opts.overwrite && (await exists(datasetDir))) {
    throw new Error(`${datasetDir} already exists; choose another dataset id or name, or allow overwriting`);
  }
  const tmpDir = join(opts.outDir, `.${folder}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await fs.mkdir(join(tmpDir, 'imagesTr'), { recursive: true });
  await fs.mkdir(join(tmpDir, 'labelsTr'));
  try {
    const total = opts.cases.length;
    for (let n = 0; n < total; n++) {
      throwIfAborted(opts.signal);
      const c = opts.cases[n];
      opts.onProgress?.(n / total, `Exporting case ${c.caseId} (${n + 1} of ${total})`);
      const image = await c.loadImage();
      const label = await c.loadLabel();
      const what = `case ${c.caseId}`;
      assertSameGrid(what, label, image);
      assertLabelValues(what, label);
      throwIfAborted(opts.signal);
      await writeNifti(join(tmpDir, 'imagesTr', `${c.caseId}_0000.nii.gz`), image);
      await writeNifti(join(tmpDir, 'labelsTr', `${c.caseId}.nii.gz`), {
        ...asUint8Label(label),
        spacingMm: image.spacingMm,
        originMm: image.originMm,
        direction: image.direction,
        modality: 'SEG',
      });
    }
    throwIfAborted(opts.signal);
    await writeFileAtomic(join(tmpDir, 'dataset.json'), `${JSON.stringify(nnunetDatasetJson(opts, total), null, 2)}\n`);
    await publish(tmpDir, datasetDir);
  } catch (err) {
    await fs.rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
  opts.onProgress?.(1, `Exported ${opts.cases.length} cases to ${datasetDir}`);
  return { datasetDir, numTraining: opts.cases.length };
}

/** Renames the finished temp folder into place; an existing dataset is moved aside first, then removed. */
async function publish(tmpDir: string, datasetDir: string): Promise<void> {
  if (!(await exists(datasetDir))) {
    await fs.rename(tmpDir, datasetDir);
    return;
  }
  const old = `${tmpDir}.old`;
  await fs.rename(datasetDir, old);
  try {
    await fs.rename(tmpDir, datasetDir);
  } catch (err) {
    await fs.rename(old, datasetDir).catch(() => undefined);
    throw err;
  }
  await fs.rm(old, { recursive: true, force: true });
}
