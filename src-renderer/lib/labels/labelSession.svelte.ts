// The open case's label versions: loads the latest on open, autosaves 2 s after the last edit and
// on case switch, submits, restores earlier versions and exports. Saves run one at a time.
import type {
  CaseStats,
  DeformuxApi,
  ExportFormat,
  LabelVersionInfo,
  VolumeHeader,
} from '../../../src-main/api/contract';
import type { LabelEditor } from './labelEditor.svelte';

export const AUTOSAVE_DELAY_MS = 2000;
/** A failed save is retried after this long (the edits stay in memory meanwhile). */
export const SAVE_RETRY_MS = 3000;
/** Gaps between edits longer than this do not count as active editing time. */
const IDLE_GAP_S = 30;

export type SaveState = 'idle' | 'saving' | 'saved' | 'error';

export class LabelSession {
  versions = $state.raw<LabelVersionInfo[]>([]);
  /** The version the current edits started from (the parent of the next save). */
  baseVersion = $state<number | null>(null);
  /** The version whose voxels are shown unchanged (null once edited). */
  shownVersion = $state<number | null>(null);
  saveState = $state<SaveState>('idle');
  saveMessage = $state('');
  exportPath = $state<string | null>(null);
  /** Why the last export failed (e.g. DICOM SEG of a NIfTI-imported case), shown beside the button. */
  exportError = $state<string | null>(null);
  exportFormat = $state<ExportFormat>('nifti');
  /** The case's statistics from the store, refreshed on open and after every save. */
  stats = $state.raw<CaseStats | null>(null);
  submitted = $state(false);

  readonly #api: DeformuxApi;
  readonly #editor: LabelEditor;
  #caseId: string | null = null;
  #savedSeq = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #chain: Promise<void> = Promise.resolve();
  #activeSeconds = 0;
  #lastEditAt = 0;

  constructor(api: DeformuxApi, editor: LabelEditor) {
    this.#api = api;
    this.#editor = editor;
    editor.onEdited = () => this.#onEdited();
  }

  get caseId(): string | null {
    return this.#caseId;
  }

  /** Fetches the case's versions and the latest one's voxels (zeros when it has none). */
  async load(header: VolumeHeader): Promise<Uint8Array> {
    const n = header.dims[0] * header.dims[1] * header.dims[2];
    const versions = await this.#api.call('cases.labelVersions', { caseId: header.caseId });
    const latest = versions.at(-1) ?? null;
    const labels = latest ? await this.#fetch(header.caseId, latest.version, n) : new Uint8Array(n);
    this.#caseId = header.caseId;
    this.versions = versions;
    this.baseVersion = latest?.version ?? null;
    this.shownVersion = latest?.version ?? null;
    this.#savedSeq = this.#editor.editSeq;
    this.saveState = 'idle';
    this.saveMessage = latest ? `Loaded v${latest.version}` : 'No label yet';
    this.exportPath = null;
    this.exportError = null;
    this.stats = null;
    this.submitted = false;
    this.#activeSeconds = 0;
    void this.refreshStats();
    return labels;
  }

  async #fetch(caseId: string, version: number, n: number): Promise<Uint8Array> {
    const buf = await this.#api.binary('cases.labelData', { caseId, version });
    if (buf.byteLength !== n) {
      throw new Error(`label version ${version} of case ${caseId} has ${buf.byteLength} voxels, the image has ${n}`);
    }
    return new Uint8Array(buf);
  }

  #onEdited(): void {
    const now = performance.now();
    if (this.#lastEditAt > 0) this.#activeSeconds += Math.min(IDLE_GAP_S, (now - this.#lastEditAt) / 1000);
    this.#lastEditAt = now;
    this.shownVersion = null;
    this.saveState = 'idle';
    this.saveMessage = 'Unsaved changes';
    this.#schedule(AUTOSAVE_DELAY_MS);
  }

  #schedule(delayMs: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.save(false);
    }, delayMs);
  }

  get dirty(): boolean {
    return this.#editor.editSeq !== this.#savedSeq;
  }

  /** Saves now if there are unsaved edits (case switch, close); resolves when written. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    return this.save(false);
  }

  /** Queues a save; with submit, saves even without edits and marks the case as training data. */
  save(submit: boolean): Promise<void> {
    const caseId = this.#caseId;
    const labels = this.#editor.labels;
    if (!caseId || !labels || (!submit && !this.dirty)) return this.#chain;
    // Copy now: later strokes must not leak into this version, and the copy survives a case switch.
    const bytes = labels.slice();
    const seq = this.#editor.editSeq;
    const activeEditSeconds = Math.round(this.#activeSeconds);
    this.#activeSeconds = 0;
    const run = async (): Promise<void> => {
      const parentVersion = this.#caseId === caseId ? this.baseVersion : null;
      this.saveState = 'saving';
      this.saveMessage = submit ? 'Submitting…' : 'Saving…';
      try {
        const info = await this.#api.upload(
          'cases.saveLabel',
          { caseId, parentVersion, submit, activeEditSeconds },
          bytes.buffer,
        );
        if (this.#caseId !== caseId) return; // Saved on the way out of a case.
        this.baseVersion = info.version;
        if (seq === this.#editor.editSeq) this.shownVersion = info.version;
        this.#savedSeq = seq;
        if (submit) this.submitted = true;
        // Edits made while this save ran are not in it: keep saying so until their own save.
        const pending = seq !== this.#editor.editSeq;
        this.saveState = pending ? 'idle' : 'saved';
        this.saveMessage = pending ? 'Unsaved changes' : `${submit ? 'Submitted' : 'Saved'} v${info.version}`;
        this.versions = await this.#api.call('cases.labelVersions', { caseId });
        void this.refreshStats();
      } catch (e) {
        this.#activeSeconds += activeEditSeconds;
        if (this.#caseId === caseId) {
          this.saveState = 'error';
          this.saveMessage = `Save failed (retrying): ${e instanceof Error ? e.message : String(e)}`;
          // Unless a newer edit has already scheduled its own save.
          if (!this.#timer) this.#schedule(SAVE_RETRY_MS);
        }
      }
    };
    this.#chain = this.#chain.then(run);
    return this.#chain;
  }

  /** Shows an earlier version: its voxels replace the map as one undoable edit (then autosaved). */
  async restore(version: number): Promise<void> {
    const caseId = this.#caseId;
    const labels = this.#editor.labels;
    if (!caseId || !labels) return;
    try {
      const data = await this.#fetch(caseId, version, labels.length);
      if (this.#caseId !== caseId) return;
      this.#editor.restore(data);
      this.shownVersion = version;
    } catch (e) {
      this.saveState = 'error';
      this.saveMessage = e instanceof Error ? e.message : String(e);
    }
  }

  /** Fetches cases.stats for the open case (a failure leaves the last figures and says nothing: they are informative only). */
  async refreshStats(): Promise<void> {
    const caseId = this.#caseId;
    if (!caseId) return;
    try {
      const stats = await this.#api.call('cases.stats', { caseId });
      if (this.#caseId === caseId) this.stats = stats;
    } catch {
      // Keep the previous figures; the next save refreshes them again.
    }
  }

  /** Exports the latest version in the chosen format (saving pending edits first). */
  async export(): Promise<void> {
    const caseId = this.#caseId;
    if (!caseId) return;
    this.exportPath = null;
    this.exportError = null;
    const format = this.exportFormat;
    try {
      await this.flush();
      const res = await this.#api.call('cases.export', { caseId, format });
      if (this.#caseId === caseId) this.exportPath = res.path;
    } catch (e) {
      if (this.#caseId === caseId) this.exportError = `Export failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** Forgets the case (after flush()). */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#caseId = null;
    this.versions = [];
  }
}
