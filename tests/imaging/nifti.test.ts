// NIfTI reader/writer against nibabel: every datatype, both endians, NIfTI-1/2, .nii/.nii.gz, orientations.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNifti, encodeNifti, readNifti, writeNifti } from '../../src-main/imaging/nifti';
import type { Direction, Vec3, Volume, VoxelType } from '../../src-main/imaging/volume';
import { affineRas, allocVoxels } from '../../src-main/imaging/volume';
import { PYTHON, affineDiff, hasPythonModules, makeTempDir, maxAbsDiff, runPython } from './helpers/tools';

const haveNibabel = hasPythonModules('nibabel', 'numpy');
if (!haveNibabel) console.warn(`skipping nibabel comparisons: ${PYTHON} cannot import nibabel`);

interface Case {
  name: string;
  file: string;
  affine: number[][];
  shape: number[];
}

describe.skipIf(!haveNibabel)('NIfTI files written by nibabel', () => {
  const tmp = makeTempDir('nib');
  let cases: Case[] = [];
  beforeAll(() => {
    runPython('nibabel_write.py', [tmp.dir]);
    cases = JSON.parse(readFileSync(join(tmp.dir, 'manifest.json'), 'utf8')) as Case[];
  });
  afterAll(() => tmp.cleanup());

  it('covers every datatype, both endians, both versions and the orientation cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it('reads each file with the same affine and voxel values as nibabel (readNifti and decodeNifti)', async () => {
    for (const c of cases) {
      const raw = readFileSync(join(tmp.dir, `${c.name}.f64`));
      const expected = new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      for (const vol of [await readNifti(c.file), decodeNifti(readFileSync(c.file), c.file)]) {
        expect(vol.dims, c.name).toEqual(c.shape);
        expect(
          vol.data.byteOffset === 0 && vol.data.byteLength === vol.data.buffer.byteLength,
          `${c.name} owns its buffer`,
        ).toBe(true);
        // float32 header fields: affines agree to float32 rounding of the stored numbers.
        expect(affineDiff(affineRas(vol), c.affine), c.name).toBeLessThan(1e-4);
        const tol = c.name.includes('scaled_float') ? 1e-6 : 0;
        expect(maxAbsDiff(vol.data, expected), c.name).toBeLessThanOrEqual(tol);
      }
    }
  });

  it('keeps CT stored as uint16 + intercept -1024 as int16, not float', async () => {
    const vol = await readNifti(cases.find((c) => c.name === 'scaled_ct_uint16')!.file);
    expect(vol.data).toBeInstanceOf(Int16Array);
  });
});

function testVolume(type: VoxelType, dims: Vec3, direction: Direction, spacingMm: Vec3): Volume {
  const n = dims[0] * dims[1] * dims[2];
  const data = allocVoxels(type, n);
  for (let p = 0; p < n; p++)
    data[p] = type.startsWith('float') ? (p % 97) * 1.5 - 40.25 : ((p * 7919) % 251) - (type.startsWith('u') ? 0 : 120);
  return {
    data,
    dims,
    spacingMm,
    originMm: [12.5, -140.25, 33],
    direction,
    modality: 'SEG',
    description: `test ${type}`,
    source: 'test',
  };
}

function rotation(deg: number): Direction {
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  // i along (c, s, 0), j along (-s*cos20, c*cos20, sin20), k = i × j (right-handed, oblique in two planes)
  const c2 = Math.cos(0.349);
  const s2 = Math.sin(0.349);
  const i = [c, s, 0];
  const j = [-s * c2, c * c2, s2];
  const k = [i[1] * j[2] - i[2] * j[1], i[2] * j[0] - i[0] * j[2], i[0] * j[1] - i[1] * j[0]];
  return [...i, ...j, ...k] as Direction;
}

describe.skipIf(!haveNibabel)('NIfTI files we write, read by nibabel', () => {
  const tmp = makeTempDir('niw');
  afterAll(() => tmp.cleanup());

  it('nibabel sees the same affine (sform and qform) and voxels in every datatype and orientation', () => {
    const volumes: Array<[string, Volume]> = [];
    const types: VoxelType[] = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];
    for (const t of types) volumes.push([`dt_${t}.nii.gz`, testVolume(t, [6, 5, 3], rotation(25), [0.7, 0.9, 2.5])]);
    const flipped: Direction = [-1, 0, 0, 0, 1, 0, 0, 0, -1]; // left-handed: qfac -1
    volumes.push(['flipped.nii', testVolume('int16', [4, 6, 5], flipped, [1, 1.5, 2])]);
    const obliqueFlipped = rotation(-40);
    for (let p = 6; p < 9; p++) obliqueFlipped[p] = -obliqueFlipped[p];
    volumes.push(['oblique_flipped.nii.gz', testVolume('uint8', [5, 4, 6], obliqueFlipped, [0.8, 0.8, 3])]);
    for (const [name, v] of volumes) writeFileSync(join(tmp.dir, name), encodeNifti(v, { gzip: name.endsWith('.gz') }));
    const out = JSON.parse(
      runPython(
        'nibabel_read.py',
        volumes.map(([name]) => join(tmp.dir, name)),
      ),
    ) as Array<{
      affine: number[][];
      qform: number[][];
      qformCode: number;
      dtype: string;
      shape: number[];
      data: number[];
    }>;
    volumes.forEach(([name, v], idx) => {
      const got = out[idx];
      expect(got.shape, name).toEqual(v.dims);
      expect(affineDiff(got.affine, affineRas(v)), name).toBeLessThan(1e-4);
      expect(got.qformCode, name).toBe(1);
      expect(affineDiff(got.qform, affineRas(v)), `${name} qform`).toBeLessThan(1e-4);
      expect(maxAbsDiff(got.data, v.data), name).toBe(0);
    });
  });

  it('round-trips through writeNifti/readNifti exactly (grid, affine, type, voxels)', async () => {
    const v = testVolume('int16', [9, 7, 5], rotation(65), [0.6, 0.75, 1.25]);
    const path = join(tmp.dir, 'labels.nii.gz');
    await writeNifti(path, v);
    const back = await readNifti(path);
    expect(back.dims).toEqual(v.dims);
    expect(back.data).toBeInstanceOf(Int16Array);
    expect(maxAbsDiff(back.data, v.data)).toBe(0);
    expect(affineDiff(affineRas(back), affineRas(v))).toBeLessThan(1e-4);
  });
});
