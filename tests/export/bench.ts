// Benchmark of label metrics and exports on a CT-sized grid; prints one JSON object.
// Run: npx tsx tests/export/bench.ts [ni nj nk]   (default 512 512 300)
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDicomSeg } from '../../src-main/export/dicom/seg';
import { slicePositionMm } from '../../src-main/export/dicom/seg-frames';
import { newUid } from '../../src-main/export/dicom/uid';
import { exportLabelNifti } from '../../src-main/export/nifti-label';
import type { Vec3, Volume } from '../../src-main/imaging/volume';
import { compareLabels, voxelsPerClass } from '../../src-main/labels/metrics';
import { LABEL_SCHEMAS } from '../../src-main/labels/schemas';
import { lcg, obliqueDirection } from './helpers';

const dims = (process.argv.length >= 5 ? process.argv.slice(2, 5).map(Number) : [512, 512, 300]) as Vec3;
const [ni, nj, nk] = dims;
const n = ni * nj * nk;

/** Two ellipsoid "kidneys" with a tumor and a cyst, plus an edited copy (one kidney grown by a shell). */
function makeLabels(): [Uint8Array, Uint8Array] {
  const a = new Uint8Array(n);
  const b = new Uint8Array(n);
  const rnd = lcg(1);
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const p = i + ni * (j + nj * k);
        const x = (i - ni * 0.3) / (ni * 0.08);
        const x2 = (i - ni * 0.7) / (ni * 0.08);
        const y = (j - nj * 0.6) / (nj * 0.12);
        const z = (k - nk * 0.5) / (nk * 0.2);
        const r1 = x * x + y * y + z * z;
        const r2 = x2 * x2 + y * y + z * z;
        let v = r1 < 1 || r2 < 1 ? 1 : 0;
        if (r1 < 0.15) v = 2;
        if (r2 < 0.05) v = 3;
        a[p] = v;
        b[p] = r1 < 1.1 && v === 0 ? 1 : v;
        if (rnd() < 0.001) b[p] = 0;
      }
  return [a, b];
}

function time<T>(fn: () => T, reps = 3): { ms: number; result: T } {
  let best = Infinity;
  let result!: T;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, result };
}

async function main(): Promise<void> {
  const [a, b] = makeLabels();
  const grid = {
    dims,
    spacingMm: [0.78, 0.78, 1.5] as Vec3,
    originMm: [-200, -180, -400] as Vec3,
    direction: obliqueDirection(0, 0, 3),
  };
  const label: Volume = { ...grid, data: b, modality: 'SEG', description: 'bench', source: 'bench' };
  const image: Volume = { ...grid, data: new Int16Array(n), modality: 'CT', description: 'bench', source: 'bench' };

  const compare = time(() => compareLabels(a, b, [1, 2, 3]));
  const naive = time(() => {
    // The obvious alternative: one pass per class plus one for changed voxels.
    const dice: number[] = [];
    for (const c of [1, 2, 3]) {
      let na = 0;
      let nb = 0;
      let both = 0;
      for (let p = 0; p < n; p++) {
        const ia = a[p] === c;
        const ib = b[p] === c;
        if (ia) na++;
        if (ib) nb++;
        if (ia && ib) both++;
      }
      dice.push((2 * both) / (na + nb));
    }
    let changed = 0;
    for (let p = 0; p < n; p++) if (a[p] !== b[p]) changed++;
    return { dice, changed };
  }, 1);
  const perClass = time(() => voxelsPerClass(b));
  const source = {
    studyInstanceUid: newUid(),
    seriesInstanceUid: newUid(),
    frameOfReferenceUid: newUid(),
    instances: Array.from({ length: nk }, (_, k) => ({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: newUid(),
      positionMm: slicePositionMm(image, k),
    })),
  };
  const seg = time(
    () =>
      encodeDicomSeg(label, image, source, {
        schema: LABEL_SCHEMAS.kidney,
        algorithmType: 'SEMIAUTOMATIC',
        algorithmName: 'bench',
      }),
    1,
  );
  const dir = mkdtempSync(join(tmpdir(), 'deformux-export-bench-'));
  const t0 = performance.now();
  await exportLabelNifti(join(dir, 'label.nii.gz'), label, image);
  const niftiMs = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });

  console.log(
    JSON.stringify(
      {
        dims,
        voxels: n,
        compareLabelsMs: Number(compare.ms.toFixed(1)),
        compareLabelsMvoxPerS: Number((n / compare.ms / 1e3).toFixed(0)),
        naivePerClassMs: Number(naive.ms.toFixed(1)),
        naiveAgrees:
          naive.result.changed === compare.result.changedVoxels &&
          naive.result.dice.every((d, c) => Math.abs(d - compare.result.classes[c].dice) < 1e-12),
        voxelsPerClassMs: Number(perClass.ms.toFixed(1)),
        changedVoxels: compare.result.changedVoxels,
        dice: compare.result.classes.map((c) => Number(c.dice.toFixed(4))),
        dicomSegEncodeMs: Number(seg.ms.toFixed(0)),
        dicomSegFrames: seg.result.summary.frames,
        dicomSegMB: Number((seg.result.bytes.length / 1e6).toFixed(2)),
        niftiLabelGzExportMs: Number(niftiMs.toFixed(0)),
      },
      null,
      0,
    ),
  );
}

void main();
