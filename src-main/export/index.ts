// Label exports: NIfTI on the image grid, DICOM SEG for DICOM cases, nnU-Net v2 datasets of submitted cases.
export { exportLabelNifti } from './nifti-label';
export { assertSameGrid, gridMismatch, GRID_TOLERANCE } from './grid';
export { encodeDicomSeg, exportDicomSeg, SEGMENTATION_STORAGE_UID } from './dicom/seg';
export type { DicomSegOptions, DicomSegSummary, SegmentAlgorithmType } from './dicom/seg';
export type { SourceInstanceRef, SourceSeriesRef } from './dicom/source-ref';
export { exportNnunetDataset, nnunetDatasetJson } from './nnunet';
export type { NnunetCase, NnunetExportOptions, NnunetExportResult } from './nnunet';
