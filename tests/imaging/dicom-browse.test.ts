// Choosing a series before import: a folder with two patients' series lists each with patient, study
// and a thumbnail of its middle image (the soft-tissue window of that slice's HU, exactly); the import
// answers with those choices; the browser groups them by patient and study.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generatePhantom } from '../../src-main/phantom';
import { listSeries, readVolume } from '../../src-main/imaging/read';
import { THUMBNAIL_WINDOW_HU } from '../../src-main/imaging/dicom/thumbnail';
import { importPaths } from '../../src-main/store/import';
import { ProjectStore } from '../../src-main/store/project';
import { phantomToDicom } from '../dicomweb/phantom-dicom';
import { formatDicomDate, groupSeries } from '../../src-renderer/lib/worklist/seriesGroups';

const dir = mkdtempSync(join(tmpdir(), 'deformux-browse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeSeries(folder: string, prefix: string, seed: number, patientId: string) {
  const image = generatePhantom({ seed, schema: 'kidney', dims: [48, 40, 9], spacingMm: [8, 8, 8] }).image;
  const s = phantomToDicom(image, { patientId });
  s.files.forEach((f, k) => writeFileSync(join(folder, `${prefix}_${String(k).padStart(3, '0')}.dcm`), f));
  return s;
}

describe('DICOM series browser', () => {
  const folder = join(dir, 'two-patients');
  mkdirSync(folder);
  const a = writeSeries(folder, 'a', 3, 'PAT-A');
  const b = writeSeries(folder, 'b', 4, 'PAT-B');

  it('lists patient, study and a thumbnail that is the windowed middle image', async () => {
    const series = await listSeries(folder, { thumbnails: 'several' });
    expect(series.map((s) => s.patientId).sort()).toEqual(['PAT-A', 'PAT-B']);
    const sa = series.find((s) => s.uid === a.seriesUid)!;
    expect(sa).toMatchObject({
      patientName: 'Phantom PAT-A',
      studyUid: a.studyUid,
      studyDate: '20260101',
      modality: 'CT',
      slices: 9,
    });
    // 48 columns × 40 rows fit under 64: one thumbnail pixel per image pixel, row by row.
    expect([sa.thumbnail!.width, sa.thumbnail!.height]).toEqual([48, 40]);
    const grey = Buffer.from(sa.thumbnail!.data, 'base64');
    const vol = await readVolume(folder, { seriesInstanceUid: a.seriesUid });
    const [ni, nj] = vol.dims;
    const [lo, hi] = THUMBNAIL_WINDOW_HU;
    // Instance numbers 1..9: the middle image is the fifth; the volume's slices run along the same normal.
    const k = 4;
    let differ = 0;
    for (let p = 0; p < ni * nj; p++) {
      const hu = Number(vol.data[k * ni * nj + p]);
      const want = Math.round(Math.min(1, Math.max(0, (hu - lo) / (hi - lo))) * 255);
      if (grey[p] !== want) differ++;
    }
    expect(differ).toBe(0);
    // Some tissue and some air: not a blank picture.
    expect(Math.max(...grey)).toBeGreaterThan(100);
    expect(Math.min(...grey)).toBe(0);
    // One series alone is imported without asking: no thumbnails are made for it.
    expect((await listSeries(join(folder, 'a_000.dcm'), {}))[0]).not.toHaveProperty('thumbnail');
  });

  it('the import asks with those details, and the browser groups them by patient and study', async () => {
    const store = ProjectStore.create(join(dir, 'project'), { schema: 'kidney' });
    try {
      const r = await importPaths(store, { paths: [folder] });
      expect(r.imported).toEqual([]);
      expect(r.choices).toHaveLength(1);
      const choices = r.choices[0].series;
      expect(choices.every((s) => s.thumbnail && s.thumbnail.width === 48)).toBe(true);
      const groups = groupSeries(choices);
      expect(groups.map((g) => [g.patient, g.study, g.series.length]).sort()).toEqual([
        ['Phantom PAT-A (PAT-A)', '2026-01-01', 1],
        ['Phantom PAT-B (PAT-B)', '2026-01-01', 1],
      ]);
      expect(b.seriesUid).not.toBe(a.seriesUid);
    } finally {
      store.close();
    }
  });

  it('groups without names or dates readably', () => {
    expect(formatDicomDate('20251231')).toBe('2025-12-31');
    expect(formatDicomDate('2025')).toBe('2025');
    const g = groupSeries([
      { uid: '1', description: 'a', slices: 3, studyUid: 'S' },
      { uid: '2', description: 'b', slices: 4, studyUid: 'S' },
      { uid: '3', description: 'c', slices: 5, patientId: 'X', studyUid: 'T', studyDescription: 'CT ABD' },
    ]);
    expect(g.map((x) => [x.patient, x.study, x.series.map((s) => s.uid)])).toEqual([
      ['Unknown patient', 'Study without date or description', ['1', '2']],
      ['X', 'CT ABD', ['3']],
    ]);
  });
});
