// The uncertainty overlay toggle's state: whether the open case's latest AI pre-label has an
// uncertainty map (cases.provenance), fetching it (cases.uncertaintyData) when switched on, and
// showing or removing the heat overlay. A case switch turns it off.
import type { DeformuxApi, LabelVersionInfo } from '../../../src-main/api/contract';
import type { UncertaintyOverlay } from './uncertaintyOverlay';
import { HEAT_FLOOR } from './heatColormap';

/** Where the overlay goes: the shown image volume, its views, and the label overlay to keep active. */
export interface OverlayTarget {
  imageVolumeId: string;
  viewportIds: string[];
  labelSegmentationId: string | null;
  /** Brings the label overlay back on top of the heat map. */
  raiseLabels(): void;
  render(): void;
}

export class UncertaintyLayer {
  /** The case's latest prediction has an uncertainty map. */
  available = $state(false);
  /** Why the toggle is disabled (or what it shows), for its tooltip. */
  reason = $state('No AI pre-label for this case');
  on = $state(false);
  /** Display threshold (0..1): uncertainty at or below it is not drawn; kept across cases. */
  threshold = $state(HEAT_FLOOR);
  loading = $state(false);
  error = $state<string | null>(null);
  opacity = $state(0.6);

  readonly #api: DeformuxApi;
  readonly #target: () => OverlayTarget | null;
  #overlay: UncertaintyOverlay | null = null;
  /** The prediction the availability was checked for. */
  #checked: { caseId: string; version: number } | null = null;
  #seq = 0;

  constructor(api: DeformuxApi, target: () => OverlayTarget | null) {
    this.#api = api;
    this.#target = target;
  }

  /** Re-checks availability when the case or its versions change (cheap when nothing did). */
  async check(caseId: string | null, versions: readonly LabelVersionInfo[]): Promise<void> {
    const prediction = versions.filter((v) => v.kind === 'prediction').at(-1);
    if (this.#checked?.caseId === caseId && this.#checked?.version === prediction?.version) return;
    this.#checked = caseId && prediction ? { caseId, version: prediction.version } : null;
    // A newer prediction replaces the shown map: switch off, the user switches on again.
    this.off();
    const seq = ++this.#seq;
    this.available = false;
    this.error = null;
    if (!caseId || !prediction) {
      this.reason = 'No AI pre-label for this case';
      return;
    }
    try {
      const p = await this.#api.call('cases.provenance', { caseId, version: prediction.version });
      if (seq !== this.#seq) return;
      this.available = p?.hasUncertainty ?? false;
      this.reason = this.available
        ? `Uncertainty of pre-label v${prediction.version} (${p?.modelId ?? 'model'}): yellow → red = less certain`
        : `Pre-label v${prediction.version} has no uncertainty map`;
    } catch (e) {
      if (seq !== this.#seq) return;
      this.reason = `Could not read the pre-label's provenance: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  async toggle(on: boolean): Promise<void> {
    if (!on) return this.off();
    const target = this.#target();
    const checked = this.#checked;
    if (!this.available || !target || !checked || this.#overlay) return;
    const { caseId, version } = checked;
    const seq = ++this.#seq;
    this.on = true;
    this.loading = true;
    this.error = null;
    try {
      // The overlay runs on Cornerstone, whose code the viewer loads apart from its frame.
      const [buf, { UncertaintyOverlay }] = await Promise.all([
        this.#api.binary('cases.uncertaintyData', { caseId, version }),
        import('./uncertaintyOverlay'),
      ]);
      if (seq !== this.#seq) return;
      const now = this.#target();
      if (!now || now.imageVolumeId !== target.imageVolumeId) return;
      this.#overlay = new UncertaintyOverlay(
        target.imageVolumeId,
        target.viewportIds,
        new Uint8Array(buf),
        target.labelSegmentationId,
        this.opacity,
      );
      this.#overlay.setThreshold(this.threshold);
      target.raiseLabels();
      target.render();
    } catch (e) {
      if (seq !== this.#seq) return;
      this.on = false;
      this.error = `Could not show the uncertainty of case ${caseId}: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  /** Only uncertainty above this (0..1) is drawn. */
  setThreshold(t: number): void {
    this.threshold = t;
    if (this.#overlay) {
      this.#overlay.setThreshold(t);
      this.#target()?.render();
    }
  }

  setOpacity(opacity: number): void {
    this.opacity = opacity;
    if (this.#overlay) {
      this.#overlay.setOpacity(opacity);
      this.#target()?.render();
    }
  }

  /** Removes the overlay (toggle off, or before the image volume goes). */
  off(): void {
    this.#seq++;
    this.on = false;
    this.loading = false;
    if (this.#overlay) {
      this.#overlay.destroy();
      this.#overlay = null;
      this.#target()?.render();
    }
  }

  /** Case switch: off, and availability is checked afresh for the next case. */
  reset(): void {
    this.off();
    this.#checked = null;
    this.available = false;
    this.reason = 'No AI pre-label for this case';
    this.error = null;
  }
}
