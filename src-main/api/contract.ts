// The one typed API between the renderer and src-main. Both transports (Electron IPC through the
// preload, and the web shell over HTTP on 127.0.0.1) carry exactly these calls and events.
// This file and src-main/domain (whose types it re-exports) are imported by the renderer too: types and plain
// constants only, no Node imports.

import type {
  CaseStatus,
  CaseSummary,
  ImportRequest,
  ImportResult,
  LabelVersionInfo,
  PredictionProvenance,
  SeriesChoice,
  VolumeHeader,
} from '../domain/cases';
import type { ApiEvent, ApiEventName, ApiEvents } from '../domain/events';
import type { JobInfo, JobStatus } from '../domain/jobs';
import type { LabelClass, LabelSchema, SchemaName } from '../domain/label-schemas';
import type { ModelInfo } from '../domain/models';
import type { ProjectInfo, ProjectSettings } from '../domain/project';

// The domain types and constants live in src-main/domain, below the layers that share them (store, jobs,
// engine, labels); they are part of this contract, so the renderer and the API find them here too.
export type {
  ApiEvent,
  ApiEventName,
  ApiEvents,
  CaseStatus,
  CaseSummary,
  ImportRequest,
  ImportResult,
  JobInfo,
  JobStatus,
  LabelClass,
  LabelSchema,
  LabelVersionInfo,
  ModelInfo,
  PredictionProvenance,
  ProjectInfo,
  ProjectSettings,
  SchemaName,
  SeriesChoice,
  VolumeHeader,
};
export { LABEL_SCHEMAS } from '../domain/label-schemas';

/** A project opened before on this machine (most recent first in 'projects.recent'). */
export interface RecentProject {
  dir: string;
  name: string;
  schema: SchemaName;
  openedAt: string;
}

/** The filters of a project's PACS worklist (QIDO-RS study search; all optional, combined with AND). */
export interface DicomwebQuery {
  patientId?: string;
  accessionNumber?: string;
  /** YYYYMMDD or YYYYMMDD-YYYYMMDD. */
  studyDate?: string;
  /** e.g. CT. */
  modality?: string;
}

/** The DICOMweb server a project is linked to (credentials are never part of it). */
export interface DicomwebLinkInfo {
  url: string;
  query: DicomwebQuery;
  /** True when this session holds credentials for it (kept in memory or the OS keychain, not the project). */
  hasCredentials: boolean;
  /** Store the label as a DICOM SEG on the server whenever a case from it is submitted. */
  storeOnSubmit: boolean;
}

/** A SEG from the server that became a label version, compared with the case's label before it. */
export interface RemoteSegVersionInfo {
  version: number;
  creator: string;
  description: string;
  /** Voxels that differ from the previous latest version (null when the case had no label). */
  changedVoxels: number | null;
  meanDice: number | null;
}

/** remote: only on the PACS; cached: retrieved, not labelled; then the case's status; stored: SEG sent back. */
export type RemoteStudyState = 'remote' | 'cached' | 'prelabelled' | 'in_progress' | 'submitted' | 'stored';

export interface RemoteStudyRow {
  studyInstanceUid: string;
  patientId: string;
  studyDate: string;
  accessionNumber: string;
  description: string;
  modalities: string[];
  seriesCount: number | null;
  state: RemoteStudyState;
  /** The case made from the study's image series, once retrieved. */
  caseId: string | null;
}

/** What the learning-curve panel plots. */
export interface LearningCurve {
  /** Per fine-tune run, at most 500 points (evenly downsampled). */
  trainingLoss: { jobId: string; modelId: string | null; step: number; loss: number }[];
  /** Model versions with a holdout score, oldest first. */
  modelDice: { modelId: string; version: number; holdoutDice: number | null; createdAt: string }[];
  /** Submitted cases in submission order. */
  cases: {
    caseId: string;
    name: string;
    submittedAt: string;
    /** The model whose pre-label the annotator corrected (null: labelled from scratch). */
    modelId: string | null;
    modelVersion: number | null;
    dicePrelabelVsSubmitted: number | null;
    voxelsChanged: number | null;
    activeEditMinutes: number;
    holdout: boolean;
  }[];
}

/**
 * Request/response calls. Key = method name (also the IPC channel suffix and the HTTP path
 * `/api/<method>`). Requests and responses are JSON; binary payloads use the binary calls below.
 */
export interface ApiCalls {
  'project.info': { req: Record<string, never>; res: ProjectInfo };
  /** Projects opened before on this machine, most recent first (folders that are gone are left out). */
  'projects.recent': { req: Record<string, never>; res: RecentProject[] };
  /** Switches the app to the project in `dir` (the renderer reloads on 'project.changed'). */
  'projects.open': { req: { dir: string }; res: ProjectInfo };
  /** Creates an empty project of the schema in `dir` (missing or empty folder) and switches to it. */
  'projects.create': { req: { dir: string; schema: SchemaName; name?: string }; res: ProjectInfo };
  'cases.list': { req: Record<string, never>; res: CaseSummary[] };
  /**
   * The shell's own file dialog (Electron): NIfTI files or a DICOM folder, as paths the app's process reads
   * ('cases.import' them). Empty when the dialog was cancelled; the web shell has none (the page uploads).
   */
  'system.pickPaths': { req: { kind: 'files' | 'folder' }; res: { paths: string[] } };
  'cases.import': { req: ImportRequest; res: ImportResult };
  'cases.open': { req: { caseId: string }; res: VolumeHeader };
  /** Saved label maps of a case, oldest first (version 1 of a demo case is the phantom's truth). */
  'cases.labelVersions': { req: { caseId: string }; res: LabelVersionInfo[] };
  'cases.setStatus': { req: { caseId: string; status: CaseStatus }; res: CaseSummary };
  'cases.stats': { req: { caseId: string }; res: CaseStats };
  /** Writes a label version (latest when omitted) under the project's exports/ folder; returns the path. */
  'cases.export': { req: { caseId: string; format: ExportFormat; version?: number }; res: { path: string } };
  /** Writes an nnU-Net v2 dataset of the submitted cases under exports/; returns its folder. */
  'project.exportNnunet': { req: Record<string, never>; res: { path: string; cases: number } };
  /** Pre-labels the given cases, or every case without any label version ('unlabelled'), in the engine worker. */
  'jobs.prelabel': {
    req: { caseIds: string[] | 'unlabelled'; tta?: boolean };
    res: { jobId: string; caseIds: string[] };
  };
  'jobs.cancel': { req: { jobId: string }; res: JobInfo };
  /**
   * Fine-tunes the active model on the submitted cases (holdout excluded) in the engine worker; the
   * candidate is promoted when its holdout Dice is not worse (setting). correctionWeight: extra loss
   * weight on voxels the annotator changed from the pre-label (0 = off).
   */
  'jobs.finetune': { req: { steps?: number; correctionWeight?: number }; res: { jobId: string } };
  /** Pauses a running fine-tune at its next step (a checkpoint is kept). */
  'jobs.pause': { req: { jobId: string }; res: JobInfo };
  /** Continues a paused or interrupted fine-tune from its last checkpoint. */
  'jobs.resume': { req: { jobId: string }; res: JobInfo };
  /** Newest first. */
  'jobs.list': { req: Record<string, never>; res: JobInfo[] };
  /** Oldest version first. */
  'models.list': { req: Record<string, never>; res: ModelInfo[] };
  /** Makes a candidate (or retired) model the active one; the next pre-labels use it. */
  'models.promote': { req: { modelId: string }; res: ModelInfo[] };
  /** Goes back to the model that was active before the current one. */
  'models.rollback': { req: Record<string, never>; res: ModelInfo[] };
  'project.settings': { req: Record<string, never>; res: ProjectSettings };
  'project.setSettings': { req: Partial<ProjectSettings>; res: ProjectSettings };
  'project.learningCurve': { req: Record<string, never>; res: LearningCurve };
  /** Provenance of a prediction label version (null for other kinds). */
  'cases.provenance': { req: { caseId: string; version: number }; res: PredictionProvenance | null };
  /** Links the project to a DICOMweb server and a worklist query; a token or user/password stays in memory. */
  'dicomweb.link': {
    req: {
      url: string;
      query?: DicomwebQuery;
      token?: string;
      username?: string;
      password?: string;
      storeOnSubmit?: boolean;
    };
    res: DicomwebLinkInfo;
  };
  'dicomweb.linkInfo': { req: Record<string, never>; res: DicomwebLinkInfo | null };
  /** The linked server's studies matching the query, with their state in this project. */
  'dicomweb.worklist': { req: Record<string, never>; res: RemoteStudyRow[] };
  /**
   * Retrieves a remote study's image series as a case (progress as job.progress events of kind
   * 'dicomweb-retrieve' with this jobId; jobs.cancel stops it); a retrieved study opens locally.
   */
  'dicomweb.open': {
    req: { studyInstanceUid: string; jobId?: string };
    res: { caseId: string; from: 'case' | 'cache' | 'server'; segVersions: RemoteSegVersionInfo[] };
  };
  /** Brings SEGs on the server for the case's series (a colleague's) in as label versions. */
  'dicomweb.pullSegs': { req: { caseId: string }; res: RemoteSegVersionInfo[] };
  /**
   * Retrieves every remote study of the worklist (progress as job.progress of kind 'dicomweb-retrieve'
   * with this jobId), then pre-labels the retrieved cases that have no label yet (jobs.prelabel).
   */
  'dicomweb.prelabelAll': {
    req: { jobId?: string };
    res: { caseIds: string[]; prelabelJobId: string | null; errors: string[] };
  };
  /** Stores the case's label (submitted, else latest) on the linked server as a DICOM SEG. */
  'dicomweb.storeSeg': { req: { caseId: string }; res: { sopInstanceUid: string } };
}

/** Calls whose response is raw bytes (ArrayBuffer over IPC; application/octet-stream over HTTP). */
export interface ApiBinaryCalls {
  /** Voxels of the case's image, little-endian, of VolumeHeader.dataType, i fastest. */
  'cases.volumeData': { req: { caseId: string } };
  /**
   * One slice of the case's image (the viewer shows it while the whole volume travels): the voxels with
   * voxel axis `axis` (0 = i, 1 = j, 2 = k) at `index`, little-endian of VolumeHeader.dataType, the two
   * other axes in order with the lower one fastest (axis 2: i × j; axis 1: i × k; axis 0: j × k).
   */
  'cases.sliceData': { req: { caseId: string; axis: 0 | 1 | 2; index: number } };
  /** Voxels of one label version: uint8 class values on the image's exact grid, i fastest. */
  'cases.labelData': { req: { caseId: string; version: number } };
  /** Uncertainty of a prediction version (latest prediction when omitted): uint8, 0..255 = 0..1, image grid. */
  'cases.uncertaintyData': { req: { caseId: string; version?: number } };
}

/** Saves label voxels (the request body: uint8 class values on the image's exact grid, i fastest). */
export interface SaveLabelRequest {
  caseId: string;
  /** The version the edits started from (null for a first label); recorded as the parent. */
  parentVersion: number | null;
  /** True when the annotator submits the case: the version is marked submitted and becomes training data. */
  submit: boolean;
  /** Active editing seconds since the previous save (for the per-case minutes statistic). */
  activeEditSeconds: number;
  /**
   * 'full' (default): the body holds one uint8 class value per voxel. 'sparse': the body holds
   * `changes` uint32 little-endian voxel indices (strictly increasing) followed by `changes` uint8
   * class values, applied to the parent version's voxels (zeros without a parent), so a stroke's
   * save sends kilobytes instead of the whole map.
   */
  encoding?: 'full' | 'sparse';
  /** Number of changed voxels in a sparse body. */
  changes?: number;
  /** The earlier version this save brings back (recorded as "restored from vN"). */
  restoredFrom?: number;
}

/** Per-case statistics shown in the worklist and the learning curve. */
export interface CaseStats {
  caseId: string;
  status: CaseStatus;
  /** Voxels that differ between the first prediction and the latest version (null without a prediction). */
  voxelsChangedSincePrelabel: number | null;
  /** Mean Dice over the schema's classes between the prediction and the submitted label (null until both exist). */
  dicePrelabelVsSubmitted: number | null;
  activeEditMinutes: number;
}

export type ExportFormat = 'nifti' | 'dicom-seg';

/**
 * Calls that send raw bytes with a JSON request (ArrayBuffer over IPC; over HTTP a POST to
 * `/api/upload/<method>` with the JSON request in the `x-deformux-request` header, URI-encoded).
 */
export interface ApiUploadCalls {
  'cases.saveLabel': { req: SaveLabelRequest; res: LabelVersionInfo };
  /**
   * Stages one file the user picked or dropped in the page (the web shell cannot read the browser's
   * disk) under <project>/incoming/<batchId>/; 'cases.import' of the returned folder or file then
   * imports the batch (a DICOM series is a batch of files).
   */
  'cases.uploadFile': { req: { batchId: string; fileName: string; size: number }; res: { dir: string; path: string } };
}

export type ApiMethod = keyof ApiCalls;
export type ApiBinaryMethod = keyof ApiBinaryCalls;
export type ApiUploadMethod = keyof ApiUploadCalls;
export const API_UPLOAD_METHODS = ['cases.saveLabel', 'cases.uploadFile'] as const satisfies readonly ApiUploadMethod[];
/** Largest upload body the web shell accepts (a 1024×1024×1024 uint8 label map). */
export const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
export const WEB_UPLOAD_PREFIX = '/api/upload/';
export const WEB_REQUEST_HEADER = 'x-deformux-request';
export const IPC_UPLOAD_CHANNEL = 'deformux:upload';

export const API_METHODS = [
  'project.info',
  'projects.recent',
  'projects.open',
  'projects.create',
  'cases.list',
  'system.pickPaths',
  'cases.import',
  'cases.open',
  'cases.labelVersions',
  'cases.setStatus',
  'cases.stats',
  'cases.export',
  'project.exportNnunet',
  'jobs.prelabel',
  'jobs.cancel',
  'jobs.finetune',
  'jobs.pause',
  'jobs.resume',
  'jobs.list',
  'models.list',
  'models.promote',
  'models.rollback',
  'project.settings',
  'project.setSettings',
  'project.learningCurve',
  'cases.provenance',
  'dicomweb.link',
  'dicomweb.linkInfo',
  'dicomweb.worklist',
  'dicomweb.open',
  'dicomweb.storeSeg',
  'dicomweb.pullSegs',
  'dicomweb.prelabelAll',
] as const satisfies readonly ApiMethod[];
export const API_BINARY_METHODS = [
  'cases.volumeData',
  'cases.sliceData',
  'cases.labelData',
  'cases.uncertaintyData',
] as const satisfies readonly ApiBinaryMethod[];

// Compile-time check that the lists above name every call (a missing one would be a 404 at run time).
type AssertNever<T extends never> = T;
export type AllApiMethodsListed = AssertNever<Exclude<ApiMethod, (typeof API_METHODS)[number]>>;
export type AllApiBinaryMethodsListed = AssertNever<Exclude<ApiBinaryMethod, (typeof API_BINARY_METHODS)[number]>>;
export type AllApiUploadMethodsListed = AssertNever<Exclude<ApiUploadMethod, (typeof API_UPLOAD_METHODS)[number]>>;

/** Optional extras of a binary call; a transport may ignore them (IPC delivers in one piece). */
export interface BinaryCallOptions {
  /** Fraction 0..1 of the payload received, when the transport streams it. */
  onProgress?: (fraction: number) => void;
  /** Cancels the transfer; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
}

/** What the renderer sees, whichever shell it runs in. */
export interface DeformuxApi {
  call<M extends ApiMethod>(method: M, req: ApiCalls[M]['req']): Promise<ApiCalls[M]['res']>;
  binary<M extends ApiBinaryMethod>(
    method: M,
    req: ApiBinaryCalls[M]['req'],
    options?: BinaryCallOptions,
  ): Promise<ArrayBuffer>;
  /** Subscribes to all events; returns an unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
  upload<M extends ApiUploadMethod>(
    method: M,
    req: ApiUploadCalls[M]['req'],
    data: ArrayBuffer,
  ): Promise<ApiUploadCalls[M]['res']>;
}

/** Errors cross the transport as this shape; the client rethrows them as Error(message). */
export interface ApiErrorBody {
  error: string;
}

/** Web shell: every request carries the per-run token in this header, `?token=`, or the cookie. */
export const WEB_TOKEN_HEADER = 'x-deformux-token';
export const WEB_TOKEN_QUERY = 'token';
/** Web shell: POST `/api/<method>` with the JSON request as body; events as SSE on `/api/events`. */
export const WEB_API_PREFIX = '/api/';
export const WEB_EVENTS_PATH = '/api/events';

export const IPC_CALL_CHANNEL = 'deformux:call';
export const IPC_BINARY_CHANNEL = 'deformux:binary';
export const IPC_EVENT_CHANNEL = 'deformux:event';
