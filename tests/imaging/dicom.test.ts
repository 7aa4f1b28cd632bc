// DICOM series reader: synthetic oblique series (pydicom), every transfer syntax (dcmtk/gdcm transcodes), dcm2niix agreement.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNifti } from '../../src-main/imaging/nifti';
import { listSeries, readVolume, SeriesChoiceError } from '../../src-main/imaging/read';
import type { Volume } from '../../src-main/imaging/volume';
import { affineLps, affineRas } from '../../src-main/imaging/volume';
import {
  REAL_DIR,
  affineDiff,
  compareOnGrid,
  hasCommand,
  hasPythonModules,
  makeTempDir,
  maxAbsDiff,
  run,
  runPython,
} from './helpers/tools';

const havePydicom = hasPythonModules('pydicom', 'numpy');
const haveDcmtk = hasCommand('dcmcjpeg') && hasCommand('dcmcjpls') && hasCommand('dcmcrle') && hasCommand('dcmconv');
const haveGdcm = hasCommand('gdcmconv');
const haveDcm2niix = hasCommand('dcm2niix');
const haveNibabel = hasPythonModules('nibabel');
const REAL_DICOM = join(REAL_DIR, 'totalseg_example_ct_dicom');
for (const [ok, what] of [
  [havePydicom, 'python3-pydicom'],
  [haveDcmtk, 'dcmtk'],
  [haveGdcm, 'libgdcm-tools'],
  [haveDcm2niix, 'dcm2niix'],
] as const) {
  if (!ok) console.warn(`skipping DICOM tests that need ${what} (not installed)`);
}

interface Expected {
  uid: string;
  dims: number[];
  affineLps: number[][];
}

const tmp = makeTempDir('dcm');
let expected: Record<string, Expected> = {};
const voxels = (name: string): Float64Array => {
  const raw = readFileSync(join(tmp.dir, `${name}.f64`));
  return new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
};

beforeAll(() => {
  if (!havePydicom) return;
  runPython('dicom_write.py', [tmp.dir]);
  expected = JSON.parse(readFileSync(join(tmp.dir, 'expected.json'), 'utf8')) as Record<string, Expected>;
});
afterAll(() => tmp.cleanup());

function transcode(src: string, name: string, cmd: string, args: string[]): string {
  const dst = join(tmp.dir, 'tc', name);
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(join(tmp.dir, src))) run(cmd, [...args, join(tmp.dir, src, f), join(dst, f)]);
  return dst;
}

describe.skipIf(!havePydicom)('synthetic oblique series written by pydicom', () => {
  for (const name of ['ct12', 'signed16', 'gray8']) {
    it(`${name}: sorted along the normal, rescaled, affine from IOP/IPP/PixelSpacing`, async () => {
      const v = await readVolume(join(tmp.dir, name));
      expect(v.dims).toEqual(expected[name].dims);
      expect(affineDiff(affineLps(v), expected[name].affineLps)).toBeLessThan(1e-4);
      expect(maxAbsDiff(v.data, voxels(name))).toBe(0);
      expect(v.modality).toBe('CT');
    });
  }

  it.skipIf(!haveDcmtk)('reads bare data sets (no preamble, no meta header), implicit and explicit VR', async () => {
    const implicit = transcode('ct12', 'implicit_for_bare', 'dcmconv', ['+ti']);
    for (const [name, src] of [
      ['bare_implicit', implicit],
      ['bare_explicit', join(tmp.dir, 'ct12')],
    ]) {
      const dst = join(tmp.dir, name);
      mkdirSync(dst);
      for (const f of readdirSync(src)) {
        const b = readFileSync(join(src, f));
        const metaEnd = 132 + 12 + b.readUInt32LE(132 + 8); // (0002,0000) UL group length
        writeFileSync(join(dst, f), b.subarray(metaEnd));
      }
      const v = await readVolume(dst);
      expect(affineDiff(affineLps(v), expected.ct12.affineLps), name).toBeLessThan(1e-4);
      expect(maxAbsDiff(v.data, voxels('ct12')), name).toBe(0);
    }
  });

  it("given one DICOM file, reads that file's series from its folder", async () => {
    const dir = join(tmp.dir, 'two_series');
    const second = (await listSeries(dir))[1];
    const file = readdirSync(dir).find((f) => f.startsWith('B'))!;
    const v = await readVolume(join(dir, file));
    expect(v.dims[2]).toBe(second.slices);
  });

  it('keeps 12-bit CT with intercept -1024 as int16', async () => {
    expect((await readVolume(join(tmp.dir, 'ct12'))).data).toBeInstanceOf(Int16Array);
  });

  it('lists the series of a folder and opens the chosen one', async () => {
    const series = await listSeries(join(tmp.dir, 'two_series'));
    expect(series.map((s) => s.slices)).toEqual([7, 3]);
    expect(series.map((s) => s.description)).toEqual(['first', 'second']);
    const err = await readVolume(join(tmp.dir, 'two_series')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeriesChoiceError);
    expect((err as SeriesChoiceError).message).toMatch(/holds 2 image series/);
    expect((err as SeriesChoiceError).series.map((s) => s.uid)).toEqual(series.map((s) => s.uid));
    const second = await readVolume(join(tmp.dir, 'two_series'), { seriesInstanceUid: series[1].uid });
    expect(second.dims[2]).toBe(3);
  });

  it('skips localizers in a series and says so', async () => {
    const warnings: string[] = [];
    const v = await readVolume(join(tmp.dir, 'localizer'), { onWarning: (m) => warnings.push(m) });
    expect(v.dims).toEqual(expected.localizer.dims);
    expect(warnings.join('\n')).toMatch(/skipped 1 localizer/);
  });

  it('reports progress and can be cancelled', async () => {
    const seen: number[] = [];
    await readVolume(join(tmp.dir, 'ct12'), { onProgress: (done) => seen.push(done) });
    expect(seen.at(-1)).toBe(7);
    const ac = new AbortController();
    ac.abort();
    await expect(readVolume(join(tmp.dir, 'ct12'), { signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});

describe.skipIf(!havePydicom || !haveDcmtk || !haveGdcm)(
  'every transfer syntax decodes to the uncompressed voxels',
  () => {
    const lossless: Array<[string, string, string, string[]]> = [
      ['implicit VR LE', 'ct12', 'dcmconv', ['+ti']],
      ['explicit VR BE', 'ct12', 'dcmconv', ['+tb']],
      ['explicit VR BE signed', 'signed16', 'dcmconv', ['+tb']],
      ['deflated LE', 'ct12', 'dcmconv', ['+td']],
      ['JPEG lossless SV1', 'ct12', 'dcmcjpeg', ['+e1']],
      ['JPEG lossless', 'ct12', 'dcmcjpeg', ['+el']],
      ['JPEG-LS lossless', 'ct12', 'dcmcjpls', []],
      ['RLE', 'ct12', 'dcmcrle', []],
      ['RLE signed', 'signed16', 'dcmcrle', []],
      ['JPEG 2000 lossless', 'ct12', 'gdcmconv', ['--j2k']],
      ['JPEG 2000 lossless signed', 'signed16', 'gdcmconv', ['--j2k']],
    ];
    for (const [label, src, cmd, args] of lossless) {
      it(`${label} (${cmd} ${args.join(' ')}) is exact`, async () => {
        const dir = transcode(src, label.replace(/\W+/g, '_'), cmd, args);
        const v = await readVolume(dir);
        expect(affineDiff(affineLps(v), expected[src].affineLps)).toBeLessThan(1e-4);
        expect(maxAbsDiff(v.data, voxels(src))).toBe(0);
      });
    }

    it('worker-pool decoding gives the same voxels as in-thread decoding (J2K, JPEG-LS, baseline)', async () => {
      for (const [src, name, cmd, args] of [
        ['signed16', 'pool_j2k', 'gdcmconv', ['--j2k']],
        ['ct12', 'pool_jls', 'dcmcjpls', []],
        ['gray8', 'pool_baseline', 'dcmcjpeg', ['+eb']],
      ] as Array<[string, string, string, string[]]>) {
        const dir = transcode(src, name, cmd, args);
        const here = await readVolume(dir, { workers: 0 });
        const pooled = await readVolume(dir, { workers: 2 });
        expect(maxAbsDiff(pooled.data, here.data), name).toBe(0);
        if (src !== 'gray8') expect(maxAbsDiff(pooled.data, voxels(src)), name).toBe(0);
      }
    });

    it('JPEG baseline (dcmcjpeg +eb, lossy 8-bit) is within JPEG error', async () => {
      const v = await readVolume(transcode('gray8', 'baseline', 'dcmcjpeg', ['+eb']));
      const ref = voxels('gray8');
      expect(v.dims).toEqual(expected.gray8.dims);
      let sum = 0;
      for (let p = 0; p < ref.length; p++) sum += Math.abs(v.data[p] - ref[p]);
      expect(sum / ref.length).toBeLessThan(2); // quality-90 JPEG on a smooth image: ~1 grey level
      expect(maxAbsDiff(v.data, ref)).toBeLessThan(16);
      expect(maxAbsDiff(v.data, ref)).toBeGreaterThan(0); // it really went through the lossy codec
    });
  },
);

async function dcm2niix(dir: string, out: string): Promise<Volume> {
  mkdirSync(out, { recursive: true });
  run('dcm2niix', ['-z', 'y', '-o', out, '-f', 'ref', dir]);
  return readNifti(join(out, 'ref.nii.gz'));
}

async function agreesWithDcm2niix(dir: string, out: string): Promise<Volume> {
  const ours = await readVolume(dir);
  const ref = await dcm2niix(dir, out);
  const cmp = compareOnGrid(
    { data: ours.data, dims: ours.dims, affineLps: affineLps(ours) },
    { data: ref.data, dims: ref.dims, affineLps: affineLps(ref) },
  );
  expect(cmp.gridError).toBeLessThan(1e-3); // same grid up to axis order/flips, to 1/1000 voxel
  expect(cmp.outside).toBe(0);
  expect(cmp.maxDiff).toBe(0);
  if (haveNibabel) {
    // dcm2niix's file as nibabel reads it, so the comparison does not rest on our NIfTI reader alone.
    const [nib] = JSON.parse(runPython('nibabel_read.py', ['--no-data', join(out, 'ref.nii.gz')])) as Array<{
      affine: number[][];
    }>;
    expect(affineDiff(nib.affine, affineRas(ref))).toBeLessThan(1e-4);
  }
  return ours;
}

describe.skipIf(!haveDcm2niix)('agreement with dcm2niix (voxels and affine)', () => {
  it.skipIf(!havePydicom)('synthetic oblique series', async () => {
    await agreesWithDcm2niix(join(tmp.dir, 'ct12'), join(tmp.dir, 'd2n-ct12'));
  });
  it.skipIf(!existsSync(REAL_DICOM))('real CT (Siemens, JPEG 2000 lossless) from ../shared/data/real', async () => {
    const v = await agreesWithDcm2niix(REAL_DICOM, join(tmp.dir, 'd2n-real'));
    expect(v.dims).toEqual([512, 512, 20]);
    expect(v.spacingMm[2]).toBeCloseTo(2, 3);
  });
});
