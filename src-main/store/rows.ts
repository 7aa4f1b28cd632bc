// Row shapes of the project database and their mapping to the API's types.
import type { CaseStatus, CaseSummary, VolumeHeader } from '../domain/cases';
import type { Direction, Vec3 } from '../imaging/volume';
import type { StoredDataType } from './storage';

export interface CaseRow {
  id: string;
  name: string;
  status: CaseStatus;
  image_file: string;
  data_type: StoredDataType;
  dims: string;
  spacing_mm: string;
  origin_mm: string;
  direction: string;
  modality: string;
  description: string;
  source: string;
  synthetic: number;
  created_at: string;
  updated_at: string;
  /** JSON of the DICOM SourceSeriesRef for cases imported from DICOM (schema 2); null otherwise. */
  dicom_source: string | null;
}

export interface LabelVersionRow {
  id: number;
  case_id: string;
  version: number;
  label_file: string;
  kind: 'reference' | 'prediction' | 'edit' | 'import';
  parent_id: number | null;
  model_id: string | null;
  editor: string | null;
  voxels_changed: number | null;
  created_at: string;
  submitted: number;
  active_edit_seconds: number;
  /** Hex SHA-256 of the uint8 voxels (schema 2; null for rows written before). */
  voxels_sha256: string | null;
  restored_from: number | null;
}

export function caseSummaryOf(row: CaseRow): CaseSummary {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    dims: JSON.parse(row.dims) as Vec3,
    spacingMm: JSON.parse(row.spacing_mm) as Vec3,
    synthetic: row.synthetic === 1,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function volumeHeaderOf(row: CaseRow): VolumeHeader {
  return {
    caseId: row.id,
    dims: JSON.parse(row.dims) as Vec3,
    spacingMm: JSON.parse(row.spacing_mm) as Vec3,
    originMm: JSON.parse(row.origin_mm) as Vec3,
    direction: JSON.parse(row.direction) as Direction,
    dataType: row.data_type,
    modality: row.modality,
    description: row.description,
    synthetic: row.synthetic === 1,
  };
}
