// Reactive state of the MPR viewer (overlays, W/L, readouts); Cornerstone objects live in MprViewer.
import type { PrimaryMode } from './cornerstone';
import type { ViewName, ViewOverlay, VoxelReadout } from './mpr';
import { DEFAULT_PRESET, presetIdFor, type WindowLevel } from './presets';

export class ViewerState {
  overlays = $state.raw<Record<ViewName, ViewOverlay | null>>({ axial: null, sagittal: null, coronal: null });
  wl = $state.raw<WindowLevel>({ width: DEFAULT_PRESET.width, center: DEFAULT_PRESET.center });
  presetId = $derived(presetIdFor(this.wl));
  hover = $state.raw<VoxelReadout | null>(null);
  cursor = $state.raw<VoxelReadout | null>(null);
  mode = $state<PrimaryMode>('cursor');
  /** The view under the mouse last: keyboard scrolling applies to it. */
  activeView = $state<ViewName>('axial');
  /** Milliseconds from asking for the case to its first rendered image (the volume in the views). */
  timeToFirstImageMs = $state<number | null>(null);
  /** Milliseconds from asking for the case to its preview slice on screen. */
  timeToPreviewMs = $state<number | null>(null);

  setOverlay(view: ViewName, overlay: ViewOverlay): void {
    this.overlays = { ...this.overlays, [view]: overlay };
  }
}
