// The DICOMweb client against a real Orthanc (started here on a free loopback port): search, retrieve a
// phantom series into a project voxel-exact, SEG round trip, a colleague's SEG as a label version, and
// basic auth. The shared real J2K series is retrieved too when ../shared is present.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomwebClient } from '../../src-main/dicomweb/client';
import { importRemoteSeries } from '../../src-main/dicomweb/import';
import { importRemoteSegs, storeCaseSeg, storedSegOf } from '../../src-main/dicomweb/seg-sync';
import { DicomwebError } from '../../src-main/dicomweb/http';
import { encodeDicomSeg } from '../../src-main/export/dicom/seg';
import { readDicomSeg } from '../../src-main/export/dicom/seg-read';
import { readVolume } from '../../src-main/imaging/read';
import { LABEL_SCHEMAS } from '../../src-main/labels/schemas';
import { generatePhantom } from '../../src-main/phantom';
import { registerModel } from '../../src-main/store/model-rows';
import { ProjectStore } from '../../src-main/store/project';
import { HAS_ORTHANC, HAS_PYDICOM, PYTHON, startOrthanc, uploadToOrthanc, type RunningOrthanc } from './orthanc';
import { phantomToDicom, type PhantomSeries } from './phantom-dicom';

// ../shared beside the repository; DEFORMUX_SHARED_DIR points elsewhere (a git worktree lives deeper).
const SHARED = process.env.DEFORMUX_SHARED_DIR ?? resolve(__dirname, '../../../shared');
const REAL_SERIES = join(SHARED, 'data/real/totalseg_example_ct_dicom');
const tmp = mkdtempSync(join(tmpdir(), 'deformux-dicomweb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A kidney phantom on a tilted grid with an off-centre origin: a swapped or flipped axis changes voxels. */
function phantom(seed: number) {
  const c = generatePhantom({ seed, schema: 'kidney', dims: [40, 36, 18] });
  const tilt = 0.2;
  const direction = [1, 0, 0, 0, Math.cos(tilt), Math.sin(tilt), 0, -Math.sin(tilt), Math.cos(tilt)] as const;
  const geometry = {
    originMm: [-120.5, 80.25, -300] as [number, number, number],
    direction: [...direction] as typeof c.image.direction,
  };
  return { image: { ...c.image, ...geometry }, label: { ...c.label, ...geometry } };
}

describe.skipIf(!HAS_ORTHANC)('DICOMweb against Orthanc', () => {
  let orthanc: RunningOrthanc;
  let client: DicomwebClient;
  let store: ProjectStore;
  const ph = phantom(2);
  let series: PhantomSeries;
  let other: PhantomSeries;
  let caseId = '';

  beforeAll(async () => {
    orthanc = await startOrthanc();
    client = new DicomwebClient({ baseUrl: orthanc.dicomweb, retries: 0 });
    series = phantomToDicom(ph.image, { patientId: 'PH-0002' });
    other = phantomToDicom(phantom(5).image, { patientId: 'PH-0005' });
    await uploadToOrthanc(orthanc.rest, [...series.files, ...other.files]);
    store = ProjectStore.create(join(tmp, 'project'), { schema: 'kidney' });
  });
  afterAll(async () => {
    store?.close();
    await orthanc?.stop();
  });

  it('QIDO: finds studies by patient id and modality, and lists series with their instance counts', async () => {
    const all = await client.searchStudies({ modality: 'CT' });
    expect(all.map((s) => s.studyInstanceUid).sort()).toEqual([series.studyUid, other.studyUid].sort());
    const one = await client.searchStudies({ patientId: 'PH-0002' });
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({
      studyInstanceUid: series.studyUid,
      patientId: 'PH-0002',
      accessionNumber: 'ACC-PH-0002',
    });
    expect(await client.searchStudies({ patientId: 'NOBODY' })).toEqual([]);
    const list = await client.searchSeries(series.studyUid);
    expect(list).toEqual([
      expect.objectContaining({ seriesInstanceUid: series.seriesUid, modality: 'CT', instanceCount: ph.image.dims[2] }),
    ]);
  });

  it('WADO: imports the series as a case voxel-exact on its grid, with its UIDs; a re-open is local', async () => {
    const fractions: number[] = [];
    const r = await importRemoteSeries(store, client, series.studyUid, undefined, {
      onProgress: (f) => fractions.push(f),
    });
    expect(r.from).toBe('server');
    expect(r.instances).toBe(ph.image.dims[2]);
    expect(fractions.length).toBeGreaterThan(ph.image.dims[2] / 2);
    expect(fractions[fractions.length - 1]).toBe(1);
    caseId = r.case.id;
    const image = await store.loadImage(caseId);
    expect(image.dims).toEqual(ph.image.dims);
    image.originMm.forEach((x, n) => expect(x).toBeCloseTo(ph.image.originMm[n], 4));
    image.direction.forEach((x, n) => expect(x).toBeCloseTo(ph.image.direction[n], 5));
    expect(Array.from(image.data)).toEqual(Array.from(ph.image.data, (v) => Math.round(Number(v))));
    const source = store.dicomSource(caseId)!;
    expect(source.studyInstanceUid).toBe(series.studyUid);
    expect(source.seriesInstanceUid).toBe(series.seriesUid);
    expect(source.instances).toHaveLength(ph.image.dims[2]);
    const cacheDir = join(store.dir, 'dicomweb', series.studyUid, series.seriesUid);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.dcm'))).toHaveLength(ph.image.dims[2]);

    // Same series again through a server that is not there: found locally, no network.
    const dead = new DicomwebClient({ baseUrl: 'http://127.0.0.1:9/dicom-web', retries: 0 });
    const again = await importRemoteSeries(store, dead, series.studyUid, series.seriesUid);
    expect(again.from).toBe('case');
    expect(again.case.id).toBe(caseId);
    expect(store.listCases()).toHaveLength(1);
  });

  it('STOW: the case label goes up as a SEG with model provenance, is found by QIDO and reads back voxel-exact', async () => {
    registerModel(store, {
      id: 'kidney:kidney-lite@2000',
      schema: 'kidney',
      folder: 'models/kidney-lite',
      status: 'active',
    });
    await store.addLabelVersion(
      caseId,
      { ...ph.label, modality: 'SEG' },
      { kind: 'prediction', modelId: 'kidney:kidney-lite@2000' },
    );
    const stored = await storeCaseSeg(store, client, caseId);
    expect(storedSegOf(store, caseId)).toEqual(stored);
    expect(stored.contentDescription).toBe('Pre-label by kidney:kidney-lite@2000 v1');
    const segSeries = await client.searchSeries(series.studyUid, { modality: 'SEG' });
    expect(segSeries.map((s) => s.seriesInstanceUid)).toEqual([stored.seriesInstanceUid]);
    const got: Buffer[] = [];
    await client.retrieveSeries(series.studyUid, stored.seriesInstanceUid, (b) => void got.push(b));
    expect(got).toHaveLength(1);
    const seg = readDicomSeg(got[0], 'stored SEG', ph.image, LABEL_SCHEMAS.kidney);
    expect(seg.sopInstanceUid).toBe(stored.sopInstanceUid);
    expect(seg.contentDescription).toBe('Pre-label by kidney:kidney-lite@2000 v1');
    expect(seg.referencedSeriesUids).toEqual([series.seriesUid]);
    expect(Array.from(seg.labels)).toEqual(Array.from(ph.label.data));
    // The oracle: pydicom reads the same ContentDescription from the bytes Orthanc holds.
    if (HAS_PYDICOM) {
      const file = join(tmp, 'seg-from-orthanc.dcm');
      writeFileSync(file, got[0]);
      const out = execFileSync(
        PYTHON,
        [
          '-c',
          'import sys,pydicom; d=pydicom.dcmread(sys.argv[1]); print(d.ContentDescription); print(d.SegmentSequence[0].SegmentAlgorithmName)',
          file,
        ],
        { encoding: 'utf8' },
      );
      expect(out.split('\n').slice(0, 2)).toEqual([
        'Pre-label by kidney:kidney-lite@2000 v1',
        'kidney:kidney-lite@2000 v1',
      ]);
    }
  });

  it("a colleague's SEG on the PACS becomes a label version, compared with the current label", async () => {
    // The colleague erased the tumor (class 2 → kidney) and stored their SEG from elsewhere.
    const theirs = Uint8Array.from(ph.label.data as Uint8Array, (v) => (v === 2 ? 1 : v));
    const tumorVoxels = (ph.label.data as Uint8Array).filter((v) => v === 2).length;
    expect(tumorVoxels).toBeGreaterThan(0);
    const { bytes } = encodeDicomSeg(
      { ...ph.label, data: theirs, modality: 'SEG' },
      ph.image,
      store.dicomSource(caseId)!,
      {
        schema: LABEL_SCHEMAS.kidney,
        algorithmType: 'MANUAL',
        contentCreatorName: 'Colleague^Ann',
        contentDescription: 'Corrected by Ann',
      },
    );
    await uploadToOrthanc(orthanc.rest, [bytes]);
    const before = store.listLabelVersions(caseId).length;
    const added = await importRemoteSegs(store, client, caseId);
    // Our own stored SEG is not brought back; only the colleague's arrives.
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      creator: 'Colleague^Ann',
      contentDescription: 'Corrected by Ann',
      version: before + 1,
    });
    expect(added[0].comparison!.changedVoxels).toBe(tumorVoxels);
    expect(added[0].comparison!.classes[1]).toMatchObject({ value: 2, voxelsB: 0, dice: 0 });
    const versions = store.listLabelVersions(caseId);
    expect(versions[versions.length - 1]).toMatchObject({ kind: 'import', editor: 'Colleague^Ann' });
    const label = await store.loadLabel(caseId, before + 1);
    expect(Array.from(label.data)).toEqual(Array.from(theirs));
    // A second pull finds nothing new.
    expect(await importRemoteSegs(store, client, caseId)).toEqual([]);
  });

  it.skipIf(!existsSync(REAL_SERIES) || !HAS_PYDICOM)(
    'the shared real J2K series (UIDs added) retrieves into a case equal to reading the files from disk',
    async () => {
      const withUids = join(tmp, 'real-with-uids');
      const study = '1.2.826.0.1.3680043.8.498.77';
      const seriesUid = `${study}.2`;
      execFileSync(PYTHON, [join(__dirname, 'fixtures', 'add_uids.py'), REAL_SERIES, withUids, study, seriesUid]);
      const files = readdirSync(withUids)
        .sort()
        .map((f) => readFileSync(join(withUids, f)));
      await uploadToOrthanc(orthanc.rest, files);
      const r = await importRemoteSeries(store, client, study, seriesUid);
      expect(r.from).toBe('server');
      const fromPacs = await store.loadImage(r.case.id);
      const fromDisk = await readVolume(withUids);
      expect(fromPacs.dims).toEqual(fromDisk.dims);
      expect(fromPacs.dims.slice(0, 2)).toEqual([512, 512]);
      expect(Array.from(fromPacs.data)).toEqual(Array.from(fromDisk.data));
      // Orthanc kept the JPEG 2000 syntax and the client asked for it as stored.
      const cached = readdirSync(join(store.dir, 'dicomweb', study, seriesUid)).filter((f) => f.endsWith('.dcm'));
      const head = readFileSync(join(store.dir, 'dicomweb', study, seriesUid, cached[0])).toString('latin1', 0, 400);
      expect(head).toContain('1.2.840.10008.1.2.4.90');
    },
  );
});

describe.skipIf(!HAS_ORTHANC)('DICOMweb authentication against Orthanc', () => {
  let orthanc: RunningOrthanc;
  beforeAll(async () => {
    orthanc = await startOrthanc({ users: { annotator: 's3cret-pw' } });
  });
  afterAll(async () => {
    await orthanc?.stop();
  });

  it('without or with wrong credentials: a clear 401 error that never shows the password', async () => {
    for (const auth of [undefined, { kind: 'basic' as const, username: 'annotator', password: 'wrong-pw' }]) {
      const c = new DicomwebClient({ baseUrl: orthanc.dicomweb, retries: 0, ...(auth ? { auth } : {}) });
      const err = await c.searchStudies().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DicomwebError);
      expect((err as DicomwebError).status).toBe(401);
      expect((err as Error).message).toMatch(/refused the credentials/);
      expect((err as Error).message).not.toMatch(/wrong-pw|s3cret/);
    }
    const ok = new DicomwebClient({
      baseUrl: orthanc.dicomweb,
      auth: { kind: 'basic', username: 'annotator', password: 's3cret-pw' },
    });
    expect(await ok.searchStudies()).toEqual([]);
  });
});
