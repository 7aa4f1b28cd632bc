// Turns a VolumeHeader + voxel bytes into a cached Cornerstone volume with per-slice metadata.
// createLocalVolume alone gives every slice the same position and no frame of reference or
// modality (FACTS.md), so each slice's imagePlaneModule and generalSeriesModule are registered here.
import { cache, Enums, utilities, volumeLoader, type Types } from '@cornerstonejs/core';
import type { VolumeHeader } from '../../../src-main/api/contract';
import { ijkToWorld } from './geometry';

import type { VoxelData } from './voxelData';

export { voxelsFromBuffer, type VoxelData } from './voxelData';

export interface LoadedVolume {
  volumeId: string;
  imageIds: string[];
}

let loadCounter = 0;

/** `idPrefix` tells apart volumes on the same grid (the 3D view's copy of the labels). */
export function createCaseVolume(header: VolumeHeader, voxels: VoxelData, idPrefix = 'deformux'): LoadedVolume {
  // A fresh id per load: the cache returns an existing volume for a known id. No ':' in it: an id
  // with a scheme makes Cornerstone try to fetch a slice through an image loader for its VOI.
  const volumeId = `${idPrefix}_${header.caseId.replace(/[^A-Za-z0-9._-]/g, '_')}_${++loadCounter}`;
  const frameOfReferenceUID = `deformux.for.${header.caseId}`;
  const d = header.direction;
  const bits = voxels instanceof Uint8Array ? 8 : voxels instanceof Int16Array ? 16 : 32;
  const metadata: Types.Metadata = {
    BitsAllocated: bits,
    BitsStored: bits,
    SamplesPerPixel: 1,
    HighBit: bits - 1,
    PhotometricInterpretation: 'MONOCHROME2',
    PixelRepresentation: voxels instanceof Uint8Array ? 0 : 1,
    Modality: header.modality || 'CT',
    SeriesInstanceUID: `deformux.series.${header.caseId}`,
    ImageOrientationPatient: d.slice(0, 6),
    PixelSpacing: [header.spacingMm[1], header.spacingMm[0]],
    FrameOfReferenceUID: frameOfReferenceUID,
    Columns: header.dims[0],
    Rows: header.dims[1],
    voiLut: [],
    VOILUTFunction: 'LINEAR',
  };
  const volume = volumeLoader.createLocalVolume(volumeId, {
    scalarData: voxels,
    dimensions: header.dims,
    spacing: header.spacingMm,
    origin: header.originMm,
    direction: d as Types.Mat3,
    metadata,
  });
  const imageIds = volume.imageIds;
  for (let k = 0; k < imageIds.length; k++) {
    const position = ijkToWorld(header, [0, 0, k]);
    utilities.genericMetadataProvider.add(imageIds[k], {
      type: Enums.MetadataModules.IMAGE_PLANE,
      metadata: {
        frameOfReferenceUID,
        rows: header.dims[1],
        columns: header.dims[0],
        imageOrientationPatient: d.slice(0, 6),
        rowCosines: d.slice(0, 3),
        columnCosines: d.slice(3, 6),
        imagePositionPatient: position,
        sliceThickness: header.spacingMm[2],
        sliceLocation: position[2],
        pixelSpacing: [header.spacingMm[1], header.spacingMm[0]],
        rowPixelSpacing: header.spacingMm[1],
        columnPixelSpacing: header.spacingMm[0],
      },
    });
    utilities.genericMetadataProvider.add(imageIds[k], {
      type: Enums.MetadataModules.GENERAL_SERIES,
      metadata: { modality: header.modality || 'CT', seriesInstanceUID: metadata.SeriesInstanceUID },
    });
  }
  return { volumeId, imageIds };
}

/** Frees a volume and its slice images from Cornerstone's cache. */
export function releaseCaseVolume(v: LoadedVolume): void {
  try {
    cache.removeVolumeLoadObject(v.volumeId);
  } catch {
    // Already gone.
  }
  for (const id of v.imageIds) {
    try {
      cache.removeImageLoadObject(id, { force: true });
    } catch {
      // Already gone.
    }
  }
}
