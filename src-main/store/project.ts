// A project folder: project.sqlite (cases, label versions, models, jobs) + content files under cases/.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, promises as fs } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { CaseStatus, CaseSummary, LabelVersionInfo, VolumeHeader } from '../domain/cases';
import { LABEL_SCHEMAS } from '../domain/label-schemas';
import type { SchemaName } from '../domain/label-schemas';
import type { ProjectInfo } from '../domain/project';
import { extractSlice, sliceShape, type SliceAxis } from '../imaging/slice';
import { checkGeometry } from '../imaging/volume';
import type { Volume, VoxelArray } from '../imaging/volume';
import type { SourceSeriesRef } from '../export/dicom/source-ref';
import { NotFoundError, StoreRequestError } from './errors';
import { assertSameGrid, labelVersionOf, labelVoxels, sha256Hex } from './label-rows';
import { caseSummaryOf, volumeHeaderOf } from './rows';
import type { CaseRow, LabelVersionRow } from './rows';
import { RawImageCache, type RawCacheOptions } from './raw-cache';
import { openDatabase } from './schema';
import { toStorageVolume } from './storage';
import { sweepLeftovers } from './sweep';
import type { SweepResult } from './sweep';
import { defaultVolumeIo } from './volume-io';
import type { VolumeIo } from './volume-io';

export const PROJECT_DB_FILE = 'project.sqlite';
/** Case ids are URL- and file-name-safe; anything else is refused before touching the disk. */
export const CASE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const CASE_STATUSES: readonly CaseStatus[] = ['new', 'prelabelled', 'in_progress', 'submitted'];
const OPEN_CACHE_SIZE = 2; // a case being viewed + the one before: bounded memory for big CTs

export type LabelKind = LabelVersionRow['kind'];

/** A version as the API sees it plus its row id and voxel checksum (kept inside src-main). */
export type LabelVersionSummary = LabelVersionInfo & { id: number; voxelsSha256: string | null };

export interface NewCase {
  name?: string;
  synthetic?: boolean;
  status?: CaseStatus;
  /** The DICOM series the image came from (kept for DICOM SEG export). */
  dicomSource?: SourceSeriesRef;
  /** Identity of the imported data, so the same series or file is not imported twice. */
  seriesUid?: string;
  contentSha256?: string;
}

export interface NewLabelVersion {
  kind: LabelKind;
  modelId?: string;
  editor?: string;
  voxelsChanged?: number;
  /** Marks the version as the submitted one (training data). */
  submitted?: boolean;
  /** The version the edits started from; the latest version when omitted, none when null. */
  parentVersion?: number | null;
  activeEditSeconds?: number;
  /** The earlier version whose voxels this one restores. */
  restoredFrom?: number;
  /** Case status to set in the same transaction as the version row. */
  status?: CaseStatus;
}

function nowIso(): string {
  return new Date().toISOString();
}

function newCaseId(): string {
  return `c${randomBytes(6).toString('base64url')}`;
}

export function isProjectDir(dir: string): boolean {
  return existsSync(join(dir, PROJECT_DB_FILE));
}

/** One slice of a case image (layout of imaging/slice: the lower remaining axis fastest). */
export interface ImageSlice {
  data: VoxelArray;
  width: number;
  height: number;
}

export class ProjectStore {
  readonly dir: string;
  /** Raw copies of large case images (cache/images/), read instead of inflating the .nii.gz again. */
  readonly rawCache: RawImageCache;
  private readonly db: SqliteDatabase;
  private readonly ioPromise: Promise<VolumeIo>;
  private readonly openCache = new Map<string, Promise<Volume>>();
  /** The cases of openCache whose voxels are in memory already (their promise has resolved). */
  private readonly openLoaded = new Set<string>();
  /** Label writes of this process run one at a time, so version numbers never race. */
  private writeChain: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, db: SqliteDatabase, io: VolumeIo | undefined, rawCache?: RawCacheOptions) {
    this.dir = dir;
    this.db = db;
    this.rawCache = new RawImageCache(dir, rawCache);
    this.ioPromise = io ? Promise.resolve(io) : defaultVolumeIo();
    // A failed lazy load is reported by the call that needs it, not as an unhandled rejection.
    this.ioPromise.catch(() => undefined);
  }

  /** Creates a new project in `dir` (made if missing; must not already hold a project). */
  static create(
    dir: string,
    opts: { name?: string; schema: SchemaName; synthetic?: boolean; io?: VolumeIo; rawCache?: RawCacheOptions },
  ): ProjectStore {
    const root = resolve(dir);
    if (isProjectDir(root)) throw new StoreRequestError(`${root}: already holds a project (${PROJECT_DB_FILE}).`);
    if (!(opts.schema in LABEL_SCHEMAS))
      throw new StoreRequestError(`unknown label schema '${opts.schema}' (kidney or pancreas).`);
    mkdirSync(join(root, 'cases'), { recursive: true });
    const db = openDatabase(join(root, PROJECT_DB_FILE), { create: true });
    db.prepare('INSERT INTO project (id, name, schema_name, synthetic, created_at) VALUES (1, ?, ?, ?, ?)').run(
      opts.name ?? basename(root),
      opts.schema,
      opts.synthetic ? 1 : 0,
      nowIso(),
    );
    return new ProjectStore(root, db, opts.io, opts.rawCache);
  }

  /** Opens an existing project folder. */
  static open(dir: string, opts: { io?: VolumeIo; rawCache?: RawCacheOptions } = {}): ProjectStore {
    const root = resolve(dir);
    if (!isProjectDir(root)) throw new NotFoundError(`${root}: not a DeformUX project (no ${PROJECT_DB_FILE}).`);
    const db = openDatabase(join(root, PROJECT_DB_FILE), { create: false });
    const project = db.prepare('SELECT id FROM project WHERE id = 1').get();
    if (!project) {
      db.close();
      throw new NotFoundError(`${root}: ${PROJECT_DB_FILE} has no project record.`);
    }
    return new ProjectStore(root, db, opts.io, opts.rawCache);
  }

  /** Clears what interrupted writes left (old temp files, case folders without a row). */
  sweepLeftovers(nowMs?: number): Promise<SweepResult> {
    const ids = new Set((this.db.prepare('SELECT id FROM cases').all() as { id: string }[]).map((r) => r.id));
    const labelFiles = new Set(
      (this.db.prepare('SELECT label_file FROM label_versions').all() as { label_file: string }[]).map((r) =>
        r.label_file.split('\\').join('/'),
      ),
    );
    return sweepLeftovers(this.dir, ids, nowMs, labelFiles);
  }

  close(): void {
    this.openCache.clear();
    this.openLoaded.clear();
    if (this.db.open) this.db.close();
  }

  /** The open database, for the store's row modules (model-rows, job-rows, prediction-rows). */
  get database(): SqliteDatabase {
    return this.db;
  }

  io(): Promise<VolumeIo> {
    return this.ioPromise;
  }

  info(): ProjectInfo {
    const p = this.db.prepare('SELECT name, schema_name, synthetic FROM project WHERE id = 1').get() as {
      name: string;
      schema_name: SchemaName;
      synthetic: number;
    };
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM cases').get() as { n: number };
    return {
      name: p.name,
      dir: this.dir,
      schema: LABEL_SCHEMAS[p.schema_name],
      caseCount: n,
      synthetic: p.synthetic === 1,
    };
  }

  listCases(): CaseSummary[] {
    const rows = this.db.prepare('SELECT * FROM cases ORDER BY created_at, name, id').all() as CaseRow[];
    return rows.map(caseSummaryOf);
  }

  getCase(caseId: string): CaseSummary {
    return caseSummaryOf(this.caseRow(caseId));
  }

  caseHeader(caseId: string): VolumeHeader {
    return volumeHeaderOf(this.caseRow(caseId));
  }

  setCaseStatus(caseId: string, status: CaseStatus): CaseSummary {
    if (!CASE_STATUSES.includes(status)) throw new StoreRequestError(`unknown case status '${status}'.`);
    this.caseRow(caseId);
    this.db.prepare('UPDATE cases SET status = ?, updated_at = ? WHERE id = ?').run(status, nowIso(), caseId);
    return this.getCase(caseId);
  }

  /** The case image in its stored type; the last few opened stay in memory. */
  loadImage(caseId: string): Promise<Volume> {
    const row = this.caseRow(caseId);
    const cached = this.openCache.get(caseId);
    if (cached) {
      // Refresh its place: Map iteration order is the eviction order.
      this.openCache.delete(caseId);
      this.openCache.set(caseId, cached);
      return cached;
    }
    const loading = this.readImage(row);
    this.openCache.set(caseId, loading);
    loading.then(
      () => {
        if (this.openCache.get(caseId) === loading) this.openLoaded.add(caseId);
      },
      () => {
        if (this.openCache.get(caseId) === loading) this.openCache.delete(caseId);
      },
    );
    while (this.openCache.size > OPEN_CACHE_SIZE) {
      const oldest = this.openCache.keys().next().value as string;
      this.openCache.delete(oldest);
      this.openLoaded.delete(oldest);
    }
    return loading;
  }

  /**
   * One slice of a case image (the viewer's first picture while the whole volume travels): cut from
   * the image in memory when it is there, else read alone from the raw copy when one exists (axes 1
   * and 2), else cut from the image once loaded.
   */
  async loadImageSlice(caseId: string, axis: SliceAxis, index: number): Promise<ImageSlice> {
    const row = this.caseRow(caseId);
    const header = volumeHeaderOf(row);
    if (![0, 1, 2].includes(axis)) throw new StoreRequestError(`axis must be 0, 1 or 2, not ${String(axis)}.`);
    if (!Number.isInteger(index) || index < 0 || index >= header.dims[axis])
      throw new StoreRequestError(
        `slice ${index} is outside the case's ${header.dims[axis]} slices along axis ${axis} (0..${header.dims[axis] - 1}).`,
      );
    const shape = sliceShape(header.dims, axis);
    if (!this.openLoaded.has(caseId) && this.rawCache.wants(header)) {
      const key = await this.rawCache.keyOf(caseId, join(this.dir, row.image_file));
      const data = key ? await this.rawCache.readSlice(key, header, axis, index) : null;
      if (data) return { data, ...shape };
    }
    const volume = await this.loadImage(caseId);
    return { data: extractSlice(volume.data, volume.dims, axis, index), ...shape };
  }

  private async readImage(row: CaseRow): Promise<Volume> {
    const file = join(this.dir, row.image_file);
    const header = volumeHeaderOf(row);
    const useCache = this.rawCache.wants(header);
    // The key is taken before the image is read: a copy made from this read names the file as it was.
    const key = useCache ? await this.rawCache.keyOf(row.id, file) : null;
    if (key) {
      const copy = await this.rawCache.read(key, header);
      if (copy) return copy;
    }
    const volume = await (await this.ioPromise).read(file);
    if (volume.dims.join() !== header.dims.join()) {
      throw new StoreRequestError(
        `${file}: holds ${volume.dims.join('×')} voxels but the project expects ${header.dims.join('×')}.`,
      );
    }
    const stored = toStorageVolume(volume).volume;
    if (key) this.rawCache.store(row.id, key, stored);
    return stored;
  }

  /**
   * Adds an image as a new case: writes cases/<id>/image.nii.gz atomically, then records it in one
   * transaction. A failure leaves neither a row nor a stray file.
   */
  async addCase(image: Volume, opts: NewCase = {}): Promise<CaseSummary> {
    checkGeometry(image.source || 'image', image);
    const { volume, dataType } = toStorageVolume(image);
    const id = newCaseId();
    const caseDir = join(this.dir, 'cases', id);
    const imageFile = join('cases', id, 'image.nii.gz');
    await fs.mkdir(join(caseDir, 'labels'), { recursive: true });
    try {
      await (await this.ioPromise).write(join(this.dir, imageFile), volume);
      const now = nowIso();
      this.db
        .prepare(
          `INSERT INTO cases (id, name, status, image_file, data_type, dims, spacing_mm, origin_mm, direction,
             modality, description, source, synthetic, created_at, updated_at, dicom_source, series_uid,
             content_sha256)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          opts.name ?? (image.description || id),
          opts.status ?? 'new',
          imageFile,
          dataType,
          JSON.stringify(image.dims),
          JSON.stringify(image.spacingMm),
          JSON.stringify(image.originMm),
          JSON.stringify(image.direction),
          image.modality || 'CT',
          image.description,
          image.source,
          opts.synthetic ? 1 : 0,
          now,
          now,
          opts.dicomSource ? JSON.stringify(opts.dicomSource) : null,
          opts.seriesUid ?? null,
          opts.contentSha256 ?? null,
        );
    } catch (err) {
      await fs.rm(caseDir, { recursive: true, force: true });
      throw err;
    }
    // A case is imported to be opened: its raw copy is made now, while the voxels are in memory, so even
    // the first open reads bytes instead of inflating the image. A failed copy costs only that speed.
    const key = this.rawCache.wants({ dims: volume.dims, dataType })
      ? await this.rawCache.keyOf(id, join(this.dir, imageFile))
      : null;
    if (key)
      await this.rawCache.write(id, key, { ...volume, source: join(this.dir, imageFile) }).catch(() => undefined);
    return this.getCase(id);
  }

  /** The case that already holds this DICOM series or these exact voxels, if any. */
  findDuplicateCase(key: { seriesUid?: string; contentSha256?: string }): CaseSummary | null {
    const row = this.db
      .prepare(
        'SELECT id FROM cases WHERE (series_uid IS NOT NULL AND series_uid = ?) OR (content_sha256 IS NOT NULL AND content_sha256 = ?) LIMIT 1',
      )
      .get(key.seriesUid ?? null, key.contentSha256 ?? null) as { id: string } | undefined;
    return row ? this.getCase(row.id) : null;
  }

  /** Stores a label map as the case's next version; it must lie on the image's exact grid. */
  addLabelVersion(caseId: string, label: Volume, meta: NewLabelVersion): Promise<LabelVersionSummary> {
    const run = this.writeChain.then(() => this.writeLabelVersion(caseId, label, meta));
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  private async writeLabelVersion(caseId: string, label: Volume, meta: NewLabelVersion): Promise<LabelVersionSummary> {
    const header = this.caseHeader(caseId);
    assertSameGrid(header, label);
    const data = labelVoxels(label, header.caseId);
    const previous = this.db
      .prepare('SELECT id, version FROM label_versions WHERE case_id = ? ORDER BY version DESC LIMIT 1')
      .get(caseId) as { id: number; version: number } | undefined;
    const version = (previous?.version ?? 0) + 1;
    let parentId = previous?.id ?? null;
    if (meta.parentVersion !== undefined) {
      parentId = null;
      if (meta.parentVersion !== null) {
        const parent = this.db
          .prepare('SELECT id FROM label_versions WHERE case_id = ? AND version = ?')
          .get(caseId, meta.parentVersion) as { id: number } | undefined;
        if (!parent) throw new NotFoundError(`case ${caseId} has no label version ${meta.parentVersion} to edit from.`);
        parentId = parent.id;
      }
    }
    if (meta.status !== undefined && !CASE_STATUSES.includes(meta.status))
      throw new StoreRequestError(`unknown case status '${meta.status}'.`);
    const checksum = await sha256Hex(data);
    // A random suffix keeps two writers (say Electron and a web shell on one project) from ever
    // replacing each other's file; the UNIQUE(case_id, version) constraint then refuses the loser.
    const labelFile = join(
      'cases',
      caseId,
      'labels',
      `v${String(version).padStart(4, '0')}-${randomBytes(3).toString('hex')}.nii.gz`,
    );
    await (await this.ioPromise).write(join(this.dir, labelFile), { ...label, data, modality: 'SEG' });
    try {
      const insert = this.db.transaction(() => {
        const info = this.db
          .prepare(
            `INSERT INTO label_versions (case_id, version, label_file, kind, parent_id, model_id, editor,
               voxels_changed, created_at, submitted, active_edit_seconds, voxels_sha256, restored_from)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            caseId,
            version,
            labelFile,
            meta.kind,
            parentId,
            meta.modelId ?? null,
            meta.editor ?? null,
            meta.voxelsChanged ?? null,
            nowIso(),
            meta.submitted ? 1 : 0,
            meta.activeEditSeconds ?? 0,
            checksum,
            meta.restoredFrom ?? null,
          );
        // A model's pre-label moves a new case to 'prelabelled' (never back from in-progress work).
        const status =
          meta.status ??
          (meta.kind === 'prediction' && this.caseRow(caseId).status === 'new' ? ('prelabelled' as const) : undefined);
        if (status !== undefined)
          this.db.prepare('UPDATE cases SET status = ?, updated_at = ? WHERE id = ?').run(status, nowIso(), caseId);
        else this.db.prepare('UPDATE cases SET updated_at = ? WHERE id = ?').run(nowIso(), caseId);
        return Number(info.lastInsertRowid);
      });
      const id = insert();
      return this.labelVersion(id);
    } catch (err) {
      await fs.rm(join(this.dir, labelFile), { force: true });
      throw err;
    }
  }

  listLabelVersions(caseId: string): LabelVersionSummary[] {
    this.caseRow(caseId);
    const rows = this.db
      .prepare(
        `SELECT v.*, p.version AS parent_version FROM label_versions v
         LEFT JOIN label_versions p ON p.id = v.parent_id WHERE v.case_id = ? ORDER BY v.version`,
      )
      .all(caseId) as (LabelVersionRow & { parent_version: number | null })[];
    return rows.map((row) => labelVersionOf(row, row.parent_version));
  }

  /** The DICOM series a case was imported from; null for NIfTI and synthetic cases. */
  dicomSource(caseId: string): SourceSeriesRef | null {
    const row = this.caseRow(caseId);
    return row.dicom_source ? (JSON.parse(row.dicom_source) as SourceSeriesRef) : null;
  }

  /** Absolute path of a case's image (NIfTI), for a reader in another thread (the engine worker). */
  imageFile(caseId: string): string {
    return join(this.dir, this.caseRow(caseId).image_file);
  }

  /**
   * Absolute paths of a case's image and of one label version, for a reader in another thread (the
   * engine worker reads fine-tune cases itself rather than receive copies of full-size scans).
   */
  caseFiles(caseId: string, version: number): { image: string; label: string } {
    const row = this.caseRow(caseId);
    const v = this.db
      .prepare('SELECT label_file FROM label_versions WHERE case_id = ? AND version = ?')
      .get(caseId, version) as { label_file: string } | undefined;
    if (!v) throw new NotFoundError(`case ${caseId} has no label version ${version}.`);
    return { image: join(this.dir, row.image_file), label: join(this.dir, v.label_file) };
  }

  /** Reads one label version's voxels (uint8, on the image grid). */
  async loadLabel(caseId: string, version: number): Promise<Volume> {
    const image = volumeHeaderOf(this.caseRow(caseId));
    const row = this.db
      .prepare('SELECT * FROM label_versions WHERE case_id = ? AND version = ?')
      .get(caseId, version) as LabelVersionRow | undefined;
    if (!row) throw new NotFoundError(`case ${caseId} has no label version ${version}.`);
    const label = await (await this.ioPromise).read(join(this.dir, row.label_file));
    assertSameGrid(image, label);
    return label;
  }

  private labelVersion(id: number): LabelVersionSummary {
    const row = this.db
      .prepare(
        `SELECT v.*, p.version AS parent_version FROM label_versions v
         LEFT JOIN label_versions p ON p.id = v.parent_id WHERE v.id = ?`,
      )
      .get(id) as LabelVersionRow & { parent_version: number | null };
    return labelVersionOf(row, row.parent_version);
  }

  private caseRow(caseId: string): CaseRow {
    if (typeof caseId !== 'string' || !CASE_ID_PATTERN.test(caseId)) {
      throw new NotFoundError(`'${String(caseId).slice(0, 80)}' is not a case id.`);
    }
    const row = this.db.prepare('SELECT * FROM cases WHERE id = ?').get(caseId) as CaseRow | undefined;
    if (!row) throw new NotFoundError(`no case with id '${caseId}' in this project.`);
    return row;
  }
}
