// Cases of a project and their label versions, as the store keeps them and the API shows them.
// Types and plain constants only, no imports from outside src-main/domain: the renderer gets them through
// api/contract.ts too.

export type CaseStatus = 'new' | 'prelabelled' | 'in_progress' | 'submitted';

export interface CaseSummary {
  id: string;
  name: string;
  status: CaseStatus;
  dims: [number, number, number];
  spacingMm: [number, number, number];
  /** True for synthetic phantoms: the UI must say so. */
  synthetic: boolean;
  /** Short description of the source (file name, DICOM series description). */
  source: string;
  createdAt: string;
  updatedAt: string;
}

/** Geometry and storage of a volume whose voxels travel separately as binary. */
export interface VolumeHeader {
  caseId: string;
  dims: [number, number, number];
  spacingMm: [number, number, number];
  /** LPS mm of the centre of voxel (0,0,0). */
  originMm: [number, number, number];
  /** i, j, k axis unit vectors in LPS (9 numbers). */
  direction: number[];
  /** Element type of the binary voxel payload (little-endian). */
  dataType: 'int16' | 'float32' | 'uint8';
  modality: string;
  description: string;
  synthetic: boolean;
}

export interface ImportRequest {
  /** Files (.nii, .nii.gz) or DICOM folders on the machine running src-main. */
  paths: string[];
  /** When a DICOM folder holds several series: which SeriesInstanceUID to take. */
  seriesInstanceUid?: string;
}

export interface ImportResult {
  imported: CaseSummary[];
  /** One clear sentence per input that could not be imported (names the file and problem). */
  errors: string[];
  /** DICOM folders with several series: the user must choose. */
  choices: { path: string; series: SeriesChoice[] }[];
}

/** One series of a DICOM folder as the import browser lists it (patient, study, series, a thumbnail). */
export interface SeriesChoice {
  uid: string;
  description: string;
  slices: number;
  modality?: string;
  seriesNumber?: number | null;
  patientId?: string;
  patientName?: string;
  studyUid?: string;
  /** DICOM DA (YYYYMMDD) or ''. */
  studyDate?: string;
  studyDescription?: string;
  /** The middle image, windowed for soft tissue: grey levels 0..255 row by row, base64. */
  thumbnail?: { width: number; height: number; data: string };
}

/** One saved label map of a case, with its provenance. */
export interface LabelVersionInfo {
  caseId: string;
  version: number;
  /** reference: ground truth (synthetic phantoms); prediction: a model's; edit: an annotator's; import: from a file. */
  kind: 'reference' | 'prediction' | 'edit' | 'import';
  /** True for the version the annotator submitted (an 'edit' that became training data). */
  submitted: boolean;
  /** The version this one was edited from (null for a first label). */
  parentVersion: number | null;
  modelId: string | null;
  /** OS user name of the annotator for edits; null for predictions, imports and references. */
  editor: string | null;
  /** Voxels that differ from the parent version (null without a parent). */
  voxelsChanged: number | null;
  /** Active editing seconds spent on this version (0 for non-edits). */
  activeEditSeconds: number;
  /** For a restore: the earlier version whose voxels this version brought back (else null). */
  restoredFrom: number | null;
  createdAt: string;
}

/** Where a prediction label version came from. */
export interface PredictionProvenance {
  modelId: string;
  /** Model folder, training steps and provenance line of model.json. */
  modelVersion: string;
  /** Pipeline settings (overlap, TTA, post-processing, patch, spacing). */
  settings: Record<string, unknown>;
  seconds: number;
  createdAt: string;
  hasUncertainty: boolean;
}
