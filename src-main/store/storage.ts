// How case images are kept and sent: CT as int16 when that is lossless, float32 otherwise.
import type { VolumeHeader } from '../domain/cases';
import type { Volume, VoxelArray } from '../imaging/volume';

export type StoredDataType = VolumeHeader['dataType'];

/** The stored element type for a volume: keeps int16/uint8, narrows exact integers to int16. */
export function storageTypeOf(data: VoxelArray): StoredDataType {
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int16';
  for (let n = 0; n < data.length; n++) {
    const x = data[n];
    // Rescaled DICOM often arrives as float with whole HU values: int16 is exact and half the size.
    if (!Number.isInteger(x) || x < -32768 || x > 32767) return 'float32';
  }
  return 'int16';
}

/** Returns the volume with voxels in the stored type (the same object when already there). */
export function toStorageVolume(volume: Volume): { volume: Volume; dataType: StoredDataType } {
  const dataType = storageTypeOf(volume.data);
  const src = volume.data;
  if (dataType === 'int16' && src instanceof Int16Array) return { volume, dataType };
  if (dataType === 'uint8' && src instanceof Uint8Array) return { volume, dataType };
  if (dataType === 'float32' && src instanceof Float32Array) return { volume, dataType };
  const data =
    dataType === 'int16' ? Int16Array.from(src) : dataType === 'uint8' ? Uint8Array.from(src) : Float32Array.from(src);
  return { volume: { ...volume, data }, dataType };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The voxels as little-endian bytes of the header's data type (a view, no copy, on LE machines). */
export function voxelBytesLE(data: VoxelArray): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const out = new Uint8Array(view.length);
  const w = data.BYTES_PER_ELEMENT;
  for (let n = 0; n < view.length; n += w) for (let b = 0; b < w; b++) out[n + b] = view[n + w - 1 - b];
  return out;
}
