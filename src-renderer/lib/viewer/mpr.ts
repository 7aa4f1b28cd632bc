// The three-view MPR controller: owns the Cornerstone rendering engine, viewports and tool group,
// keeps the crosshair cursor, W/L and overlays in step, and reports them through callbacks.
// Plain TypeScript on purpose: Cornerstone objects must stay out of Svelte's reactive state.
import { cache, Enums, RenderingEngine, setVolumesForViewports, type Types } from '@cornerstonejs/core';
import type { Types as ToolTypes } from '@cornerstonejs/tools';
import { ToolGroupManager } from '@cornerstonejs/tools';
import type { VolumeHeader } from '../../../src-main/api/contract';
import { createViewerToolGroup, initCornerstone, setPrimaryMode, type PrimaryMode } from './cornerstone';
import {
  dot,
  ijkToWorld,
  nearestVoxel,
  orientationMarkers,
  sliceInfo,
  voxelValue,
  worldToIjk,
  type OrientationMarkers,
  type SliceInfo,
  type Vec3,
} from './geometry';
import { createCaseVolume, releaseCaseVolume, type LoadedVolume, type VoxelData } from './localVolume';
import { fromVoiRange, toVoiRange, type WindowLevel } from './presets';
import { VIEW_NAMES, type ViewName } from './viewNames';

export { VIEW_NAMES, type ViewName };

export interface ViewOverlay {
  markers: OrientationMarkers;
  slice: SliceInfo | null;
  /** Canvas (CSS px) position of the crosshair cursor, or null when it is off this view. */
  cross: [number, number] | null;
}

export interface VoxelReadout {
  view: ViewName | 'cursor';
  world: Vec3;
  /** Nearest voxel, or null outside the volume. */
  ijk: Vec3 | null;
  value: number | null;
}

/** Left-button pointer events in edit mode, in continuous voxel coordinates of the shown case. */
export interface EditPointerHandler {
  (phase: 'down' | 'move' | 'up', view: ViewName, ijk: Vec3, canvas: [number, number]): void;
}

export interface MprCallbacks {
  onOverlay(view: ViewName, overlay: ViewOverlay): void;
  onWindowLevel(wl: WindowLevel): void;
  /** Value under the mouse (null when the mouse leaves the views). */
  onHover(readout: VoxelReadout | null): void;
  /** Value at the crosshair cursor. */
  onCursor(readout: VoxelReadout): void;
}

const ORIENTATION: Record<ViewName, Enums.OrientationAxis> = {
  axial: Enums.OrientationAxis.AXIAL,
  sagittal: Enums.OrientationAxis.SAGITTAL,
  coronal: Enums.OrientationAxis.CORONAL,
};

let engineCounter = 0;

export class MprViewer {
  readonly #elements: Record<ViewName, HTMLDivElement>;
  readonly #cb: MprCallbacks;
  readonly #engine: RenderingEngine;
  readonly #group: ToolTypes.IToolGroup;
  readonly #groupId: string;
  readonly #cleanups: (() => void)[] = [];
  #header: VolumeHeader | null = null;
  #voxels: VoxelData | null = null;
  #volume: LoadedVolume | null = null;
  #cursor: Vec3 = [0, 0, 0];
  #wl: WindowLevel = { width: 400, center: 40 };
  #mode: PrimaryMode = 'cursor';
  #syncingVoi = false;
  #editHandler: EditPointerHandler | null = null;

  constructor(elements: Record<ViewName, HTMLDivElement>, callbacks: MprCallbacks) {
    initCornerstone();
    this.#elements = elements;
    this.#cb = callbacks;
    const id = `deformux-engine-${++engineCounter}`;
    this.#engine = new RenderingEngine(id);
    this.#engine.setViewports(
      VIEW_NAMES.map((name) => ({
        viewportId: name,
        type: Enums.ViewportType.ORTHOGRAPHIC,
        element: elements[name],
        defaultOptions: { orientation: ORIENTATION[name], background: [0, 0, 0] as Types.Point3 },
      })),
    );
    this.#groupId = `deformux-tools-${engineCounter}`;
    this.#group = createViewerToolGroup(this.#groupId, id, [...VIEW_NAMES]);
    for (const name of VIEW_NAMES) this.#wire(name);
  }

  #viewport(name: ViewName): Types.IVolumeViewport {
    return this.#engine.getViewport(name) as Types.IVolumeViewport;
  }

  #listen<K extends keyof HTMLElementEventMap>(
    el: HTMLElement,
    type: K,
    fn: (e: HTMLElementEventMap[K]) => void,
  ): void {
    el.addEventListener(type, fn);
    this.#cleanups.push(() => el.removeEventListener(type, fn));
  }

  #listenCs(el: HTMLElement, type: string, fn: (e: Event) => void): void {
    el.addEventListener(type, fn);
    this.#cleanups.push(() => el.removeEventListener(type, fn));
  }

  #wire(name: ViewName): void {
    const el = this.#elements[name];
    let renders = 0;
    // Test hook and diagnostics: a render counter on the element, cheap and outside Svelte.
    this.#listenCs(el, Enums.Events.IMAGE_RENDERED, () => {
      renders++;
      el.dataset.renderCount = String(renders);
    });
    this.#listenCs(el, Enums.Events.CAMERA_MODIFIED, () => this.#onCamera(name));
    this.#listenCs(el, Enums.Events.VOI_MODIFIED, (e) => {
      const detail = (e as CustomEvent<{ range: { lower: number; upper: number } }>).detail;
      if (!this.#syncingVoi && detail?.range) this.setWindowLevel(fromVoiRange(detail.range));
    });
    this.#listen(el, 'contextmenu', (e) => e.preventDefault());
    let dragging = false;
    const moveCursor = (e: PointerEvent) => {
      const w = this.#canvasToWorld(name, e);
      if (w) this.setCursor(w);
    };
    let editing = false;
    const edit = (phase: 'down' | 'move' | 'up', e: PointerEvent) => {
      const h = this.#header;
      const w = this.#canvasToWorld(name, e);
      if (!h || !w || !this.#editHandler) return;
      const rect = el.getBoundingClientRect();
      this.#editHandler(phase, name, worldToIjk(h, w), [e.clientX - rect.left, e.clientY - rect.top]);
    };
    this.#listen(el, 'pointerdown', (e) => {
      if (e.button !== 0 || !this.#header) return;
      if (this.#mode === 'edit') {
        editing = true;
        // Keep receiving moves when the stroke leaves the view, so the stroke always ends.
        el.setPointerCapture?.(e.pointerId);
        edit('down', e);
        return;
      }
      if (this.#mode !== 'cursor') return;
      dragging = true;
      moveCursor(e);
    });
    this.#listen(el, 'pointermove', (e) => {
      if (dragging && (e.buttons & 1) === 0) dragging = false;
      if (dragging) moveCursor(e);
      if (editing) edit('move', e);
      const w = this.#canvasToWorld(name, e);
      this.#cb.onHover(w ? this.#readout(name, w) : null);
    });
    const endEdit = (e: PointerEvent) => {
      if (!editing) return;
      editing = false;
      edit('up', e);
    };
    this.#listen(el, 'pointerup', (e) => {
      dragging = false;
      endEdit(e);
    });
    this.#listen(el, 'pointercancel', endEdit);
    this.#listen(el, 'pointerleave', (e) => {
      dragging = false;
      if (!el.hasPointerCapture?.(e.pointerId)) endEdit(e);
      this.#cb.onHover(null);
    });
  }

  #canvasToWorld(name: ViewName, e: MouseEvent): Vec3 | null {
    if (!this.#header) return null;
    const rect = this.#elements[name].getBoundingClientRect();
    const w = this.#viewport(name).canvasToWorld([e.clientX - rect.left, e.clientY - rect.top]);
    return [w[0], w[1], w[2]];
  }

  #readout(view: ViewName | 'cursor', world: Vec3): VoxelReadout {
    const h = this.#header;
    const v = this.#voxels;
    if (!h || !v) return { view, world, ijk: null, value: null };
    const ijk = nearestVoxel(h.dims, worldToIjk(h, world));
    return { view, world, ijk, value: ijk ? voxelValue(v, h.dims, ijk) : null };
  }

  /** Shows a case; the previous volume is released. */
  async load(header: VolumeHeader, voxels: VoxelData, wl: WindowLevel): Promise<void> {
    const previous = this.#volume;
    this.#volume = createCaseVolume(header, voxels);
    this.#header = header;
    this.#voxels = voxels;
    await setVolumesForViewports(this.#engine, [{ volumeId: this.#volume.volumeId }], [...VIEW_NAMES]);
    // The shared GL texture uploads only slices marked as updated; a local volume starts with none
    // marked, so the first frame would show zeros. Mark them all once the actors exist.
    cache.getVolume(this.#volume.volumeId)?.modified();
    if (previous) releaseCaseVolume(previous);
    this.reset(wl);
  }

  /** Camera, cursor and W/L back to the start: volume centred, fitted, given W/L (R key). */
  reset(wl: WindowLevel = this.#wl): void {
    const h = this.#header;
    if (!h) return;
    for (const name of VIEW_NAMES) this.#viewport(name).resetCamera();
    this.setWindowLevel(wl);
    // The centre voxel: every view's plane then goes through voxel centres, not between slices.
    this.setCursor(
      ijkToWorld(h, [
        Math.floor((h.dims[0] - 1) / 2),
        Math.floor((h.dims[1] - 1) / 2),
        Math.floor((h.dims[2] - 1) / 2),
      ]),
    );
  }

  setWindowLevel(wl: WindowLevel): void {
    this.#wl = wl;
    if (!this.#header) return;
    this.#syncingVoi = true;
    try {
      for (const name of VIEW_NAMES) this.#viewport(name).setProperties({ voiRange: toVoiRange(wl) }, undefined, true);
    } finally {
      this.#syncingVoi = false;
    }
    this.#engine.render();
    this.#cb.onWindowLevel(wl);
  }

  setPrimaryMode(mode: PrimaryMode): void {
    this.#mode = mode;
    setPrimaryMode(this.#group, mode);
  }

  /**
   * Moves the crosshair cursor to the voxel centre nearest `world` (ITK-SNAP habit: the cursor is
   * always on a voxel, so views never sit between slices) and brings all three view planes through it.
   */
  setCursor(point: Vec3): void {
    const h = this.#header;
    if (!h) return;
    const ijk = worldToIjk(h, point).map((x, a) => Math.min(h.dims[a] - 1, Math.max(0, Math.round(x)))) as Vec3;
    const world = ijkToWorld(h, ijk);
    this.#cursor = world;
    for (const name of VIEW_NAMES) {
      const vp = this.#viewport(name);
      const cam = vp.getCamera();
      const n = cam.viewPlaneNormal as Vec3;
      const f = cam.focalPoint as Vec3;
      const p = cam.position as Vec3;
      const delta = dot([world[0] - f[0], world[1] - f[1], world[2] - f[2]], n);
      if (Math.abs(delta) < 1e-6) continue;
      vp.setCamera({
        focalPoint: [f[0] + n[0] * delta, f[1] + n[1] * delta, f[2] + n[2] * delta],
        position: [p[0] + n[0] * delta, p[1] + n[1] * delta, p[2] + n[2] * delta],
      });
    }
    this.#engine.render();
    this.#refreshOverlays();
    this.#cb.onCursor(this.#readout('cursor', world));
  }

  /** Scrolls one view by whole slices (keyboard). */
  scroll(name: ViewName, deltaSlices: number): void {
    if (!this.#header) return;
    this.#viewport(name).scroll(deltaSlices);
  }

  /** After any camera change: keep the cursor on the changed view's plane (scrolling moves it). */
  #onCamera(name: ViewName): void {
    if (!this.#header) return;
    const cam = this.#viewport(name).getCamera();
    const n = cam.viewPlaneNormal as Vec3;
    const f = cam.focalPoint as Vec3;
    const c = this.#cursor;
    const delta = dot([f[0] - c[0], f[1] - c[1], f[2] - c[2]], n);
    if (Math.abs(delta) > 1e-6) {
      this.#cursor = [c[0] + n[0] * delta, c[1] + n[1] * delta, c[2] + n[2] * delta];
      this.#cb.onCursor(this.#readout('cursor', this.#cursor));
      this.#refreshOverlays();
    } else {
      this.#refreshOverlay(name);
    }
  }

  #refreshOverlays(): void {
    for (const name of VIEW_NAMES) this.#refreshOverlay(name);
  }

  #refreshOverlay(name: ViewName): void {
    const h = this.#header;
    if (!h) return;
    const vp = this.#viewport(name);
    const cam = vp.getCamera();
    const slice = sliceInfo(h, cam.focalPoint as Vec3, cam.viewPlaneNormal as Vec3);
    const c = vp.worldToCanvas(this.#cursor as Types.Point3);
    const el = this.#elements[name];
    const inside = c[0] >= 0 && c[1] >= 0 && c[0] <= el.clientWidth && c[1] <= el.clientHeight;
    el.dataset.sliceIndex = String(slice.index);
    this.#cb.onOverlay(name, {
      markers: orientationMarkers(cam.viewUp as Vec3, cam.viewPlaneNormal as Vec3),
      slice,
      cross: inside ? [c[0], c[1]] : null,
    });
  }

  setEditHandler(handler: EditPointerHandler | null): void {
    this.#editHandler = handler;
  }

  /** The case whose volume is loaded (null before the first). */
  get caseId(): string | null {
    return this.#header?.caseId ?? null;
  }

  /** The Cornerstone id of the shown image volume (labelmaps derive from it). */
  get imageVolumeId(): string | null {
    return this.#volume?.volumeId ?? null;
  }

  /** The voxel axis (i, j or k) most nearly along a view's plane normal: the axis a 2D tool keeps fixed. */
  normalAxis(name: ViewName): 0 | 1 | 2 {
    const d = this.#header?.direction ?? [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const n = this.#viewport(name).getCamera().viewPlaneNormal as Vec3;
    let best: 0 | 1 | 2 = 0;
    let bestDot = -1;
    for (const a of [0, 1, 2] as const) {
      const v = Math.abs(dot([d[a * 3], d[a * 3 + 1], d[a * 3 + 2]], n));
      if (v > bestDot) {
        bestDot = v;
        best = a;
      }
    }
    return best;
  }

  /** Canvas pixels (CSS) per mm in a view, for drawing the brush outline at its true size. */
  pxPerMm(name: ViewName): number {
    const scale = this.#viewport(name).getCamera().parallelScale ?? 1;
    return this.#elements[name].clientHeight / (2 * scale);
  }

  /** Redraws all views (after label style changes). */
  render(): void {
    this.#engine.render();
  }

  /** Canvas position (CSS px) of an LPS point in a view: used by the browser tests. */
  worldToCanvas(name: ViewName, world: Vec3): [number, number] {
    const c = this.#viewport(name).worldToCanvas(world as Types.Point3);
    return [c[0], c[1]];
  }

  resize(): void {
    this.#engine.resize(true, true);
    // A resize may move the view planes off the crosshair (a layout change while a case loads): the cursor is
    // what the views show, so bring every plane back through it.
    if (this.#header) this.setCursor(this.#cursor);
    else this.#refreshOverlays();
  }

  destroy(): void {
    for (const f of this.#cleanups.splice(0)) f();
    ToolGroupManager.destroyToolGroup(this.#groupId);
    this.#engine.destroy();
    if (this.#volume) releaseCaseVolume(this.#volume);
    this.#volume = null;
  }
}
