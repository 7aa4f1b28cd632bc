// Bad input never crashes or over-allocates: each case gives an InputError naming the file and the problem.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNifti, encodeNifti, readNifti } from '../../src-main/imaging/nifti';
import { readVolume } from '../../src-main/imaging/read';
import type { Volume } from '../../src-main/imaging/volume';
import { InputError } from '../../src-main/imaging/volume';
import { hasCommand, hasPythonModules, makeTempDir, run, runPython } from './helpers/tools';

const tmp = makeTempDir('bad');
afterAll(() => tmp.cleanup());

/** Expects both NIfTI entry points (in-memory decode and streaming file read) to refuse `bytes`. */
async function expectNiftiRefused(name: string, bytes: Uint8Array, problem: RegExp): Promise<void> {
  const path = join(tmp.dir, name);
  writeFileSync(path, bytes);
  for (const attempt of [async () => decodeNifti(bytes, path), () => readNifti(path), () => readVolume(path)]) {
    const err = await attempt().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, name).toBeInstanceOf(InputError);
    expect((err as InputError).message, name).toContain(path);
    expect((err as InputError).message, name).toMatch(problem);
  }
}

function goodVolume(): Volume {
  const data = new Int16Array(4 * 3 * 2).map((_, p) => p * 10 - 50);
  return {
    data,
    dims: [4, 3, 2],
    spacingMm: [1, 1, 2],
    originMm: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    modality: 'CT',
    description: 'ok',
    source: 'test',
  };
}

/** A valid NIfTI-1 file with one header field changed (little-endian writes at byte offsets). */
function patched(edit: (v: DataView) => void): Uint8Array {
  const bytes = encodeNifti(goodVolume()).slice();
  edit(new DataView(bytes.buffer));
  return bytes;
}

const gz = (b: Uint8Array): Uint8Array => new Uint8Array(zlib.gzipSync(b));

describe('bad NIfTI input', () => {
  const good = encodeNifti(goodVolume());
  it('truncated voxel data (.nii and .nii.gz)', async () => {
    await expectNiftiRefused('cut.nii', good.subarray(0, good.length - 7), /truncated/);
    await expectNiftiRefused('cut-data.nii.gz', gz(good.subarray(0, good.length - 7)), /truncated/);
  });
  it('truncated inside the header', async () => {
    await expectNiftiRefused('cut-header.nii', good.subarray(0, 200), /truncated/);
    await expectNiftiRefused('tiny.nii', good.subarray(0, 3), /too short|neither/);
  });
  it('truncated gzip stream', async () => {
    const z = gz(good);
    await expectNiftiRefused('cut-stream.nii.gz', z.subarray(0, z.length - 30), /truncated|ends early/);
  });
  it('corrupt gzip stream', async () => {
    const z = gz(good).slice();
    for (let p = 12; p < z.length - 8; p++) z[p] ^= 0x5a;
    await expectNiftiRefused('corrupt.nii.gz', z, /gzip|corrupt|truncated/);
  });
  it('wrong magic', async () => {
    await expectNiftiRefused(
      'magic.nii',
      patched((v) => v.setUint8(345, 0x3f)),
      /magic/,
    );
  });
  it('not NIfTI at all', async () => {
    await expectNiftiRefused(
      'text.nii',
      new TextEncoder().encode('hello, this is not an image at all\n'.repeat(20)),
      /not a NIfTI/,
    );
  });
  it('absurd dims: a voxel count that would not fit, refused before allocating', async () => {
    await expectNiftiRefused(
      'huge.nii',
      patched((v) => [30000, 30000, 30000].forEach((n, d) => v.setInt16(42 + 2 * d, n, true))),
      /more than this app can hold/,
    );
    await expectNiftiRefused(
      'huge.nii.gz',
      gz(patched((v) => [30000, 30000, 3000].forEach((n, d) => v.setInt16(42 + 2 * d, n, true)))),
      /more than this app can hold/,
    );
  });
  it('zero, negative and nonsense dims', async () => {
    await expectNiftiRefused(
      'zero-dim.nii',
      patched((v) => v.setInt16(44, 0, true)),
      /positive whole number/,
    );
    await expectNiftiRefused(
      'neg-dim.nii',
      patched((v) => v.setInt16(42, -4, true)),
      /positive whole number/,
    );
    await expectNiftiRefused(
      'ndim.nii',
      patched((v) => v.setInt16(40, 9, true)),
      /dim\[0\]/,
    );
    await expectNiftiRefused(
      '4d.nii',
      patched((v) => (v.setInt16(40, 4, true), v.setInt16(48, 3, true))),
      /only single 3D/,
    );
  });
  it('zero or NaN spacing', async () => {
    const noSform = (v: DataView): void => v.setInt16(254, 0, true);
    await expectNiftiRefused(
      'zero-pixdim.nii',
      patched((v) => (noSform(v), v.setFloat32(80, 0, true))),
      /spacing.*zero or not a number/,
    );
    await expectNiftiRefused(
      'nan-pixdim.nii',
      patched((v) => (noSform(v), v.setFloat32(84, NaN, true))),
      /spacing.*zero or not a number/,
    );
    await expectNiftiRefused(
      'zero-sform.nii',
      patched((v) => [280, 296, 312].forEach((o) => v.setFloat32(o, 0, true))),
      /spacing 0 mm/,
    );
    await expectNiftiRefused(
      'nan-sform.nii',
      patched((v) => v.setFloat32(292, NaN, true)),
      /not a number|not a finite/,
    );
  });
  it('unsupported datatype', async () => {
    await expectNiftiRefused(
      'complex.nii',
      patched((v) => v.setInt16(70, 32, true)),
      /complex64 is not supported/,
    );
    await expectNiftiRefused(
      'rgb.nii',
      patched((v) => v.setInt16(70, 128, true)),
      /RGB24 is not supported/,
    );
    await expectNiftiRefused(
      'weird.nii',
      patched((v) => v.setInt16(70, 3, true)),
      /code 3 is not supported/,
    );
  });
  it('gzip bomb: far more data than the header describes', async () => {
    const bomb = new Uint8Array(good.length + 40 * 1024 * 1024);
    bomb.set(good);
    const z = gz(bomb);
    const path = join(tmp.dir, 'bomb.nii.gz');
    writeFileSync(path, z);
    // In memory: refused once the output passes what the header allows (plus slack).
    expect(() => decodeNifti(z, path)).toThrow(/far more data/);
    // Streaming from disk stops after the voxels the header describes, so the bomb never inflates.
    const v = await readNifti(path);
    expect(Array.from(v.data)).toEqual(Array.from(goodVolume().data));
  });
});

const havePydicom = hasPythonModules('pydicom', 'numpy');
const haveDcmtk = hasCommand('dcmcrle') && hasCommand('dcmcjpeg') && hasCommand('dcmcjpls');

async function refusal(path: string): Promise<InputError> {
  const err = await readVolume(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

/** Copies a series folder, then changes one file's bytes. */
function variant(src: string, name: string, edit: (bytes: Uint8Array) => Uint8Array): string {
  const dst = join(tmp.dir, 'dicom', name);
  mkdirSync(dst, { recursive: true });
  const files = readdirSync(src).sort();
  for (const f of files) copyFileSync(join(src, f), join(dst, f));
  const victim = join(dst, files[2]);
  writeFileSync(victim, edit(new Uint8Array(readFileSync(victim))));
  return dst;
}

function replaceAscii(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const s = Buffer.from(bytes).toString('latin1');
  const at = s.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error(`test setup: '${from}' not found`);
  const out = bytes.slice();
  out.set(Buffer.from(to, 'latin1'), at);
  return out;
}

describe.skipIf(!havePydicom)('bad DICOM input', () => {
  let dir = '';
  beforeAll(() => {
    dir = join(tmp.dir, 'series');
    mkdirSync(dir);
    runPython('dicom_write.py', [dir]);
  });

  it('a gap in the slices', async () => {
    const e = await refusal(join(dir, 'gap'));
    expect(e.message).toMatch(/slices are missing: a gap of 5 mm \(1 slice\(s\) of 2.5 mm\)/);
    expect(e.message).toContain(join(dir, 'gap'));
  });
  it('uneven spacing', async () => {
    expect((await refusal(join(dir, 'uneven'))).message).toMatch(/slice spacing is uneven: 3.5 mm .* 2.5 mm/);
  });
  it('mixed orientations', async () => {
    expect((await refusal(join(dir, 'mixed'))).message).toMatch(/mixes image orientations/);
  });
  it('missing pixel data', async () => {
    const e = await refusal(join(dir, 'nopixel'));
    expect(e.message).toMatch(/IM9999: has no pixel data/);
  });
  it('duplicate slice positions', async () => {
    expect((await refusal(join(dir, 'dup'))).message).toMatch(/same position/);
  });
  it('absurd image size, refused before allocating', async () => {
    expect((await refusal(join(dir, 'huge'))).message).toMatch(/more than this app can hold/);
  });
  it('zero or NaN pixel spacing', async () => {
    expect(
      (await refusal(variant(join(dir, 'ct12'), 'zero-spacing', (b) => replaceAscii(b, '0.7\\0.9', '0.0\\0.9'))))
        .message,
    ).toMatch(/pixel spacing .* zero or not a number/);
    expect(
      (await refusal(variant(join(dir, 'ct12'), 'nan-spacing', (b) => replaceAscii(b, '0.7\\0.9', 'nan\\0.9'))))
        .message,
    ).toMatch(/pixel spacing .* zero or not a number/);
  });
  it('truncated file', async () => {
    const e = await refusal(variant(join(dir, 'ct12'), 'truncated', (b) => b.subarray(0, b.length - 100)));
    expect(e.message).toMatch(/truncated/);
  });
  it('a slice file far bigger than one frame, refused before reading it', async () => {
    const dst = variant(join(dir, 'ct12'), 'oversized', (b) => b);
    const victim = join(dst, readdirSync(dst).sort()[2]);
    truncateSync(victim, 80 * 1024 * 1024); // sparse: costs no disk
    expect((await refusal(dst)).message).toMatch(/far more than one 40×32 frame/);
  });
  it('garbage after the DICM marker', async () => {
    const e = await refusal(
      variant(join(dir, 'ct12'), 'garbage', (b) => b.map((x, p) => (p > 140 ? (x * 31 + p) & 0xff : x))),
    );
    expect(e.message).toMatch(/malformed|truncated|not supported|pixel/);
  });
  it('missing or unknown paths', async () => {
    expect((await refusal(join(dir, 'nope'))).message).toMatch(/does not exist/);
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'empty', 'README.txt'), 'no images here');
    expect((await refusal(join(dir, 'empty'))).message).toMatch(/contains no DICOM images/);
    expect((await refusal(join(dir, 'empty', 'README.txt'))).message).toMatch(/neither a NIfTI file nor a DICOM/);
  });

  describe.skipIf(!haveDcmtk)('compressed', () => {
    const compressed = (name: string, cmd: string, args: string[]): string => {
      const dst = join(tmp.dir, 'dicom', name);
      mkdirSync(dst, { recursive: true });
      for (const f of readdirSync(join(dir, 'ct12'))) run(cmd, [...args, join(dir, 'ct12', f), join(dst, f)]);
      return dst;
    };
    it('unsupported codec (JPEG extended, 12-bit lossy)', async () => {
      const src = compressed('sv1', 'dcmcjpeg', ['+e1']);
      const bad = variant(src, 'extended', (b) => replaceAscii(b, '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.51'));
      expect((await refusal(bad)).message).toMatch(/JPEG extended .* is not supported/);
    });
    it.skipIf(!hasCommand('gdcmconv'))('corrupt JPEG 2000 stream, decoded in workers and in this thread', async () => {
      const src = compressed('j2k-src', 'gdcmconv', ['--j2k']);
      const bad = variant(src, 'j2k-corrupt', (b) =>
        b.map((x, p) => (p > b.length * 0.3 && p < b.length - 16 ? (x ^ (p * 13)) & 0xff : x)),
      );
      for (const workers of [0, 2]) {
        const err = await readVolume(bad, { workers }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, `workers ${workers}`).toBeInstanceOf(InputError);
        expect((err as Error).message).toMatch(
          /JPEG 2000 .*could not be decoded|compressed image is|decoded image holds|malformed/,
        );
      }
      // The codec still works after the failure (a trapped WebAssembly module is reloaded).
      expect((await readVolume(src, { workers: 0 })).dims).toEqual([40, 32, 7]);
    });
    for (const [name, cmd, args] of [
      ['rle', 'dcmcrle', []],
      ['jpegls', 'dcmcjpls', []],
      ['jpeglossless', 'dcmcjpeg', ['+e1']],
    ] as Array<[string, string, string[]]>) {
      it(`corrupt ${name} stream`, async () => {
        const src = compressed(`${name}-src`, cmd, args);
        // Scramble the compressed bytes well inside the pixel data (the file's last 60%).
        const bad = variant(src, `${name}-corrupt`, (b) =>
          b.map((x, p) => (p > b.length * 0.4 && p < b.length - 16 ? (x ^ (p * 7)) & 0xff : x)),
        );
        const e = await refusal(bad);
        expect(e.message).toMatch(/decod|RLE|malformed|overrun|truncated|compressed/i);
      });
    }
  });
});
