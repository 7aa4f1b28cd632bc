// Label-version helpers of the store: voxel checks, the row → API mapping, grid check, checksums.
import { createHash } from 'node:crypto';
import type { VolumeHeader } from '../domain/cases';
import type { Volume } from '../imaging/volume';
import { StoreRequestError } from './errors';
import type { LabelVersionSummary } from './project';
import type { LabelVersionRow } from './rows';

/** Hex SHA-256 of a label's uint8 voxels: stored with each version so a restore can be verified. */
/**
 * SHA-256 of the voxels, 4 MiB at a time with a turn of the event loop between: a 512×512×300 label hashed in
 * one call held the main process for ~50 ms (the app must answer the page while it saves).
 */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  const step = 4 * 1024 * 1024;
  for (let at = 0; at < data.length; at += step) {
    hash.update(data.subarray(at, Math.min(data.length, at + step)));
    if (at + step < data.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return hash.digest('hex');
}

/** Label voxels as uint8 class values; refuses values a label map cannot hold. */
export function labelVoxels(label: Volume, caseId: string): Uint8Array {
  if (label.data instanceof Uint8Array) return label.data;
  for (let n = 0; n < label.data.length; n++) {
    const x = label.data[n];
    if (!Number.isInteger(x) || x < 0 || x > 255) {
      throw new StoreRequestError(
        `label for case ${caseId}: voxel ${n} holds ${x}; class values must be whole numbers 0-255.`,
      );
    }
  }
  return Uint8Array.from(label.data);
}

export function labelVersionOf(row: LabelVersionRow, parentVersion: number | null): LabelVersionSummary {
  return {
    id: row.id,
    caseId: row.case_id,
    version: row.version,
    kind: row.kind,
    submitted: row.submitted === 1,
    parentVersion,
    modelId: row.model_id,
    editor: row.editor,
    voxelsChanged: row.voxels_changed,
    activeEditSeconds: row.active_edit_seconds,
    restoredFrom: row.restored_from ?? null,
    createdAt: row.created_at,
    voxelsSha256: row.voxels_sha256,
  };
}

/** Labels must share the image's dims and affine (1e-3 mm / 1e-4 direction tolerance for float noise). */
export function assertSameGrid(image: VolumeHeader, label: Volume): void {
  const where = `label for case ${image.caseId}`;
  if (label.dims.join() !== image.dims.join()) {
    throw new StoreRequestError(`${where}: ${label.dims.join('×')} voxels, but the image has ${image.dims.join('×')}.`);
  }
  const close = (a: readonly number[], b: readonly number[], tol: number) =>
    a.every((x, n) => Math.abs(x - b[n]) <= tol);
  if (
    !close(label.spacingMm, image.spacingMm, 1e-4) ||
    !close(label.originMm, image.originMm, 1e-3) ||
    !close(label.direction, image.direction, 1e-4)
  ) {
    throw new StoreRequestError(
      `${where}: its spacing, origin or orientation differs from the image's; labels must lie on the image grid.`,
    );
  }
}
