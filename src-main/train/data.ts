// Training data: finds image/label NIfTI pairs in a folder, reads them (imaging/nifti) and normalises intensities.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readNifti } from '../imaging/nifti';
import { InputError } from '../imaging/volume';
import type { Volume } from '../imaging/volume';
import type { ModelMeta } from '../engine/io/model_folder';
import { foregroundIndices } from './sampler';
import type { TrainCase } from './sampler';

export interface CasePair {
  name: string;
  image: string;
  label: string;
}

const NII = /\.nii(\.gz)?$/;

/**
 * Pairs in `dir`: `<name>_image.nii.gz` + `<name>_label.nii.gz` (our phantoms), or MSD/nnU-Net style
 * `imagesTr/<name>[_0000].nii.gz` + `labelsTr/<name>.nii.gz`. Sorted by name so runs are reproducible.
 */
export async function findPairs(dir: string): Promise<CasePair[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    throw new InputError(dir, `cannot be listed (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const pairs: CasePair[] = [];
  for (const f of entries) {
    const m = /^(.*)_image(\.nii(?:\.gz)?)$/.exec(f);
    if (!m) continue;
    const label = entries.find((g) => g === `${m[1]}_label.nii.gz` || g === `${m[1]}_label.nii`);
    if (label) pairs.push({ name: m[1], image: join(dir, f), label: join(dir, label) });
  }
  if (entries.includes('imagesTr') && entries.includes('labelsTr')) {
    const images = (await fs.readdir(join(dir, 'imagesTr'))).filter((f) => NII.test(f) && !f.startsWith('.'));
    const labels = new Set(await fs.readdir(join(dir, 'labelsTr')));
    for (const f of images) {
      const name = f.replace(NII, '').replace(/_0000$/, '');
      const label = [`${name}.nii.gz`, `${name}.nii`].find((g) => labels.has(g));
      if (label) pairs.push({ name, image: join(dir, 'imagesTr', f), label: join(dir, 'labelsTr', label) });
    }
  }
  if (pairs.length === 0) {
    throw new InputError(
      dir,
      'holds no image/label pairs (expected NAME_image.nii.gz + NAME_label.nii.gz, or imagesTr/ + labelsTr/)',
    );
  }
  return pairs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function sameGrid(a: Volume, b: Volume): boolean {
  const close = (x: number[], y: number[], tol: number): boolean => x.every((v, i) => Math.abs(v - y[i]) <= tol);
  return (
    a.dims.every((d, i) => d === b.dims[i]) &&
    close(a.spacingMm, b.spacingMm, 1e-3) &&
    close(a.originMm, b.originMm, 1e-2) &&
    close(a.direction, b.direction, 1e-4)
  );
}

/** Reads one pair; labels must lie on the image's exact grid and hold only classes [0, numClasses) or the ignore label. */
export async function loadCase(
  pair: CasePair,
  intensity: ModelMeta['inference']['intensity'],
  numClasses: number,
  ignoreLabel?: number,
): Promise<TrainCase> {
  const [img, lab] = await Promise.all([readNifti(pair.image), readNifti(pair.label)]);
  if (!sameGrid(img, lab)) {
    throw new InputError(
      pair.label,
      `is not on the grid of its image ${pair.image} (dims ${lab.dims.join('×')} vs ${img.dims.join('×')}, or spacing/origin/orientation differ)`,
    );
  }
  const n = img.data.length;
  const image = new Float32Array(n);
  const [huMin, huMax] = intensity.clipHu;
  const { mean, std } = intensity;
  for (let i = 0; i < n; i++) image[i] = (Math.min(huMax, Math.max(huMin, img.data[i])) - mean) / std;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = lab.data[i];
    if (!Number.isInteger(v) || ((v < 0 || v >= numClasses) && v !== ignoreLabel)) {
      throw new InputError(
        pair.label,
        `holds the label value ${v}; the schema has classes 0..${numClasses - 1}${ignoreLabel !== undefined ? ` and ignore label ${ignoreLabel}` : ''}`,
      );
    }
    labels[i] = v;
  }
  // Volume dims are [ni, nj, nk] with i fastest, which is [D, H, W] = [nk, nj, ni] as a tensor.
  const dimsDhw: [number, number, number] = [img.dims[2], img.dims[1], img.dims[0]];
  return {
    name: pair.name,
    image,
    labels,
    dimsDhw,
    foreground: foregroundIndices(labels, ignoreLabel),
    padValue: (huMin - mean) / std,
    spacingDhwMm: [img.spacingMm[2], img.spacingMm[1], img.spacingMm[0]],
  };
}
