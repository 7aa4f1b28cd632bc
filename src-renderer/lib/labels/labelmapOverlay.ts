// Cornerstone side of the labels: a derived labelmap volume shown on the MPR views in the schema's
// colours, kept in step with the editor's Uint8Array (which stays the source of truth).
import { cache, volumeLoader, type Types } from '@cornerstonejs/core';
import { Enums as ToolEnums, segmentation } from '@cornerstonejs/tools';
import type { LabelClass } from '../../../src-main/api/contract';

const LABELMAP = ToolEnums.SegmentationRepresentations.Labelmap;
let overlayCounter = 0;

export interface OverlayStyle {
  fillAlpha: number;
  outline: boolean;
  hidden: ReadonlySet<number>;
}

export class LabelmapOverlay {
  readonly segmentationId: string;
  readonly #volumeId: string;
  readonly #viewportIds: string[];
  readonly #dims: [number, number, number];
  readonly #vm: Types.IVoxelManager<number>;
  readonly #classes: LabelClass[];

  constructor(imageVolumeId: string, viewportIds: string[], classes: LabelClass[], labels: Uint8Array) {
    const n = ++overlayCounter;
    // No ':' in ids (see localVolume.ts).
    this.#volumeId = `deformux_labels_${n}`;
    this.segmentationId = `deformux_seg_${n}`;
    this.#viewportIds = viewportIds;
    this.#classes = classes;
    const volume = volumeLoader.createAndCacheDerivedLabelmapVolume(imageVolumeId, { volumeId: this.#volumeId });
    this.#dims = volume.dimensions as [number, number, number];
    this.#vm = volume.voxelManager as Types.IVoxelManager<number>;
    this.#vm.setCompleteScalarDataArray?.(labels);
    segmentation.addSegmentations([
      { segmentationId: this.segmentationId, representation: { type: LABELMAP, data: { volumeId: this.#volumeId } } },
    ]);
    this.#addToViewports();
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(this.segmentationId);
  }

  #addToViewports(): void {
    const map: Record<string, { segmentationId: string }[]> = {};
    for (const vp of this.#viewportIds) map[vp] = [{ segmentationId: this.segmentationId }];
    segmentation.addLabelmapRepresentationToViewportMap(map);
    for (const vp of this.#viewportIds)
      for (const c of this.#classes)
        segmentation.config.color.setSegmentIndexColor(vp, this.segmentationId, c.value, [...c.color, 255]);
  }

  /**
   * Re-adds the labels to the views so that they draw above layers added since (the uncertainty
   * heat map) and are the active segmentation again; call setStyle afterwards (visibility is per view).
   */
  raise(): void {
    for (const vp of this.#viewportIds) segmentation.removeLabelmapRepresentation(vp, this.segmentationId);
    this.#addToViewports();
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(this.segmentationId);
  }

  /** Copies the given voxels from the editor's array and redraws the slices they lie on. */
  sync(labels: Uint8Array, indices: ArrayLike<number>): void {
    if (indices.length === 0) return;
    const sliceSize = this.#dims[0] * this.#dims[1];
    const slices = new Set<number>();
    for (let n = 0; n < indices.length; n++) {
      const i = indices[n];
      this.#vm.setAtIndex(i, labels[i]);
      slices.add(Math.floor(i / sliceSize));
    }
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(this.segmentationId, [...slices]);
  }

  /** Whole-map copy (a restored version). */
  syncAll(labels: Uint8Array): void {
    this.#vm.setCompleteScalarDataArray?.(labels);
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(this.segmentationId);
  }

  setStyle(style: OverlayStyle, classes: LabelClass[]): void {
    segmentation.config.style.setStyle(
      { type: LABELMAP, segmentationId: this.segmentationId },
      { renderFill: true, fillAlpha: style.fillAlpha, renderOutline: style.outline, outlineWidth: 2 },
    );
    for (const vp of this.#viewportIds)
      for (const c of classes)
        segmentation.config.visibility.setSegmentIndexVisibility(
          vp,
          { segmentationId: this.segmentationId, type: LABELMAP },
          c.value,
          !style.hidden.has(c.value),
        );
  }

  /** Test hook: what Cornerstone holds, counted per class (proves the overlay is in step). */
  counts(): number[] {
    const data = this.#vm.getCompleteScalarDataArray?.() ?? [];
    const counts = new Array<number>(256).fill(0);
    for (let n = 0; n < data.length; n++) counts[data[n]]++;
    return counts;
  }

  destroy(): void {
    removeSegmentationVolume(this.segmentationId, this.#volumeId);
  }
}

/** Removes a labelmap segmentation and its volume from Cornerstone, tolerating either being gone already. */
export function removeSegmentationVolume(segmentationId: string, volumeId: string): void {
  try {
    segmentation.removeSegmentation(segmentationId);
  } catch {
    // Already gone with the engine.
  }
  try {
    cache.removeVolumeLoadObject(volumeId);
  } catch {
    // Already gone.
  }
}
