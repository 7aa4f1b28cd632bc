// Hostile inputs to the readers behind `deformux convert`, `predict` and import: non-regular files,
// non-finite or absurd NIfTI header values, junk files in a DICOM folder.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DecodePool } from '../../src-main/imaging/dicom/decode-pool';
import { checkInputPath } from '../../src-main/imaging/input-path';
import { encodeNifti, readNifti } from '../../src-main/imaging/nifti';
import { listSeries, readVolume } from '../../src-main/imaging/read';
import type { Volume } from '../../src-main/imaging/volume';
import { InputError } from '../../src-main/imaging/volume';
import { writeCtSlice } from './helpers/dicom-writer';
import { makeTempDir } from './helpers/tools';

const tmp = makeTempDir('hardening');
afterAll(() => tmp.cleanup());

/** The error `attempt` rejects with, or a failure when it hangs for more than 3 s or succeeds. */
async function refusal(attempt: () => Promise<unknown>): Promise<InputError> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('hung for 3 s')), 3000);
  });
  try {
    const err = await Promise.race([
      attempt().then(
        () => null,
        (e: unknown) => e,
      ),
      hang,
    ]);
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  } finally {
    clearTimeout(timer);
  }
}

describe('non-regular files', () => {
  const fifo = join(tmp.dir, 'pipe.nii.gz');
  execFileSync('mkfifo', [fifo]);

  it('a FIFO is refused by every entry point, naming it, without opening it', async () => {
    for (const attempt of [
      () => readVolume(fifo),
      () => readNifti(fifo),
      () => listSeries(fifo),
      () => checkInputPath(fifo),
    ]) {
      const e = await refusal(attempt);
      expect(e.message).toContain(fifo);
      expect(e.message).toMatch(/named pipe \(FIFO\)/);
    }
  });

  it('a symlink to a device or to a /proc file is refused', async () => {
    const dev = join(tmp.dir, 'zero.nii');
    symlinkSync('/dev/zero', dev);
    const proc = join(tmp.dir, 'maps.nii.gz');
    symlinkSync('/proc/self/maps', proc);
    const viaFifo = join(tmp.dir, 'link-to-pipe.nii');
    symlinkSync(fifo, viaFifo);
    for (const path of [dev, proc, viaFifo]) {
      const e = await refusal(() => readVolume(path));
      expect(e.message.startsWith(`${path}: `)).toBe(true);
      expect(e.message).toMatch(/pseudo-file|device|FIFO/);
    }
  });
});

function goodVolume(type: 'int16' | 'uint16' = 'int16'): Volume {
  const n = 4 * 3 * 2;
  const data = type === 'int16' ? new Int16Array(n) : new Uint16Array(n);
  for (let p = 0; p < n; p++) data[p] = type === 'int16' ? p * 10 - 50 : p * 10 + 50;
  return {
    data,
    dims: [4, 3, 2],
    spacingMm: [0.8, 0.9, 2.5],
    originMm: [10, -20, 30],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    modality: 'CT',
    description: 'ok',
    source: 'test',
  };
}

/** Writes a NIfTI-1 file of `goodVolume` with header fields changed, and returns its path. */
function patchedFile(name: string, edit: (v: DataView) => void, type: 'int16' | 'uint16' = 'int16'): string {
  const bytes = encodeNifti(goodVolume(type)).slice();
  edit(new DataView(bytes.buffer));
  const path = join(tmp.dir, name);
  writeFileSync(path, bytes);
  return path;
}

const SCL_SLOPE = 112;
const SCL_INTER = 116;
const QFORM_CODE = 252;
const SFORM_CODE = 254;
const SROW = [280, 296, 312];
const PIXDIM = (d: number): number => 76 + 4 * d;

describe('NIfTI values that are not finite or absurd', () => {
  it.each([
    [
      'slope-1e38.nii',
      (v: DataView) => v.setFloat32(SCL_SLOPE, 1e38, true),
      /scl_slope 9\.99\d*e\+37 and scl_inter 0 turn voxel 0 \(-50\) into -Infinity, outside the int16 range/,
    ],
    ['slope-inf.nii', (v: DataView) => v.setFloat32(SCL_SLOPE, Infinity, true), /scl_slope is Infinity/],
    ['inter-ninf.nii', (v: DataView) => v.setFloat32(SCL_INTER, -Infinity, true), /scl_inter is -Infinity/],
    [
      'slope-1000.nii',
      (v: DataView) => v.setFloat32(SCL_SLOPE, 1000, true),
      /scl_slope 1000 and scl_inter 0 turn voxel 0 \(-50\) into -50000, outside the int16 range/,
    ],
    [
      'sform-tiny.nii',
      (v: DataView) => SROW.forEach((o, r) => v.setFloat32(o + 4 * r, 1e-30, true)),
      /sform \(srow_x, srow_y, srow_z\) gives voxel spacing 1\.0\d*e-30 mm along i/,
    ],
    [
      'sform-huge.nii',
      (v: DataView) => v.setFloat32(SROW[2] + 8, 1e30, true),
      /sform .* gives voxel spacing 1\.0\d*e\+30 mm along k/,
    ],
    [
      'sform-origin.nii',
      (v: DataView) => v.setFloat32(SROW[0] + 12, 1e30, true),
      /sform .* puts the first voxel .* from the origin/,
    ],
    [
      'sform-flat.nii',
      (v: DataView) => (v.setFloat32(SROW[0] + 4, 0.9, true), v.setFloat32(SROW[1] + 4, 0, true)),
      /sform .* parallel or collapsed axes/,
    ],
    [
      'qform-pixdim-huge.nii',
      (v: DataView) => (v.setInt16(SFORM_CODE, 0, true), v.setFloat32(PIXDIM(2), 1e30, true)),
      /qform .* gives voxel spacing .* along j/,
    ],
    [
      'pixdim-tiny.nii',
      (v: DataView) => (
        v.setInt16(SFORM_CODE, 0, true),
        v.setInt16(QFORM_CODE, 0, true),
        v.setFloat32(PIXDIM(3), 1e-30, true)
      ),
      /pixdim\[1\.\.3\] gives voxel spacing .* along k/,
    ],
    [
      'qform-quatern-nan.nii',
      (v: DataView) => (v.setInt16(SFORM_CODE, 0, true), v.setFloat32(256, NaN, true)),
      /qform .* not a finite number/,
    ],
  ])('%s is refused, naming the file and the field', async (name, edit, problem) => {
    const path = patchedFile(name, edit);
    const e = await refusal(() => readVolume(path));
    expect(e.message.startsWith(`${path}: `)).toBe(true);
    expect(e.message).toMatch(problem);
  });

  it('standard scaling still loads exactly: slope 2, intercept -1024 on uint16, NaN slope = none', async () => {
    const two = await readVolume(patchedFile('slope-2.nii', (v) => v.setFloat32(SCL_SLOPE, 2, true)));
    expect(Array.from(two.data)).toEqual(Array.from(goodVolume().data, (x) => 2 * x));
    const ct = await readVolume(
      patchedFile(
        'u16-inter.nii',
        (v) => (v.setFloat32(SCL_SLOPE, 1, true), v.setFloat32(SCL_INTER, -1024, true)),
        'uint16',
      ),
    );
    expect(ct.data).toBeInstanceOf(Int16Array);
    expect(Array.from(ct.data)).toEqual(Array.from(goodVolume('uint16').data, (x) => x - 1024));
    const none = await readVolume(patchedFile('slope-nan.nii', (v) => v.setFloat32(SCL_SLOPE, NaN, true)));
    expect(Array.from(none.data)).toEqual(Array.from(goodVolume().data));
    expect(none.spacingMm.map((s) => Number(s.toFixed(4)))).toEqual([0.8, 0.9, 2.5]);
  });
});

describe('a DICOM folder with junk files', () => {
  const seriesUid = '1.2.826.0.1.3680043.8.498.4242';
  function writeSeries(dir: string, slices: number): void {
    mkdirSync(dir, { recursive: true });
    for (let k = 0; k < slices; k++) {
      const pixels = new Int16Array(5 * 4).map((_, p) => p + 100 * k - 1000);
      writeCtSlice(join(dir, `IM${k}.dcm`), {
        seriesUid,
        instance: k + 1,
        rows: 4,
        columns: 5,
        pixels,
        positionMm: [0, 0, 2.5 * k],
        orientation: [1, 0, 0, 0, 1, 0],
        pixelSpacingMm: [0.7, 0.9],
      });
    }
  }
  /** Not DICOM, but bytes 128–131 read 'DICM'. */
  function junk(path: string): void {
    const bytes = Buffer.alloc(400, 0x41);
    bytes.write('DICM', 128, 'latin1');
    writeFileSync(path, bytes);
  }

  it('skips a junk file carrying the DICM marker with a warning naming it, and reads the series', async () => {
    const dir = join(tmp.dir, 'dicom-junk');
    writeSeries(dir, 4);
    const bad = join(dir, 'zz-notes.dcm');
    junk(bad);
    execFileSync('mkfifo', [join(dir, 'IM9-pipe.dcm')]);
    const warnings: string[] = [];
    const v = await readVolume(dir, { onWarning: (m) => warnings.push(m) });
    expect(v.dims).toEqual([5, 4, 4]);
    expect(v.data[0]).toBe(-1000);
    expect(v.data[5 * 4 * 3]).toBe(-700);
    expect(warnings.some((w) => w.includes(bad) && /skipped/.test(w))).toBe(true);
    expect((await listSeries(dir)).map((s) => s.slices)).toEqual([4]);
  });

  it('refuses rescaling beyond int16 (or to infinity) and absurd pixel spacing, naming slice and tags', async () => {
    const slope = join(tmp.dir, 'dicom-slope');
    mkdirSync(slope);
    const spacing = join(tmp.dir, 'dicom-spacing');
    mkdirSync(spacing);
    for (let k = 0; k < 3; k++) {
      const base = {
        seriesUid,
        instance: k + 1,
        rows: 4,
        columns: 5,
        pixels: new Int16Array(20).map((_, p) => p - 10),
        positionMm: [0, 0, 2.5 * k],
        orientation: [1, 0, 0, 0, 1, 0],
        pixelSpacingMm: [0.7, 0.9] as [number, number],
      };
      writeCtSlice(join(slope, `IM${k}.dcm`), { ...base, slope: k === 1 ? 1e38 : 1 });
      writeCtSlice(join(spacing, `IM${k}.dcm`), { ...base, pixelSpacingMm: [1e30, 1e30] });
    }
    const s = await refusal(() => readVolume(slope));
    expect(s.message).toMatch(
      new RegExp(`^${join(slope, 'IM1.dcm')}: RescaleSlope 1e\\+38 .* outside the int16 range`),
    );
    const p = await refusal(() => readVolume(spacing));
    expect(p.message).toMatch(new RegExp(`^${spacing}: voxel spacing 1e\\+30 mm is outside 0.001–10000 mm`));
  });

  it('a NIfTI file whose first bytes read like a bare DICOM tag is reported as that file', async () => {
    const path = patchedFile('sizeof-8.nii', (v) => v.setInt32(0, 8, true));
    const e = await refusal(() => readVolume(path));
    expect(e.message.startsWith(`${path}: `)).toBe(true);
  });

  it('fails, naming the skipped files, when no series remains', async () => {
    const dir = join(tmp.dir, 'dicom-only-junk');
    mkdirSync(dir);
    junk(join(dir, 'a.dcm'));
    junk(join(dir, 'b.dcm'));
    const e = await refusal(() => readVolume(dir));
    expect(e.message).toMatch(/contains no DICOM images; 2 unreadable file\(s\) were skipped/);
    expect(e.message).toContain(join(dir, 'a.dcm'));
    expect(e.message).toContain(join(dir, 'b.dcm'));
  });
});

describe('codecs after a corrupt frame', () => {
  it('the decode pool reloads a codec cleanly after each failure (no "register twice")', async () => {
    const pool = new DecodePool(1);
    try {
      for (let n = 0; n < 3; n++) {
        // One stray byte: openjpeg traps on it (a longer random stream may even "decode").
        const garbage = Uint8Array.from([0x40 + n]);
        const err = await pool.decode('openjpeg', garbage).then(
          () => null,
          (e: unknown) => e as Error,
        );
        expect(err).toBeInstanceOf(Error);
        expect(err!.message).not.toMatch(/register/);
      }
    } finally {
      await pool.close();
    }
  });
});
