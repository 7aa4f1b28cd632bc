// Test helpers: a tiny random-init DeformUX-Net model folder and a small CT-like volume with a tilted grid.
import { join } from 'node:path';
import { defaultMeta, saveModelFolder } from '../../src-main/engine/io/model_folder';
import { parseConfig } from '../../src-main/engine/model/config';
import { DeformUXNet } from '../../src-main/engine/model/network';
import { initEngine } from '../../src-main/engine/tf';
import { LABEL_SCHEMAS } from '../../src-main/api/contract';
import type { SchemaName } from '../../src-main/api/contract';
import type { Vec3, Volume } from '../../src-main/imaging/volume';

/** Writes a tiny model folder (random init, fixed seed) for `schema` into parent/name; returns its path. */
export async function writeTinyModel(
  parent: string,
  schema: SchemaName,
  name = `${schema}-lite`,
  targetSpacingMm: Vec3 = [3, 3, 3],
): Promise<string> {
  await initEngine();
  const classes = ['background', ...LABEL_SCHEMAS[schema].classes.map((c) => c.name)];
  const config = parseConfig(
    {
      in_channels: 1,
      out_channels: classes.length,
      feature_sizes: [4, 8, 8, 16],
      depths: [1, 1, 1, 1],
      hidden_size: 16,
      kernel_size: 3,
      offset_kernel_size: 3,
      deform_groups: 1,
    },
    'tiny config',
  );
  const net = DeformUXNet.create(config, 7);
  const meta = defaultMeta(config, schema, classes);
  meta.inference = { ...meta.inference, targetSpacingMm, patchSize: [16, 16, 16] };
  meta.provenance = 'random initialisation, seed 7 (test model)';
  const dir = join(parent, name);
  await saveModelFolder(dir, net, meta);
  net.dispose();
  return dir;
}

/** A CT-like volume (HU) with an oblique direction and odd origin, so geometry bugs show. */
export function smallCt(dims: Vec3 = [30, 26, 14], seed = 1): Volume {
  const n = dims[0] * dims[1] * dims[2];
  const data = new Int16Array(n);
  let s = seed * 9301 + 49297;
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        s = (s * 9301 + 49297) % 233280;
        const r = Math.hypot(i - dims[0] / 2, j - dims[1] / 2, (k - dims[2] / 2) * 1.5);
        data[(k * dims[1] + j) * dims[0] + i] = Math.round(
          (r < 6 ? 180 : r < 11 ? 40 : -900) + (s / 233280 - 0.5) * 40,
        );
      }
  const c = Math.cos(0.3);
  const sn = Math.sin(0.3);
  return {
    dims,
    spacingMm: [1.4, 1.6, 2.5],
    originMm: [-12.5, 33.25, 101],
    direction: [c, sn, 0, -sn, c, 0, 0, 0, 1],
    data,
    modality: 'CT',
    description: 'test CT',
    source: 'test',
  };
}

/** A label of a smallCt volume: its bright sphere as class 1, shifted along i by `shift` voxels so labels differ. */
export function sphereLabel(dims: Vec3, shift: number): Uint8Array {
  const [ni, nj, nk] = dims;
  const out = new Uint8Array(ni * nj * nk);
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++)
        if (Math.hypot(i - ni / 2 - shift, j - nj / 2, (k - nk / 2) * 1.5) < 6) out[(k * nj + j) * ni + i] = 1;
  return out;
}
