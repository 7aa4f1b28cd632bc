// The 3D label view: a Cornerstone3D VOLUME_3D viewport that volume-renders a copy of the open case's labels,
// each class in its legend colour (background transparent). It has its own rendering engine, so the MPR
// views' renders never wait for a 3D ray cast, and its own copy of the labels, refreshed at most once per
// MIN_UPDATE_INTERVAL_MS from a timer (never inside a stroke); only changed slices are uploaded again. Labels
// of more than MAX_3D_VOXELS are shown shrunk in plane (each voxel the highest label of its block).
// Plain TypeScript: Cornerstone objects stay out of Svelte's reactive state.
import { Enums, RenderingEngine, cache, type Types } from '@cornerstonejs/core';
import { ToolGroupManager } from '@cornerstonejs/tools';
import type { LabelClass, VolumeHeader } from '../../../src-main/api/contract';
import { createView3DToolGroup, initCornerstone } from './cornerstone';
import { copyChangedSlices, inPlaneFactor, labelTransferNodes, shrinkSlice, shrunkGrid } from './labelTransfer';
import { createCaseVolume, releaseCaseVolume, type LoadedVolume } from './localVolume';

export const MIN_UPDATE_INTERVAL_MS = 500;
const VIEWPORT_ID = 'labels3d';
const SAMPLE_DISTANCE_MULTIPLIER = 2;

/** What the view shows: the labels on their image's grid, and how to colour them. */
export interface Labels3DSource {
  header: VolumeHeader;
  labels: Uint8Array;
  classes: readonly LabelClass[];
  hidden: ReadonlySet<number>;
}

let counter = 0;

export class Labels3DView {
  readonly #element: HTMLDivElement;
  readonly #engine: RenderingEngine;
  readonly #groupId: string;
  readonly #read: () => Labels3DSource | null;
  #volume: LoadedVolume | null = null;
  #header: VolumeHeader | null = null;
  /** The labels as the 3D view last copied them, full size (what changes are found against). */
  #copy: Uint8Array | null = null;
  /** The labels the volume shows (its slice images are views of this array): #copy, or #copy shrunk in plane. */
  #shown: Uint8Array | null = null;
  /** In-plane shrink factor of the shown labels (1: full size). */
  #factor = 1;
  #styleKey = '';
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastUpdate = -Infinity;
  /** When the oldest change not yet shown was asked for (for the update-latency measure). */
  #pendingSince: number | null = null;
  #updating = false;
  #destroyed = false;
  readonly #shownAt = performance.now();
  #firstRenderMeasured = false;
  #renders = 0;
  /** The view direction the viewport starts with (anterior), put back by reset(). */
  #startView: Pick<Types.ICamera, 'viewPlaneNormal' | 'viewUp'> | null = null;
  readonly #onRendered = (): void => this.#rendered();

  /** `read` gives the current labels (or null: none loaded); it is called when an update runs, not when asked. */
  constructor(element: HTMLDivElement, read: () => Labels3DSource | null) {
    initCornerstone();
    this.#element = element;
    this.#read = read;
    const n = ++counter;
    const engineId = `deformux-3d-engine-${n}`;
    this.#engine = new RenderingEngine(engineId);
    this.#engine.enableElement({
      viewportId: VIEWPORT_ID,
      type: Enums.ViewportType.VOLUME_3D,
      element,
      defaultOptions: { orientation: Enums.OrientationAxis.CORONAL, background: [0, 0, 0] as Types.Point3 },
    });
    const cam = this.#viewport().getCamera();
    this.#startView = { viewPlaneNormal: cam.viewPlaneNormal, viewUp: cam.viewUp };
    this.#groupId = `deformux-3d-tools-${n}`;
    createView3DToolGroup(this.#groupId, engineId, [VIEWPORT_ID]);
    element.addEventListener(Enums.Events.IMAGE_RENDERED, this.#onRendered);
    element.addEventListener('contextmenu', preventDefault);
    this.requestUpdate();
  }

  #viewport(): Types.IVolumeViewport {
    return this.#engine.getViewport(VIEWPORT_ID) as Types.IVolumeViewport;
  }

  /** Asks for the labels to be shown again; runs at most once per MIN_UPDATE_INTERVAL_MS, from a timer. */
  requestUpdate(): void {
    if (this.#destroyed) return;
    this.#pendingSince ??= performance.now();
    if (this.#timer !== null) return;
    const wait = Math.max(0, this.#lastUpdate + MIN_UPDATE_INTERVAL_MS - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#update().catch((e: unknown) => {
        // The view stays as it was; the slice views and editing are unaffected.
        if (!this.#destroyed) console.error('The 3D label view could not update:', e);
      });
    }, wait);
  }

  async #update(): Promise<void> {
    if (this.#destroyed) return;
    if (this.#updating) {
      // A new volume is still being set up: try again after it.
      this.requestUpdate();
      return;
    }
    this.#updating = true;
    this.#lastUpdate = performance.now();
    try {
      const src = this.#read();
      const vp = this.#viewport();
      if (!src || src.labels.length !== src.header.dims[0] * src.header.dims[1] * src.header.dims[2]) {
        this.#clear();
        return;
      }
      let changed: number[] | null;
      if (!this.#shown || !this.#header || !sameGrid(this.#header, src.header)) {
        await this.#newVolume(src);
        if (this.#destroyed) return;
        changed = null;
      } else {
        const [ni, nj] = src.header.dims;
        changed = copyChangedSlices(this.#copy!, src.labels, ni * nj);
        if (this.#factor > 1) for (const k of changed) shrinkSlice(this.#copy!, ni, nj, k, this.#factor, this.#shown);
        const volume = this.#volume ? cache.getVolume(this.#volume.volumeId) : undefined;
        for (const k of changed) volume?.vtkOpenGLTexture.setUpdatedFrame(k);
      }
      const styled = this.#applyStyle(src);
      if (changed === null || changed.length > 0 || styled) vp.render();
      else this.#pendingSince = null;
    } finally {
      this.#updating = false;
    }
  }

  async #newVolume(src: Labels3DSource): Promise<void> {
    const previous = this.#volume;
    const [ni, nj, nk] = src.header.dims;
    this.#factor = inPlaneFactor(src.header.dims);
    this.#copy = src.labels.slice();
    if (this.#factor === 1) this.#shown = this.#copy;
    else {
      const f = this.#factor;
      this.#shown = new Uint8Array(Math.ceil(ni / f) * Math.ceil(nj / f) * nk);
      for (let k = 0; k < nk; k++) shrinkSlice(this.#copy, ni, nj, k, f, this.#shown);
    }
    this.#header = src.header;
    this.#styleKey = '';
    this.#element.dataset.shrink = String(this.#factor);
    this.#volume = createCaseVolume(shrunkGrid(src.header, this.#factor), this.#shown, 'deformux_labels3d');
    const vp = this.#viewport();
    await vp.setVolumes([{ volumeId: this.#volume.volumeId }]);
    // A local volume's GL texture starts with no slice marked for upload (FACTS.md): mark them all.
    cache.getVolume(this.#volume.volumeId)?.modified();
    // One sample per voxel along a ray (Cornerstone's default takes two): labels are sampled without
    // interpolation, so half-voxel steps add cost, not detail; on a software GL a frame takes half as long.
    vp.setProperties({ sampleDistanceMultiplier: SAMPLE_DISTANCE_MULTIPLIER });
    if (previous) releaseCaseVolume(previous);
    vp.resetCamera();
  }

  /** Applies the class colours and opacities (and which classes are hidden); true when they changed. */
  #applyStyle(src: Labels3DSource): boolean {
    const key = JSON.stringify([src.classes, [...src.hidden].sort()]);
    if (key === this.#styleKey) return false;
    const actor = this.#viewport().getDefaultActor()?.actor as Types.VolumeActor | undefined;
    if (!actor) return false;
    this.#styleKey = key;
    const { colors, opacities } = labelTransferNodes(src.classes, src.hidden);
    const property = actor.getProperty();
    const cfun = property.getRGBTransferFunction(0);
    cfun.removeAllPoints();
    for (const [x, r, g, b] of colors) cfun.addRGBPoint(x, r, g, b);
    const ofun = property.getScalarOpacity(0);
    ofun.removeAllPoints();
    for (const [x, a] of opacities) ofun.addPoint(x, a);
    // Labels are categories: a linearly interpolated sample between kidney (1) and cyst (3) would read as tumour (2).
    property.setInterpolationTypeToNearest();
    property.setScalarOpacityUnitDistance(0, 1);
    property.setUseGradientOpacity(0, false);
    property.setShade(true);
    property.setAmbient(0.5);
    property.setDiffuse(0.6);
    property.setSpecular(0.1);
    property.setSpecularPower(10);
    return true;
  }

  /** No labels (a case closing or loading): nothing is drawn. */
  #clear(): void {
    const previous = this.#volume;
    this.#volume = null;
    this.#shown = null;
    this.#copy = null;
    this.#header = null;
    const vp = this.#viewport();
    if (previous) {
      vp.removeAllActors();
      releaseCaseVolume(previous);
      vp.render();
    } else {
      this.#pendingSince = null;
    }
  }

  #rendered(): void {
    this.#renders++;
    // Test hook and diagnostics, outside Svelte.
    this.#element.dataset.renderCount = String(this.#renders);
    this.#element.dataset.hasLabels = String(this.#shown !== null);
    if (!this.#firstRenderMeasured && this.#shown) {
      this.#firstRenderMeasured = true;
      performance.measure('deformux.view3d.firstRender', { start: this.#shownAt });
      this.#element.dataset.firstRenderMs = String(Math.round(performance.now() - this.#shownAt));
    } else if (this.#pendingSince !== null) {
      performance.measure('deformux.view3d.update', { start: this.#pendingSince });
      this.#element.dataset.lastUpdateMs = String(Math.round(performance.now() - this.#pendingSince));
    }
    this.#pendingSince = null;
  }

  /** Camera back to the start: the labels' volume seen from the front (anterior), fitted. */
  reset(): void {
    if (this.#destroyed) return;
    const vp = this.#viewport();
    if (this.#startView) vp.setCamera({ ...this.#startView });
    vp.resetCamera();
    vp.render();
  }

  resize(): void {
    if (!this.#destroyed) this.#engine.resize(true, true);
  }

  destroy(): void {
    this.#destroyed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#element.removeEventListener(Enums.Events.IMAGE_RENDERED, this.#onRendered);
    this.#element.removeEventListener('contextmenu', preventDefault);
    ToolGroupManager.destroyToolGroup(this.#groupId);
    this.#engine.destroy();
    if (this.#volume) releaseCaseVolume(this.#volume);
    this.#volume = null;
    this.#shown = null;
    this.#copy = null;
  }
}

function preventDefault(e: Event): void {
  e.preventDefault();
}

function sameGrid(a: VolumeHeader, b: VolumeHeader): boolean {
  return (
    a.caseId === b.caseId &&
    a.dims.every((x, i) => x === b.dims[i]) &&
    a.spacingMm.every((x, i) => x === b.spacingMm[i]) &&
    a.originMm.every((x, i) => x === b.originMm[i]) &&
    a.direction.every((x, i) => x === b.direction[i])
  );
}
