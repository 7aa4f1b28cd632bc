// What a DICOM SEG needs to know about the CT series it segments; the DICOM series reader supplies it.
import type { Vec3 } from '../../imaging/volume';

/** One source image (one slice of the CT series). */
export interface SourceInstanceRef {
  /** (0008,0016), e.g. CT Image Storage 1.2.840.10008.5.1.4.1.1.2. */
  sopClassUid: string;
  /** (0008,0018). */
  sopInstanceUid: string;
  /** (0020,0032) Image Position Patient: LPS mm of the centre of the slice's first pixel. */
  positionMm: Vec3;
}

/**
 * The source series of a case that came from DICOM. Patient and study fields are copied into the SEG
 * so that PACS files it with its CT (missing ones are written empty, as DICOM allows for them).
 * `instances` may be in any order: SEG frames are matched to slices by position.
 */
export interface SourceSeriesRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  patientName?: string;
  patientId?: string;
  /** YYYYMMDD. */
  patientBirthDate?: string;
  /** M, F or O. */
  patientSex?: string;
  /** YYYYMMDD. */
  studyDate?: string;
  /** HHMMSS(.ffffff). */
  studyTime?: string;
  studyId?: string;
  accessionNumber?: string;
  referringPhysicianName?: string;
  studyDescription?: string;
  instances: SourceInstanceRef[];
}
