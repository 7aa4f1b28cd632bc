// The open case's label versions: loads the latest on open, autosaves 2 s after the last edit and
// on case switch, submits, restores earlier versions and exports, and takes in a pre-label that
// lands while the case is open. Saves run one at a time and send only the voxels that changed.
import type {
  CaseStats,
  DeformuxApi,
  ExportFormat,
  LabelVersionInfo,
  VolumeHeader,
} from '../../../src-main/api/contract';
import type { EditEvent, LabelEditor } from './labelEditor.svelte';

export const AUTOSAVE_DELAY_MS = 2000;
/** A failed save is retried after this long (the edits stay in memory meanwhile). */
export const SAVE_RETRY_MS = 3000;
/** Gaps between edits longer than this do not count as active editing time. */
const IDLE_GAP_S = 30;

export type SaveState = 'idle' | 'saving' | 'saved' | 'error';

/** Above this share of changed voxels a save sends the whole map (smaller than index + value pairs). */
const SPARSE_MAX_FRACTION = 0.2;

/** One open case's unsaved edits: which voxels changed since `base` (the parent of the next save). */
interface CaseEdits {
  caseId: string;
  /** The editor's live array for this case (a fresh one per case, so it outlives a case switch). */
  labels: Uint8Array;
  base: number | null;
  /** Index lists of the edits since `base` (may repeat voxels). */
  dirty: Int32Array[];
  dirtyCount: number;
  /** Set when the next save is a restore of this earlier version. */
  restoredFrom?: number;
}

/** The body of a save: the changed voxels (sorted, unique) and their values, or the whole map. */
export function encodeLabelSave(
  labels: Uint8Array,
  dirty: Int32Array[],
  dirtyCount: number,
): { encoding: 'full' | 'sparse'; changes?: number; body: ArrayBuffer } {
  if (dirtyCount > labels.length * SPARSE_MAX_FRACTION) return { encoding: 'full', body: labels.slice().buffer };
  const all = new Uint32Array(dirtyCount);
  let at = 0;
  for (const list of dirty) {
    all.set(list, at);
    at += list.length;
  }
  all.sort();
  let unique = 0;
  for (let n = 0; n < all.length; n++) if (n === 0 || all[n] !== all[n - 1]) all[unique++] = all[n];
  const body = new ArrayBuffer(unique * 5);
  new Uint32Array(body, 0, unique).set(all.subarray(0, unique)); // little-endian on every platform we run on
  const values = new Uint8Array(body, unique * 4, unique);
  for (let n = 0; n < unique; n++) values[n] = labels[all[n]];
  return { encoding: 'sparse', changes: unique, body };
}

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
  /** A pre-label that finished while this case had unsaved edits or a submitted label: load it? */
  incoming = $state.raw<LabelVersionInfo | null>(null);

  readonly #api: DeformuxApi;
  readonly #editor: LabelEditor;
  #caseId: string | null = null;
  /** Bumped by every load and close: a load that finds it changed was overtaken and returns null. */
  #loadSeq = 0;
  #edits: CaseEdits | null = null;
  #savedSeq = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #chain: Promise<void> = Promise.resolve();
  #activeSeconds = 0;
  #lastEditAt = 0;

  constructor(api: DeformuxApi, editor: LabelEditor) {
    this.#api = api;
    this.#editor = editor;
    editor.onEdited = (e) => this.#onEdited(e);
  }

  get caseId(): string | null {
    return this.#caseId;
  }

  /**
   * Fetches the case's versions and the latest one's voxels (zeros when it has none). A submitted
   * label is never displaced silently: when only pre-labels came after it, it is shown and the newest
   * pre-label is offered instead. Null when another load or a close overtook this one.
   */
  async load(header: VolumeHeader): Promise<Uint8Array | null> {
    const n = header.dims[0] * header.dims[1] * header.dims[2];
    const seq = ++this.#loadSeq;
    const versions = await this.#api.call('cases.labelVersions', { caseId: header.caseId });
    if (seq !== this.#loadSeq) return null;
    const latest = versions.at(-1) ?? null;
    const lastSubmitted = versions.filter((v) => v.submitted).at(-1);
    const onlyPredictionsSince =
      lastSubmitted !== undefined &&
      versions.filter((v) => v.version > lastSubmitted.version).every((v) => v.kind === 'prediction');
    const shown = onlyPredictionsSince ? lastSubmitted : latest;
    const labels = shown ? await this.#fetch(header.caseId, shown.version, n) : new Uint8Array(n);
    // Another case was opened (or this one closed) while the labels came in: they are not wanted.
    if (seq !== this.#loadSeq) return null;
    this.#caseId = header.caseId;
    this.#edits = { caseId: header.caseId, labels, base: shown?.version ?? null, dirty: [], dirtyCount: 0 };
    this.versions = versions;
    this.baseVersion = shown?.version ?? null;
    this.shownVersion = shown?.version ?? null;
    this.#savedSeq = this.#editor.editSeq;
    this.saveState = 'idle';
    this.saveMessage = shown ? `Loaded v${shown.version}` : 'No label yet';
    this.exportPath = null;
    this.exportError = null;
    this.stats = null;
    this.submitted = shown?.submitted ?? false;
    this.incoming = shown && latest && shown !== latest ? latest : null;
    this.#activeSeconds = 0;
    void this.refreshStats();
    return labels;
  }

  /**
   * The case's versions changed on the server (a pre-label job saved one): a new pre-label replaces
   * what is shown when nothing would be lost; with unsaved edits or a submitted label it is offered.
   */
  async checkForNewVersions(): Promise<void> {
    const caseId = this.#caseId;
    if (!caseId) return;
    let versions: LabelVersionInfo[];
    try {
      versions = await this.#api.call('cases.labelVersions', { caseId });
    } catch {
      return; // The next event or save refreshes the list again.
    }
    if (this.#caseId !== caseId) return;
    const known = this.versions.reduce((m, v) => Math.max(m, v.version), 0);
    const fresh = versions.filter((v) => v.version > known && v.kind === 'prediction').at(-1);
    this.versions = versions;
    if (!fresh) return;
    if (this.dirty || this.submitted || this.saveState === 'saving') {
      this.incoming = fresh;
      return;
    }
    await this.#show(caseId, fresh.version);
  }

  /** Loads the offered pre-label (unsaved edits are saved first as their own version). */
  async acceptIncoming(): Promise<void> {
    const caseId = this.#caseId;
    const offered = this.incoming;
    if (!caseId || !offered) return;
    await this.flush();
    if (this.#caseId !== caseId) return;
    await this.#show(caseId, offered.version);
  }

  /** Keeps the shown label; the pre-label stays in the version list. */
  dismissIncoming(): void {
    this.incoming = null;
  }

  /** Replaces the shown map with a saved version that becomes the base of the next edits. */
  async #show(caseId: string, version: number): Promise<void> {
    const labels = this.#editor.labels;
    if (!labels) return;
    try {
      const data = await this.#fetch(caseId, version, labels.length);
      if (this.#caseId !== caseId || this.#editor.labels !== labels) return;
      this.#editor.replaceAll(data);
      this.#edits = { caseId, labels, base: version, dirty: [], dirtyCount: 0 };
      this.baseVersion = version;
      this.shownVersion = version;
      this.#savedSeq = this.#editor.editSeq;
      this.submitted = false;
      this.incoming = null;
      this.saveState = 'idle';
      this.saveMessage = `Loaded v${version}`;
      void this.refreshStats();
    } catch (e) {
      this.saveState = 'error';
      this.saveMessage = e instanceof Error ? e.message : String(e);
    }
  }

  async #fetch(caseId: string, version: number, n: number): Promise<Uint8Array> {
    const buf = await this.#api.binary('cases.labelData', { caseId, version });
    if (buf.byteLength !== n) {
      throw new Error(`label version ${version} of case ${caseId} has ${buf.byteLength} voxels, the image has ${n}`);
    }
    return new Uint8Array(buf);
  }

  #onEdited(e: EditEvent): void {
    const edits = this.#edits;
    if (edits && edits.labels === this.#editor.labels) {
      edits.dirty.push(e.indices);
      edits.dirtyCount += e.indices.length;
    }
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
    const edits = this.#edits;
    if (!edits || !this.#editor.labels || (!submit && !this.dirty)) return this.#chain;
    const run = async (): Promise<void> => {
      const { caseId } = edits;
      if (!submit && edits.dirtyCount === 0 && edits.restoredFrom === undefined) return; // An earlier save took these edits.
      // Taken when the save runs, so a save queued behind a failed one still sends every change since the last success.
      const dirty = edits.dirty;
      const dirtyCount = edits.dirtyCount;
      const restoredFrom = edits.restoredFrom;
      edits.dirty = [];
      edits.dirtyCount = 0;
      edits.restoredFrom = undefined;
      const seq = this.#editor.labels === edits.labels ? this.#editor.editSeq : this.#savedSeq;
      const activeEditSeconds = Math.round(this.#activeSeconds);
      this.#activeSeconds = 0;
      const t0 = performance.now();
      if (this.#caseId === caseId) {
        this.saveState = 'saving';
        this.saveMessage = submit ? 'Submitting…' : 'Saving…';
      }
      try {
        const { body, ...encoding } = encodeLabelSave(edits.labels, dirty, dirtyCount);
        const info = await this.#api.upload(
          'cases.saveLabel',
          {
            caseId,
            parentVersion: edits.base,
            submit,
            activeEditSeconds,
            ...encoding,
            ...(restoredFrom !== undefined ? { restoredFrom } : {}),
          },
          body,
        );
        edits.base = info.version;
        // Diagnostics read by tests/browser/autosave-bench.ts: one save, from the edits to the stored version.
        performance.measure('deformux.labels.save', { start: t0 });
        if (this.#caseId !== caseId || this.#edits !== edits) return; // Saved on the way out of a case.
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
        edits.dirty = dirty.concat(edits.dirty);
        edits.dirtyCount += dirtyCount;
        edits.restoredFrom ??= restoredFrom;
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

  /**
   * Shows an earlier version: its voxels replace the map as one undoable edit, saved at once as a
   * new version recorded as restored from that one.
   */
  async restore(version: number): Promise<void> {
    const caseId = this.#caseId;
    const labels = this.#editor.labels;
    if (!caseId || !labels) return;
    try {
      const data = await this.#fetch(caseId, version, labels.length);
      if (this.#caseId !== caseId) return;
      const before = this.#editor.editSeq;
      this.#editor.restore(data);
      this.shownVersion = version;
      if (this.#editor.editSeq === before || !this.#edits) return; // Identical to what is shown: nothing to save.
      this.#edits.restoredFrom = version;
      await this.flush();
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
    this.#loadSeq++;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#caseId = null;
    this.#edits = null;
    this.incoming = null;
    this.versions = [];
  }
}
