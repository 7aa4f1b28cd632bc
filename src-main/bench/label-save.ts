// Benchmark of label saving (autosave path) and per-case stats on a CT-sized case; prints JSON.
// Run: node --import tsx src-main/bench/label-save.ts [ni nj nk]   (default 512 512 120)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApiHandlers } from '../api/handlers';
import type { Volume } from '../imaging/volume';
import { ProjectStore } from '../store/project';

const [ni, nj, nk] = (
  process.argv
    .slice(2)
    .map(Number)
    .filter((x) => x > 0) as number[]
)
  .concat([512, 512, 120])
  .slice(0, 3);
const n = ni * nj * nk;
const dir = mkdtempSync(join(tmpdir(), 'deformux-bench-save-'));
try {
  const store = ProjectStore.create(join(dir, 'proj'), { schema: 'kidney' });
  const image: Volume = {
    dims: [ni, nj, nk],
    spacingMm: [0.8, 0.8, 2.5],
    originMm: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    data: Int16Array.from({ length: n }, (_, p) => ((p * 2654435761) >>> 20) - 1000),
    modality: 'CT',
    description: 'bench',
    source: 'bench',
  };
  const { id: caseId } = await store.addCase(image);
  const api = createApiHandlers({ store });
  // A label like a kidney pair: two blocks of ~4% of the volume.
  const label = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const i = p % ni;
    const j = Math.floor(p / ni) % nj;
    label[p] =
      j > nj * 0.4 && j < nj * 0.6 && ((i > ni * 0.2 && i < ni * 0.35) || (i > ni * 0.65 && i < ni * 0.8)) ? 1 : 0;
  }
  await store.addLabelVersion(caseId, { ...image, data: label.slice(), modality: 'SEG' }, { kind: 'prediction' });
  const timesMs: number[] = [];
  let parent = 1;
  for (let r = 0; r < 5; r++) {
    // A brush stroke's worth of changes per save.
    for (let p = r * 5000; p < r * 5000 + 20000; p++) label[(p * 7919) % n] = 2;
    const t0 = performance.now();
    const v = await api.upload(
      'cases.saveLabel',
      { caseId, parentVersion: parent, submit: false, activeEditSeconds: 2 },
      label.slice(),
    );
    timesMs.push(performance.now() - t0);
    parent = v.version;
  }
  const t1 = performance.now();
  await api.call('cases.stats', { caseId });
  const statsMs = performance.now() - t1;
  const sorted = [...timesMs].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      bench: 'label-save',
      dims: [ni, nj, nk],
      voxels: n,
      saveMsMedian: Math.round(sorted[2]),
      saveMsMax: Math.round(sorted[4]),
      statsMs: Math.round(statsMs),
    }),
  );
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
