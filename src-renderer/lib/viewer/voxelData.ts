// Voxel bytes of a case as a typed array (kept apart from Cornerstone so the first paint does not load it).
import type { VolumeHeader } from '../../../src-main/api/contract';

export type VoxelData = Int16Array | Float32Array | Uint8Array;

/** Views the payload as the header's element type, checking its length against the dims. */
export function voxelsFromBuffer(header: VolumeHeader, buffer: ArrayBuffer): VoxelData {
  const n = header.dims[0] * header.dims[1] * header.dims[2];
  const bytesPer = header.dataType === 'int16' ? 2 : header.dataType === 'float32' ? 4 : 1;
  if (buffer.byteLength !== n * bytesPer) {
    throw new Error(
      `case ${header.caseId}: voxel payload is ${buffer.byteLength} bytes, expected ${n * bytesPer} for ${header.dims.join('×')} ${header.dataType}`,
    );
  }
  // Typed arrays use the platform's byte order; every machine the app targets is little-endian.
  if (header.dataType === 'int16') return new Int16Array(buffer);
  if (header.dataType === 'float32') return new Float32Array(buffer);
  return new Uint8Array(buffer);
}
