// Exports a label map as NIfTI on its image's exact grid (uint8, same affine), written atomically.
import { writeNifti } from '../imaging/nifti';
import type { Volume } from '../imaging/volume';
import { asUint8Label, assertLabelValues, assertSameGrid } from './grid';

/**
 * Writes `label` to `path` (.nii or .nii.gz) after checking it lies on `image`'s grid (dims, spacing,
 * origin, direction within 1e-4) and holds only 0..255; the file carries the image's affine.
 */
export async function exportLabelNifti(path: string, label: Volume, image: Volume): Promise<void> {
  if (!/\.nii(\.gz)?$/i.test(path)) throw new Error(`${path}: a NIfTI label file must end in .nii or .nii.gz`);
  assertSameGrid(path, label, image);
  assertLabelValues(path, label);
  const out: Volume = {
    ...asUint8Label(label),
    // The image's geometry, bit for bit, so the label file's affine equals the image file's.
    spacingMm: image.spacingMm,
    originMm: image.originMm,
    direction: image.direction,
    modality: 'SEG',
  };
  await writeNifti(path, out);
}
