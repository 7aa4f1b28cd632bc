// App-wide state: the project, the worklist and the open case (voxels kept raw, never proxied).
import type { CaseSummary, DeformuxApi, ProjectInfo, VolumeHeader } from '../../../src-main/api/contract';
import { CasePlaces } from '../viewer/casePlaces';
import type { PreviewPlane } from '../viewer/slicePreview';
import type { ViewName } from '../viewer/viewNames';
import type { VoxelData } from '../viewer/voxelData';
import { loadCase } from './caseLoader';

export interface OpenVolume {
  header: VolumeHeader;
  voxels: VoxelData;
  /** performance.now() when the user asked for the case: time-to-first-image starts here. */
  requestedAt: number;
  /** The open request it came from (PendingCase.loadId). */
  loadId: number;
}

/**
 * The case being opened: what the viewer shows until its volume is drawn (the preview slices as they
 * arrive). Replaced, never changed in place.
 */
export interface PendingCase {
  /** Grows with every open request: the newest request is the one that counts. */
  loadId: number;
  caseId: string;
  name: string;
  requestedAt: number;
  header: VolumeHeader | null;
  planes: Record<ViewName, PreviewPlane> | null;
  slices: Partial<Record<ViewName, VoxelData>>;
  /** Why the case could not be opened. */
  failed: string | null;
}

export class AppState {
  readonly api: DeformuxApi;
  project = $state.raw<ProjectInfo | null>(null);
  cases = $state.raw<CaseSummary[]>([]);
  selectedId = $state<string | null>(null);
  /** What is being loaded, for the status line; null when idle. */
  loading = $state<string | null>(null);
  error = $state<string | null>(null);
  volume = $state.raw<OpenVolume | null>(null);
  /** The newest case asked for (its volume may be shown already: compare loadIds). */
  pending = $state.raw<PendingCase | null>(null);
  /** Fraction 0..1 of the pending case's volume received. */
  received = $state(0);
  #openSeq = 0;
  #openAbort: AbortController | null = null;

  constructor(api: DeformuxApi) {
    this.api = api;
  }

  selectedCase(): CaseSummary | undefined {
    return this.cases.find((c) => c.id === this.selectedId);
  }

  async start(): Promise<void> {
    try {
      this.loading = 'Loading project…';
      const [project, cases] = await Promise.all([this.api.call('project.info', {}), this.api.call('cases.list', {})]);
      this.project = project;
      this.cases = cases;
      this.loading = null;
      if (cases.length > 0) await this.openCase(cases[0].id);
    } catch (e) {
      this.fail(e);
    }
  }

  async refreshCases(): Promise<void> {
    try {
      this.cases = await this.api.call('cases.list', {});
    } catch (e) {
      this.fail(e);
    }
  }

  async openCase(caseId: string): Promise<void> {
    const loadId = ++this.#openSeq;
    const current = () => loadId === this.#openSeq;
    // A newer choice cancels the transfers of the previous one (big volumes take seconds).
    this.#openAbort?.abort();
    const abort = new AbortController();
    this.#openAbort = abort;
    const requestedAt = performance.now();
    this.selectedId = caseId;
    this.error = null;
    const name = this.selectedCase()?.name ?? caseId;
    this.loading = `Opening ${name}…`;
    this.received = 0;
    this.pending = { loadId, caseId, name, requestedAt, header: null, planes: null, slices: {}, failed: null };
    const update = (change: Partial<PendingCase>) => {
      if (current() && this.pending) this.pending = { ...this.pending, ...change };
    };
    try {
      const { header, voxels } = await loadCase(this.api, caseId, {
        signal: abort.signal,
        // The viewer keeps where each case was left in the tab's session storage.
        placeOf: (h) =>
          typeof sessionStorage === 'undefined' ? undefined : new CasePlaces(sessionStorage).get(caseId, h.dims),
        onHeader: (h, planes) => update({ header: h, planes }),
        onSlice: (view, data) => update({ slices: { ...this.pending?.slices, [view]: data } }),
        onProgress: (f) => {
          // Whole percents only: the page has more to do while megabytes stream in than redraw a bar.
          const percent = Math.floor(f * 100);
          if (!current() || percent === Math.floor(this.received * 100)) return;
          this.received = f;
          this.loading = `Opening ${name}… ${percent}%`;
        },
      });
      if (!current()) return; // The user picked another case meanwhile.
      this.received = 1;
      this.volume = { header, voxels, requestedAt, loadId };
      this.loading = null;
    } catch (e) {
      if (!current()) return;
      this.fail(e);
      update({ failed: this.error });
    }
  }

  fail(e: unknown): void {
    this.loading = null;
    this.error = e instanceof Error ? e.message : String(e);
  }
}
