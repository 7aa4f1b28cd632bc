// Measures retrieving a 512×512×N CT series from a local Orthanc (WADO-RS, streamed to the project
// cache) against reading the same files from disk, with peak memory while retrieving.
// Run: nice -n 19 node --expose-gc --import tsx tests/dicomweb/bench-retrieve.ts [slices=300] [--real DIR]
// With --real DIR (the shared anonymised J2K series), its slices are stacked up to `slices` with UIDs
// added by pydicom, so the series keeps its JPEG 2000 pixel data.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomwebClient } from '../../src-main/dicomweb/client';
import { downloadSeries, importRemoteSeries } from '../../src-main/dicomweb/import';
import { readVolume } from '../../src-main/imaging/read';
import type { Volume } from '../../src-main/imaging/volume';
import { ProjectStore } from '../../src-main/store/project';
import { PYTHON, startOrthanc, uploadToOrthanc } from './orthanc';
import { phantomToDicom, type PhantomSeries } from './phantom-dicom';
import { newUid } from '../../src-main/export/dicom/uid';

const slices = Number(process.argv[2] ?? 300);
const realAt = process.argv.indexOf('--real');
const realDir = realAt > 0 ? process.argv[realAt + 1] : null;

/** The real series stacked to about `slices` slices, as stored (JPEG 2000), with UIDs. */
function realSeries(tmp: string): PhantomSeries {
  const studyUid = newUid();
  const seriesUid = newUid();
  const out = join(tmp, 'real');
  const copies = Math.max(1, Math.round(slices / readdirSync(realDir!).length));
  execFileSync(PYTHON, [
    join(import.meta.dirname, 'fixtures', 'replicate_series.py'),
    realDir!,
    out,
    studyUid,
    seriesUid,
    String(copies),
  ]);
  const files = readdirSync(out)
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(out, f))));
  rmSync(out, { recursive: true, force: true });
  return { studyUid, seriesUid, frameOfReferenceUid: '', patientId: 'REALCT01', files, sopInstanceUids: [] };
}
const [ni, nj] = [512, 512];

/** A body-like ellipse of soft tissue with noise (content does not matter for I/O, size does). */
function syntheticCt(): Volume {
  const data = new Int16Array(ni * nj * slices);
  let s = 12345;
  for (let k = 0; k < slices; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const inside = ((i - 256) / 200) ** 2 + ((j - 256) / 150) ** 2 < 1;
        data[(k * nj + j) * ni + i] = inside ? 40 + ((s >>> 24) % 40) : -1000;
      }
  return {
    data,
    dims: [ni, nj, slices],
    spacingMm: [0.78, 0.78, 1.5],
    originMm: [-200, -200, -400],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    modality: 'CT',
    description: 'bench',
    source: 'synthetic',
  };
}

function peakSampler(): { stop: () => { rssMiB: number; heapPlusBuffersMiB: number } } {
  let rss = 0;
  let heap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed + m.arrayBuffers);
  };
  const t = setInterval(sample, 20);
  return {
    stop: () => {
      clearInterval(t);
      sample();
      return { rssMiB: Math.round(rss / 2 ** 20), heapPlusBuffersMiB: Math.round(heap / 2 ** 20) };
    },
  };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'deformux-bench-retrieve-'));
  const orthanc = await startOrthanc();
  try {
    const series = realDir ? realSeries(tmp) : phantomToDicom(syntheticCt(), { patientId: 'BENCH' });
    const count = series.files.length;
    const bytes = series.files.reduce((n, f) => n + f.length, 0);
    const disk = join(tmp, 'disk');
    mkdirSync(disk);
    series.files.forEach((f, n) => writeFileSync(join(disk, `${n}.dcm`), f));
    await uploadToOrthanc(orthanc.rest, series.files);
    series.files.length = 0; // drop our copy before measuring memory
    if (global.gc) global.gc();
    const baseline = process.memoryUsage();

    const client = new DicomwebClient({ baseUrl: orthanc.dicomweb });
    let t0 = performance.now();
    let peak = peakSampler();
    await downloadSeries(
      client,
      series.studyUid,
      { seriesInstanceUid: series.seriesUid, instanceCount: count },
      join(tmp, 'dl'),
    );
    const downloadS = (performance.now() - t0) / 1000;
    const downloadMem = peak.stop();

    t0 = performance.now();
    const fromDisk = await readVolume(disk);
    const diskReadS = (performance.now() - t0) / 1000;

    const store = ProjectStore.create(join(tmp, 'project'), { schema: 'kidney' });
    t0 = performance.now();
    peak = peakSampler();
    const r = await importRemoteSeries(store, client, series.studyUid, series.seriesUid);
    const importS = (performance.now() - t0) / 1000;
    const importMem = peak.stop();
    const again0 = performance.now();
    const again = await importRemoteSeries(store, client, series.studyUid, series.seriesUid);
    const reopenS = (performance.now() - again0) / 1000;
    store.close();
    console.log(
      JSON.stringify(
        {
          series: realDir
            ? `${fromDisk.dims.join('x')} real CT, JPEG 2000 as stored`
            : `${ni}x${nj}x${slices} int16, explicit VR little endian`,
          bytes,
          wadoDownloadToCacheS: +downloadS.toFixed(2),
          wadoDownloadMiBps: +(bytes / 2 ** 20 / downloadS).toFixed(0),
          readSameFilesFromDiskS: +diskReadS.toFixed(2),
          importFromPacsS: +importS.toFixed(2),
          importFrom: r.from,
          reopenS: +reopenS.toFixed(3),
          reopenFrom: again.from,
          baselineRssMiB: Math.round(baseline.rss / 2 ** 20),
          peakDuringDownload: downloadMem,
          peakDuringImport: importMem,
          volumeMiB: Math.round(fromDisk.data.byteLength / 2 ** 20),
        },
        null,
        1,
      ),
    );
  } finally {
    await orthanc.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
