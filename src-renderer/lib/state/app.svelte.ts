// App-wide state: the project, the worklist and the open case (voxels kept raw, never proxied).
import type { CaseSummary, DeformuxApi, ProjectInfo, VolumeHeader } from '../../../src-main/api/contract';
import { voxelsFromBuffer, type VoxelData } from '../viewer/voxelData';

export interface OpenVolume {
  header: VolumeHeader;
  voxels: VoxelData;
  /** performance.now() when the user asked for the case: time-to-first-image starts here. */
  requestedAt: number;
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
    const seq = ++this.#openSeq;
    // A newer choice cancels the transfer of the previous one (big volumes take seconds).
    this.#openAbort?.abort();
    const abort = new AbortController();
    this.#openAbort = abort;
    const requestedAt = performance.now();
    this.selectedId = caseId;
    this.error = null;
    const name = this.selectedCase()?.name ?? caseId;
    this.loading = `Opening ${name}…`;
    try {
      const header = await this.api.call('cases.open', { caseId });
      const opened = performance.now();
      performance.measure('deformux.case.open', { start: requestedAt, end: opened });
      const buffer = await this.api.binary(
        'cases.volumeData',
        { caseId },
        {
          signal: abort.signal,
          onProgress: (f) => {
            if (seq === this.#openSeq) this.loading = `Opening ${name}… ${Math.floor(f * 100)}%`;
          },
        },
      );
      performance.measure('deformux.case.download', { start: opened, end: performance.now() });
      if (seq !== this.#openSeq) return; // The user picked another case meanwhile.
      this.volume = { header, voxels: voxelsFromBuffer(header, buffer), requestedAt };
      this.loading = null;
    } catch (e) {
      if (seq === this.#openSeq) this.fail(e);
    }
  }

  fail(e: unknown): void {
    this.loading = null;
    this.error = e instanceof Error ? e.message : String(e);
  }
}
