// Imaging I/O benchmark (prints JSON): a 512×512×300 int16 CT series as DICOM and as .nii.gz.
// Run: npx tsx tests/imaging/bench-io.ts [--slices N]   (writes ~300 MB to a temp dir, removed after)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import zlib from 'node:zlib';
import { decodeNifti, encodeNifti, readNifti } from '../../src-main/imaging/nifti';
import { readVolume } from '../../src-main/imaging/read';
import { defaultWorkerCount } from '../../src-main/imaging/dicom/decode-pool';
import { makeTempDir, REAL_DIR } from './helpers/tools';
import { writeCtSlice } from './helpers/dicom-writer';

const argSlices = process.argv.indexOf('--slices');
const SLICES = argSlices > 0 ? Number(process.argv[argSlices + 1]) : 300;
const N = 512;

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, (performance.now() - t) / 1000];
}

const tmp = makeTempDir('bench');
try {
  const dir = join(tmp.dir, 'series');
  mkdirSync(dir);
  const px = new Int16Array(N * N);
  let seed = 12345;
  for (let k = 0; k < SLICES; k++) {
    // Smooth anatomy-like ramps plus ~±16 HU noise, so gzip sees CT-like entropy (~2-3x, not 70x).
    for (let p = 0; p < px.length; p++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      px[p] = (((p % N) + (p >> 9) * 3 + k * 7) % 2000) + ((seed >>> 16) & 31);
    }
    writeCtSlice(join(dir, `IM${String(k).padStart(4, '0')}.dcm`), {
      seriesUid: '1.2.826.0.1.3680043.8.498.77',
      instance: k + 1,
      rows: N,
      columns: N,
      pixels: px,
      positionMm: [-250, -250, -400 + k * 1.25],
      orientation: [1, 0, 0, 0, 1, 0],
      pixelSpacingMm: [0.9765625, 0.9765625],
      intercept: -1024,
    });
  }
  const [vol, dicomSeconds] = await timed(() => readVolume(dir));
  const voxels = vol.dims[0] * vol.dims[1] * vol.dims[2];
  const [gz, encodeSeconds] = await timed(() => encodeNifti(vol, { gzip: true, level: 6 }));
  const niiPath = join(tmp.dir, 'vol.nii.gz');
  writeFileSync(niiPath, gz);
  const [, readNiftiSeconds] = await timed(() => readNifti(niiPath));
  const [, decodeNiftiSeconds] = await timed(() => decodeNifti(readFileSync(niiPath), niiPath));
  const [, gunzipSeconds] = await timed(() => zlib.gunzipSync(readFileSync(niiPath), { chunkSize: 32 << 20 }));
  const result: Record<string, unknown> = {
    bench: 'imaging-io',
    cpus: availableParallelism(),
    loadAverage1m: loadavg()[0],
    dims: vol.dims,
    voxelType: vol.data.constructor.name,
    dicomUncompressedRead: {
      seconds: dicomSeconds,
      slicesPerSecond: SLICES / dicomSeconds,
      mvoxPerSecond: voxels / dicomSeconds / 1e6,
    },
    niftiGzEncode: { seconds: encodeSeconds, bytes: gz.length },
    niftiGzReadStreaming: { seconds: readNiftiSeconds, mbPerSecond: (voxels * 2) / readNiftiSeconds / 1e6 },
    niftiGzDecodeInMemory: { seconds: decodeNiftiSeconds },
    zlibGunzipOnly: {
      seconds: gunzipSeconds,
      note: 'node:zlib gunzipSync (32 MiB chunks) of the same file, nothing else: zlib speed',
    },
  };
  const real = join(REAL_DIR, 'totalseg_example_ct_dicom');
  if (existsSync(real)) {
    await readVolume(real, { workers: 0 }); // warm the page cache and the codec
    const [rv, s1] = await timed(() => readVolume(real, { workers: 0 }));
    const [, sp] = await timed(() => readVolume(real));
    result.realJpeg2000Read = {
      dims: rv.dims,
      inThread: { seconds: s1, msPerSlice: (s1 * 1000) / rv.dims[2] },
      workerPool: { workers: defaultWorkerCount(), seconds: sp, msPerSlice: (sp * 1000) / rv.dims[2] },
    };
  }
  console.log(JSON.stringify(result, null, 2));
} finally {
  tmp.cleanup();
}
