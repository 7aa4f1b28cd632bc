// Cornerstone side of the uncertainty heat map: the case's uint8 uncertainty as a second,
// non-editable labelmap on the MPR views, with a 256-entry heat colour table and its own opacity.
// The label overlay stays the active segmentation (this one is drawn as an inactive one).
import { cache, volumeLoader, type Types } from '@cornerstonejs/core';
import { Enums as ToolEnums, segmentation } from '@cornerstonejs/tools';
import { heatLut, thresholdUncertainty } from './heatColormap';
import { removeSegmentationVolume } from '../labels/labelmapOverlay';

const LABELMAP = ToolEnums.SegmentationRepresentations.Labelmap;
let counter = 0;

export class UncertaintyOverlay {
  readonly segmentationId: string;
  readonly #volumeId: string;
  readonly #viewportIds: string[];
  /** The map as read (the threshold draws from it). */
  readonly #data: Uint8Array;
  #threshold = 0;

  /** `data`: uint8 on the image grid; `labelSegmentationId`: the label overlay, kept active. */
  constructor(
    imageVolumeId: string,
    viewportIds: string[],
    data: Uint8Array,
    labelSegmentationId: string | null,
    opacity: number,
  ) {
    const n = ++counter;
    // No ':' in ids (see localVolume.ts).
    this.#volumeId = `deformux_uncertainty_${n}`;
    this.segmentationId = `deformux_unc_seg_${n}`;
    this.#viewportIds = viewportIds;
    const volume = volumeLoader.createAndCacheDerivedLabelmapVolume(imageVolumeId, { volumeId: this.#volumeId });
    const vm = volume.voxelManager as Types.IVoxelManager<number>;
    const [ni, nj, nk] = volume.dimensions;
    if (data.length !== ni * nj * nk) {
      cache.removeVolumeLoadObject(this.#volumeId);
      throw new Error(`the uncertainty map has ${data.length} voxels, the image ${ni}×${nj}×${nk}`);
    }
    this.#data = data;
    vm.setCompleteScalarDataArray?.(data);
    segmentation.addSegmentations([
      { segmentationId: this.segmentationId, representation: { type: LABELMAP, data: { volumeId: this.#volumeId } } },
    ]);
    // Its own colour table: the default one is shared with the label overlay's class colours.
    const lut = heatLut() as Types.Color[];
    const map: Record<string, { segmentationId: string; config: { colorLUTOrIndex: Types.Color[] } }[]> = {};
    for (const vp of viewportIds) map[vp] = [{ segmentationId: this.segmentationId, config: { colorLUTOrIndex: lut } }];
    segmentation.addLabelmapRepresentationToViewportMap(map);
    for (const vp of viewportIds) {
      segmentation.config.style.setRenderInactiveSegmentations(vp, true);
      if (labelSegmentationId) segmentation.activeSegmentation.setActiveSegmentation(vp, labelSegmentationId);
    }
    this.setOpacity(opacity);
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(this.segmentationId);
  }

  /** Overall opacity 0..1 (multiplies the colour table's own alpha ramp). */
  setOpacity(opacity: number): void {
    const a = Math.min(1, Math.max(0, opacity));
    segmentation.config.style.setStyle(
      { type: LABELMAP, segmentationId: this.segmentationId },
      {
        renderFill: true,
        renderFillInactive: true,
        fillAlpha: a,
        fillAlphaInactive: a,
        renderOutline: false,
        renderOutlineInactive: false,
      },
    );
  }

  /** Shows only uncertainty above `t` (0..1); at or under the colour table's floor, all of it. */
  setThreshold(t: number): void {
    if (t === this.#threshold) return;
    this.#threshold = t;
    const volume = cache.getVolume(this.#volumeId);
    const vm = volume?.voxelManager as Types.IVoxelManager<number> | undefined;
    if (!vm) return;
    vm.setCompleteScalarDataArray?.(thresholdUncertainty(this.#data, t));
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(this.segmentationId);
  }

  get viewportIds(): readonly string[] {
    return this.#viewportIds;
  }

  destroy(): void {
    removeSegmentationVolume(this.segmentationId, this.#volumeId);
  }
}
