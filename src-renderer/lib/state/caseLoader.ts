// Opening a case: its header, then one slice per view for the quick preview (the axial one asked for
// first), then the whole volume with progress. Everything stops on the signal (the annotator picked
// another case); a preview slice that fails only costs the preview. No Svelte state, no DOM types.
import type { DeformuxApi, VolumeHeader } from '../../../src-main/api/contract';
import type { Vec3 } from '../viewer/geometry';
import { openingVoxel, previewPlanes, type PreviewPlane } from '../viewer/slicePreview';
import { VIEW_NAMES, type ViewName } from '../viewer/viewNames';
import { voxelsFromBuffer, type VoxelData } from '../viewer/voxelData';

export interface CaseLoadHooks {
  signal: AbortSignal;
  /** The voxel the case was left at before (the views and the preview open there), if any. */
  placeOf?(header: VolumeHeader): Vec3 | undefined;
  /** The header is known and the preview's planes are chosen. */
  onHeader?(header: VolumeHeader, planes: Record<ViewName, PreviewPlane>): void;
  /** One view's preview slice arrived (array layout of PreviewPlane.width × height). */
  onSlice?(view: ViewName, data: VoxelData): void;
  /** Fraction 0..1 of the volume received. */
  onProgress?(fraction: number): void;
}

/** Views a slice payload as the header's element type, checking its length. */
export function sliceFromBuffer(header: VolumeHeader, plane: PreviewPlane, buffer: ArrayBuffer): VoxelData {
  return voxelsFromBuffer({ ...header, dims: [plane.width, plane.height, 1] }, buffer);
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

export async function loadCase(
  api: DeformuxApi,
  caseId: string,
  hooks: CaseLoadHooks,
): Promise<{ header: VolumeHeader; voxels: VoxelData }> {
  const { signal } = hooks;
  const requested = performance.now();
  const header = await api.call('cases.open', { caseId });
  signal.throwIfAborted();
  const opened = performance.now();
  // Diagnostics read by the benchmarks (tests/browser/load-bench.ts, viewer-bench.ts).
  performance.measure('deformux.case.open', { start: requested, end: opened });
  const planes = previewPlanes(header, openingVoxel(header, hooks.placeOf?.(header)));
  hooks.onHeader?.(header, planes);
  // The requests go out in this order: the axial slice first, so its small answer leads.
  for (const view of VIEW_NAMES) void loadSlice(view);
  async function loadSlice(view: ViewName): Promise<void> {
    const { axis, index } = planes[view];
    try {
      const buffer = await api.binary('cases.sliceData', { caseId, axis, index }, { signal });
      if (!signal.aborted) hooks.onSlice?.(view, sliceFromBuffer(header, planes[view], buffer));
    } catch (e) {
      if (!isAbort(e)) console.warn(`preview of ${view} slice ${index} of case ${caseId}: ${String(e)}`);
    }
  }
  const buffer = await api.binary('cases.volumeData', { caseId }, { signal, onProgress: hooks.onProgress });
  performance.measure('deformux.case.download', { start: opened, end: performance.now() });
  signal.throwIfAborted();
  return { header, voxels: voxelsFromBuffer(header, buffer) };
}
