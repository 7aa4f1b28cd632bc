// Real DICOM end to end: import keeps the source series references (checked against pydicom), an
// edited label saved through the API exports as a DICOM SEG whose frames land on the source slices.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiHandlers } from '../../../src-main/api/handlers';
import { isValidUid } from '../../../src-main/export/dicom/uid';
import { ProjectStore } from '../../../src-main/store/project';
import { REAL_DIR, hasPythonModules, runPythonJson } from '../../export/helpers';
import { tempDir } from '../helpers';

const DICOM_DIR = join(REAL_DIR, 'totalseg_example_ct_dicom');
const ready = existsSync(DICOM_DIR) && hasPythonModules('pydicom', 'numpy');

interface RefOracle {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  instances: { sopClassUid: string; sopInstanceUid: string; positionMm: number[] }[];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe.skipIf(!ready)('DICOM import → SEG export', () => {
  it('stores the series references at import and exports a SEG onto the real slices', async () => {
    const t = tempDir('dicom-seg');
    const store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'kidney' });
    cleanups.push(() => {
      store.close();
      t.cleanup();
    });
    const api = createApiHandlers({ store });
    const imported = await api.call('cases.import', { paths: [DICOM_DIR] });
    expect(imported.errors).toEqual([]);
    const caseId = imported.imported[0].id;

    const oracle = runPythonJson<RefOracle>('dicom_series_ref.py', [DICOM_DIR]);
    const source = store.dicomSource(caseId)!;
    expect(source).not.toBeNull();
    // Blank UIDs in the data set: kept when pydicom sees them, otherwise valid made-up ones.
    for (const key of ['studyInstanceUid', 'seriesInstanceUid', 'frameOfReferenceUid'] as const) {
      expect(isValidUid(source[key])).toBe(true);
      if (oracle[key]) expect(source[key]).toBe(oracle[key]);
    }
    const byUid = new Map(oracle.instances.map((i) => [i.sopInstanceUid, i]));
    expect(source.instances).toHaveLength(oracle.instances.length);
    for (const inst of source.instances) {
      const want = byUid.get(inst.sopInstanceUid)!;
      expect(want, inst.sopInstanceUid).toBeDefined();
      expect(inst.sopClassUid).toBe(want.sopClassUid);
      expect(Math.hypot(...inst.positionMm.map((x, a) => x - want.positionMm[a]))).toBeLessThan(1e-6);
    }

    const header = await api.call('cases.open', { caseId });
    const [ni, nj, nk] = header.dims;
    const label = new Uint8Array(ni * nj * nk);
    // A kidney block on slices 2..5 with tumor on slice 3.
    for (let k = 2; k <= 5; k++)
      for (let j = 200; j < 230; j++) for (let i = 100; i < 140; i++) label[i + ni * (j + nj * k)] = k === 3 ? 2 : 1;
    await api.upload(
      'cases.saveLabel',
      { caseId, parentVersion: null, submit: true, activeEditSeconds: 5 },
      label.buffer,
    );
    const { path } = await api.call('cases.export', { caseId, format: 'dicom-seg' });
    expect(path.endsWith(`${caseId}_v1.seg.dcm`)).toBe(true);

    const seg = runPythonJson<{
      studyInstanceUid: string;
      frameOfReferenceUid: string;
      frames: { position: number[]; segment: number; source: string; pixels: string }[];
    }>('seg_read.py', [path]);
    expect(seg.studyInstanceUid).toBe(source.studyInstanceUid);
    expect(seg.frameOfReferenceUid).toBe(source.frameOfReferenceUid);
    // Kidney frames on slices 2, 4, 5 and one tumor frame on slice 3.
    expect(seg.frames.map((f) => f.segment).sort()).toEqual([1, 1, 1, 2]);
    const kAxis = header.direction.slice(6, 9);
    for (const f of seg.frames) {
      const inst = byUid.get(f.source)!;
      expect(inst).toBeDefined();
      expect(Math.hypot(...inst.positionMm.map((x, a) => x - f.position[a]))).toBeLessThan(0.01);
      // The frame's slice index on the case grid, from its position; its pixels equal that slice's mask.
      const k = Math.round(
        f.position.reduce((s, x, a) => s + (x - header.originMm[a]) * kAxis[a], 0) / header.spacingMm[2],
      );
      const slice = label.subarray(k * ni * nj, (k + 1) * ni * nj);
      const want = Buffer.from(Uint8Array.from(slice, (v) => (v === f.segment ? 1 : 0)));
      expect(Buffer.from(f.pixels, 'base64').equals(want), `frame on slice ${k}`).toBe(true);
    }
  }, 60_000);
});
