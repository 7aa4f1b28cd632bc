// Which case the views preview and when they stop: the newest case asked for is previewed (its slices
// drawn by SlicePreview) until the views have drawn its volume. Also times the preview's first picture.
import type { PendingCase } from '../state/app.svelte';
import type { ViewOverlay } from './mpr';
import type { ViewName } from './viewNames';
import type { ViewerState } from './viewerState.svelte';

export class PreviewState {
  /** The open request (PendingCase.loadId) whose volume the views have drawn. */
  readyLoadId = $state(-1);
  readonly #pending: () => PendingCase | null;
  readonly #vs: ViewerState;
  /** The open request whose preview was timed. */
  #timed = -1;

  readonly #onShown: () => void;

  /** `onShown`: a case's preview is on screen (the first time for each case). */
  constructor(pending: () => PendingCase | null, vs: ViewerState, onShown: () => void) {
    this.#pending = pending;
    this.#vs = vs;
    this.#onShown = onShown;
  }

  /** The pending case is shown as its preview (its volume is not drawn yet). */
  get previewing(): boolean {
    const p = this.#pending();
    return p !== null && p.loadId !== this.readyLoadId;
  }

  /** A new case was asked for. */
  started(): void {
    this.#vs.timeToPreviewMs = null;
  }

  /** The overlay of a view while it previews: the preview's letters and slice number, no crosshair. */
  overlay(name: ViewName): ViewOverlay | null {
    const plane = this.#pending()?.planes?.[name];
    return plane
      ? { markers: plane.markers, slice: { axis: plane.axis, index: plane.index, count: plane.count }, cross: null }
      : null;
  }

  /** A view drew its preview slice: the first one of a case is timed once its frame is painted. */
  drawn(p: PendingCase): void {
    if (this.#timed === p.loadId) return;
    this.#timed = p.loadId;
    requestAnimationFrame(() =>
      setTimeout(() => {
        if (this.#pending()?.loadId !== p.loadId || this.readyLoadId === p.loadId) return;
        this.#vs.timeToPreviewMs = performance.now() - p.requestedAt;
        // Time to the first visible image, read by the benchmark (tests/browser/load-bench.ts).
        performance.measure('deformux.case.preview', { start: p.requestedAt });
        this.#onShown();
      }, 0),
    );
  }
}
