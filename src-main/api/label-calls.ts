// The label-version calls: save/submit uploaded label voxels, per-case stats, exports.
import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { exportDicomSeg, exportLabelNifti } from '../export';
import { exportsDir } from '../jobs/file-jobs';
import type { Volume } from '../imaging/volume';
import { changedVoxels, compareLabels } from '../labels/metrics';
import type { ProjectStore } from '../store/project';
import type { CaseStats, CaseStatus, ExportFormat, LabelVersionInfo, SaveLabelRequest } from './contract';
import { ApiRequestError } from './errors';

/** The OS account running src-main: the annotator of a desktop app (no log-in of its own). */
export function osUserName(): string {
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry (some containers): fall back to the environment.
  }
  return process.env.USER || process.env.USERNAME || 'unknown';
}

/** Strips what stays inside src-main (row id, checksum) from a stored version. */
export function publicVersion<T extends LabelVersionInfo>(
  v: T & { id: number; voxelsSha256: string | null },
): LabelVersionInfo {
  const { id: _rowId, voxelsSha256: _sha, ...info } = v;
  return info;
}

/** Saves of one case run one after another, so a slow autosave and a submit never interleave. */
const caseQueues = new WeakMap<ProjectStore, Map<string, Promise<unknown>>>();

function serialised<T>(store: ProjectStore, caseId: string, run: () => Promise<T>): Promise<T> {
  let queues = caseQueues.get(store);
  if (!queues) caseQueues.set(store, (queues = new Map()));
  const before = queues.get(caseId) ?? Promise.resolve();
  const next = before.then(run, run);
  const settled = next.catch(() => undefined);
  queues.set(caseId, settled);
  // Drop the entry when nothing newer queued behind it, so the map does not grow with every case.
  void settled.then(() => {
    if (queues.get(caseId) === settled) queues.delete(caseId);
  });
  return next;
}

/**
 * The last label saved per project (one, to bound memory): autosave's next parent is usually it,
 * so its voxel diff needs no gunzip of the parent file.
 */
const lastSaved = new WeakMap<ProjectStore, { caseId: string; version: number; data: Uint8Array }>();

async function parentVoxels(store: ProjectStore, caseId: string, version: number): Promise<ArrayLike<number>> {
  const hit = lastSaved.get(store);
  if (hit && hit.caseId === caseId && hit.version === version) return hit.data;
  return (await store.loadLabel(caseId, version)).data;
}

/**
 * The parent's voxels as an array this save may change in place: the cached copy is taken out of
 * the cache (saves of a case are serialised; the new version goes back in on success), and a
 * freshly read one belongs to nobody else. Saves a 79 MB copy per autosave of a full-size label.
 */
async function takeParentVoxels(store: ProjectStore, caseId: string, version: number): Promise<Uint8Array> {
  const hit = lastSaved.get(store);
  if (hit && hit.caseId === caseId && hit.version === version) {
    lastSaved.delete(store);
    return hit.data;
  }
  const data = (await store.loadLabel(caseId, version)).data;
  return data instanceof Uint8Array ? data : Uint8Array.from(data);
}

/**
 * Remembers voxels just read for the renderer: the case's next save is usually an edit of them.
 * A copy, because a sparse save changes the cached array in place and the caller keeps its own;
 * it is made once per opened case, where the save path would otherwise read and gunzip the file.
 */
export function rememberLabel(store: ProjectStore, caseId: string, version: number, data: Uint8Array): void {
  lastSaved.set(store, { caseId, version, data: data.slice() });
}

function voxelCount(store: ProjectStore, caseId: string): { voxels: number; dims: string } {
  const header = store.caseHeader(caseId);
  return { voxels: header.dims[0] * header.dims[1] * header.dims[2], dims: header.dims.join('×') };
}

/** Throws unless every value is 0 or one of the schema's classes (`at` maps a position to its voxel). */
function checkClassValues(store: ProjectStore, values: Uint8Array, at: (n: number) => number): void {
  const schema = store.info().schema;
  const allowed = new Uint8Array(256);
  allowed[0] = 1;
  for (const c of schema.classes) allowed[c.value] = 1;
  for (let n = 0; n < values.length; n++) {
    if (allowed[values[n]] === 0) {
      throw new ApiRequestError(
        400,
        `cases.saveLabel: voxel ${at(n)} holds class ${values[n]}, which the ${schema.name} schema does not have (0, ${schema.classes.map((c) => c.value).join(', ')}).`,
      );
    }
  }
}

/** Checks the uploaded bytes are a label map of the case's image grid with the schema's classes. */
function checkLabelBytes(store: ProjectStore, caseId: string, data: Uint8Array): void {
  const { voxels, dims } = voxelCount(store, caseId);
  if (data.byteLength !== voxels) {
    throw new ApiRequestError(
      400,
      `cases.saveLabel: case ${caseId} has ${dims} = ${voxels} voxels, but ${data.byteLength} bytes were sent (one uint8 class value per voxel).`,
    );
  }
  checkClassValues(store, data, (n) => n);
}

/** A sparse save's body: strictly increasing voxel indices and their new class values. */
export interface SparseLabelChange {
  indices: Uint32Array;
  values: Uint8Array;
}

/** Splits and checks a sparse body (see SaveLabelRequest.encoding). */
export function parseSparseChange(
  store: ProjectStore,
  caseId: string,
  changes: number,
  body: Uint8Array,
): SparseLabelChange {
  if (body.byteLength !== changes * 5) {
    throw new ApiRequestError(
      400,
      `cases.saveLabel: a sparse save of ${changes} voxels needs ${changes * 5} bytes (uint32 indices, then uint8 values), but ${body.byteLength} were sent.`,
    );
  }
  const { voxels } = voxelCount(store, caseId);
  // Copy the indices out: the body's offset need not be 4-byte aligned.
  const indices = new Uint32Array(changes);
  const view = new DataView(body.buffer, body.byteOffset, changes * 4);
  let previous = -1;
  for (let n = 0; n < changes; n++) {
    const i = view.getUint32(n * 4, true);
    if (i <= previous || i >= voxels) {
      throw new ApiRequestError(
        400,
        `cases.saveLabel: sparse index ${n} is ${i}; indices must increase strictly and stay below the case's ${voxels} voxels.`,
      );
    }
    indices[n] = i;
    previous = i;
  }
  const values = body.slice(changes * 4);
  checkClassValues(store, values, (n) => indices[n]);
  return { indices, values };
}

/** Writes uploaded voxels as the case's next version (atomic file, then one transaction). */
export async function saveLabel(
  store: ProjectStore,
  req: SaveLabelRequest,
  body: Uint8Array,
): Promise<LabelVersionInfo> {
  const sparse = req.encoding === 'sparse' ? parseSparseChange(store, req.caseId, req.changes ?? 0, body) : null;
  if (!sparse) checkLabelBytes(store, req.caseId, body);
  if (
    req.restoredFrom !== undefined &&
    !store.listLabelVersions(req.caseId).some((v) => v.version === req.restoredFrom)
  )
    throw new ApiRequestError(
      404,
      `cases.saveLabel: case ${req.caseId} has no version ${req.restoredFrom} to restore.`,
    );
  return serialised(store, req.caseId, async () => {
    const header = store.caseHeader(req.caseId);
    let voxelsChanged: number | undefined;
    // Provenance: an edit of a pre-label (directly or through earlier edits) names the model behind it.
    const parentInfo =
      req.parentVersion === null
        ? undefined
        : store.listLabelVersions(req.caseId).find((v) => v.version === req.parentVersion);
    let data: Uint8Array;
    if (sparse) {
      const parent = req.parentVersion === null ? null : await takeParentVoxels(store, req.caseId, req.parentVersion);
      data = parent ?? new Uint8Array(header.dims[0] * header.dims[1] * header.dims[2]);
      let changed = 0;
      for (let n = 0; n < sparse.indices.length; n++) {
        const i = sparse.indices[n];
        if (data[i] !== sparse.values[n]) changed++;
        data[i] = sparse.values[n];
      }
      if (parent) voxelsChanged = changed;
    } else {
      data = body;
      if (req.parentVersion !== null)
        voxelsChanged = changedVoxels((await parentVoxels(store, req.caseId, req.parentVersion)) as Uint8Array, data);
    }
    const label: Volume = {
      dims: header.dims,
      spacingMm: header.spacingMm,
      originMm: header.originMm,
      direction: header.direction as Volume['direction'],
      data,
      modality: 'SEG',
      description: req.submit ? 'submitted label' : 'edited label',
      source: `label of case ${req.caseId}`,
    };
    const status: CaseStatus = req.submit ? 'submitted' : 'in_progress';
    const saved = await store.addLabelVersion(req.caseId, label, {
      kind: 'edit',
      ...(parentInfo?.modelId ? { modelId: parentInfo.modelId } : {}),
      editor: osUserName(),
      voxelsChanged,
      submitted: req.submit,
      parentVersion: req.parentVersion,
      activeEditSeconds: req.activeEditSeconds,
      ...(req.restoredFrom !== undefined ? { restoredFrom: req.restoredFrom } : {}),
      status,
    });
    // A full body belongs to the caller (in-process callers keep using it): cache a copy of it.
    lastSaved.set(store, { caseId: req.caseId, version: saved.version, data: sparse ? data : data.slice() });
    return publicVersion(saved);
  });
}

/** Changed voxels since the first prediction, Dice prediction vs submitted, active editing minutes. */
export async function caseStats(store: ProjectStore, caseId: string): Promise<CaseStats> {
  const summary = store.getCase(caseId);
  const versions = store.listLabelVersions(caseId);
  const activeEditMinutes = versions.reduce((sum, v) => sum + v.activeEditSeconds, 0) / 60;
  const prediction = versions.find((v) => v.kind === 'prediction');
  const latest = versions.at(-1);
  const submitted = versions.filter((v) => v.submitted).at(-1);
  let voxelsChangedSincePrelabel: number | null = null;
  let dicePrelabelVsSubmitted: number | null = null;
  if (prediction && latest) {
    const pre = await store.loadLabel(caseId, prediction.version);
    const last = latest.version === prediction.version ? pre : await store.loadLabel(caseId, latest.version);
    voxelsChangedSincePrelabel = changedVoxels(pre.data, last.data);
    if (submitted) {
      const sub = submitted.version === latest.version ? last : await store.loadLabel(caseId, submitted.version);
      const classValues = store.info().schema.classes.map((c) => c.value);
      // meanDice is null when no class is present in either map: both agree there is nothing, so 1.
      dicePrelabelVsSubmitted = compareLabels(pre.data, sub.data, classValues).meanDice ?? 1;
    }
  }
  return { caseId, status: summary.status, voxelsChangedSincePrelabel, dicePrelabelVsSubmitted, activeEditMinutes };
}

/** Writes one label version (latest by default) as NIfTI or DICOM SEG under exports/. */
export async function exportCase(
  store: ProjectStore,
  req: { caseId: string; format: ExportFormat; version?: number },
): Promise<{ path: string }> {
  const versions = store.listLabelVersions(req.caseId);
  const version = req.version ?? versions.at(-1)?.version;
  if (version === undefined) throw new ApiRequestError(400, `case ${req.caseId} has no label to export yet.`);
  const info = versions.find((v) => v.version === version);
  if (!info) throw new ApiRequestError(404, `case ${req.caseId} has no label version ${version}.`);
  const source = req.format === 'dicom-seg' ? store.dicomSource(req.caseId) : null;
  if (req.format === 'dicom-seg' && !source) {
    throw new ApiRequestError(
      400,
      `case ${req.caseId} was not imported from DICOM (or before source series were kept): DICOM SEG needs the source CT series; export NIfTI instead.`,
    );
  }
  const [image, label] = await Promise.all([store.loadImage(req.caseId), store.loadLabel(req.caseId, version)]);
  await mkdir(exportsDir(store), { recursive: true });
  if (source) {
    const path = join(exportsDir(store), `${req.caseId}_v${version}.seg.dcm`);
    // An edit of an AI pre-label is SEMIAUTOMATIC; a pure prediction AUTOMATIC; anything else MANUAL.
    const fromModel = versions.some((v) => v.kind === 'prediction' && v.version <= version);
    const algorithmType = info.kind === 'prediction' ? 'AUTOMATIC' : fromModel ? 'SEMIAUTOMATIC' : 'MANUAL';
    const modelId = versions.find((v) => v.kind === 'prediction' && v.version <= version)?.modelId;
    await exportDicomSeg(path, label, image, source, {
      schema: store.info().schema,
      algorithmType,
      ...(algorithmType === 'MANUAL' ? {} : { algorithmName: modelId ?? 'DeformUX-Net' }),
      seriesDescription: `DeformUX label v${version}`,
      ...(info.editor ? { contentCreatorName: info.editor } : {}),
    });
    return { path };
  }
  const path = join(exportsDir(store), `${req.caseId}_v${version}.nii.gz`);
  await exportLabelNifti(path, label, image);
  return { path };
}
