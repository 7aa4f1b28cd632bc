// The API's DICOMweb calls (the handlers both shells use) against a real Orthanc: link a project to the
// server and a query, the remote worklist with each study's state, open with progress and cancel,
// store the SEG; credentials never reach the project's SQLite files.
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src-main/api/contract';
import { createApiHandlers, jobManagerOf, type ApiHandlers } from '../../src-main/api/handlers';
import { generatePhantom } from '../../src-main/phantom';
import { ProjectStore } from '../../src-main/store/project';
import { HAS_ORTHANC, startOrthanc, uploadToOrthanc, type RunningOrthanc } from './orthanc';
import { phantomToDicom, sourceRefOf, type PhantomSeries } from './phantom-dicom';
import { encodeDicomSeg } from '../../src-main/export/dicom/seg';
import { LABEL_SCHEMAS } from '../../src-main/labels/schemas';
import { writeTinyModel } from '../predict-cli/tiny-model';

const tmp = mkdtempSync(join(tmpdir(), 'deformux-dicomweb-api-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!HAS_ORTHANC)('API: a project linked to a PACS', () => {
  let orthanc: RunningOrthanc;
  let store: ProjectStore;
  let api: ApiHandlers;
  const events: ApiEvent[] = [];
  const ph = generatePhantom({ seed: 6, schema: 'kidney', dims: [24, 24, 10] });
  let a: PhantomSeries;
  let b: PhantomSeries;
  let c: PhantomSeries;
  const TOKEN = 'secret-token-for-the-pacs';

  beforeAll(async () => {
    orthanc = await startOrthanc();
    a = phantomToDicom(ph.image, { patientId: 'API-A' });
    b = phantomToDicom(ph.image, { patientId: 'API-B' });
    c = phantomToDicom(ph.image, { patientId: 'API-C' });
    // A colleague already segmented study C (the tumor relabelled as kidney) and stored the SEG.
    const theirs = Uint8Array.from(ph.label.data as Uint8Array, (v) => (v === 2 ? 1 : v));
    const seg = encodeDicomSeg({ ...ph.label, data: theirs }, ph.image, sourceRefOf(ph.image, c), {
      schema: LABEL_SCHEMAS.kidney,
      algorithmType: 'MANUAL',
      contentCreatorName: 'Colleague^Bo',
    });
    await uploadToOrthanc(orthanc.rest, [...a.files, ...b.files, ...c.files, seg.bytes]);
    // A tiny model as the starter keeps pre-labels quick (inherited through the environment).
    process.env.DEFORMUX_MODELS_DIR = join(tmp, 'models');
    await writeTinyModel(join(tmp, 'models'), 'kidney', 'kidney-lite', [12, 12, 12]);
    store = ProjectStore.create(join(tmp, 'project'), { schema: 'kidney' });
    api = createApiHandlers({ store });
    api.onEvent((e) => events.push(e));
  });
  afterAll(async () => {
    await jobManagerOf(api)?.idle();
    store?.close();
    await orthanc?.stop();
    delete process.env.DEFORMUX_MODELS_DIR;
  });

  it('asks to link first, then keeps URL and query (not the token) in the project', async () => {
    await expect(api.call('dicomweb.worklist', {})).rejects.toThrow(/not linked to a DICOMweb server/);
    await expect(api.call('dicomweb.link', { url: 'ftp://x' })).rejects.toThrow(/'url' must be an http\(s\) URL/);
    const link = await api.call('dicomweb.link', {
      url: `${orthanc.dicomweb}/`,
      query: { modality: 'CT' },
      token: TOKEN,
    });
    expect(link).toEqual({
      url: orthanc.dicomweb,
      query: { modality: 'CT' },
      hasCredentials: true,
      storeOnSubmit: false,
    });
    expect(await api.call('dicomweb.linkInfo', {})).toEqual(link);
    store.database.pragma('wal_checkpoint(TRUNCATE)');
    for (const f of readdirSync(store.dir).filter((n) => n.startsWith('project.sqlite')))
      expect(readFileSync(join(store.dir, f)).toString('latin1')).not.toContain(TOKEN);
    // A fresh API over the same project (a restart) knows the link but holds no credentials.
    const again = createApiHandlers({ store });
    expect(await again.call('dicomweb.linkInfo', {})).toEqual({ ...link, hasCredentials: false });
  });

  it('lists remote studies; opening one retrieves it with progress; states follow the case to stored', async () => {
    const rows = await api.call('dicomweb.worklist', {});
    expect(rows.map((r) => [r.patientId, r.state, r.caseId]).sort()).toEqual([
      ['API-A', 'remote', null],
      ['API-B', 'remote', null],
      ['API-C', 'remote', null],
    ]);
    events.length = 0;
    const opened = await api.call('dicomweb.open', { studyInstanceUid: a.studyUid, jobId: 'open-a' });
    expect(opened.from).toBe('server');
    const progress = events.filter((e) => e.name === 'job.progress' && e.payload.jobId === 'open-a');
    // Progress as every job's: throttled to one event per 100 ms, in order.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const fractions = progress.map((e) => (e.payload as { fraction: number }).fraction);
    expect([...fractions].sort((x, y) => x - y)).toEqual(fractions);
    expect(events.find((e) => e.name === 'job.done')?.payload).toMatchObject({ jobId: 'open-a', ok: true });
    // The retrieve is a row of the jobs table like any long job.
    expect((await api.call('jobs.list', {})).find((j) => j.id === 'open-a')).toMatchObject({
      kind: 'dicomweb-retrieve',
      status: 'done',
      fraction: 1,
      params: { studyInstanceUid: a.studyUid },
      result: { caseId: opened.caseId },
    });
    // A job id is the page's handle for cancelling: one already used is refused, and nothing is retrieved.
    await expect(api.call('dicomweb.open', { studyInstanceUid: c.studyUid, jobId: 'open-a' })).rejects.toThrow(
      /job with id open-a exists already/,
    );
    expect((await api.call('dicomweb.worklist', {})).find((r) => r.studyInstanceUid === c.studyUid)!.state).toBe(
      'remote',
    );
    const stateOfA = async (): Promise<string> =>
      (await api.call('dicomweb.worklist', {})).find((r) => r.studyInstanceUid === a.studyUid)!.state;
    expect(await stateOfA()).toBe('cached');
    // Opening again is local.
    expect(await api.call('dicomweb.open', { studyInstanceUid: a.studyUid })).toEqual({
      caseId: opened.caseId,
      from: 'case',
      segVersions: [],
    });

    await store.addLabelVersion(
      opened.caseId,
      { ...ph.label, modality: 'SEG' },
      { kind: 'edit', editor: 'ann', status: 'in_progress' },
    );
    expect(await stateOfA()).toBe('in_progress');
    await api.call('cases.setStatus', { caseId: opened.caseId, status: 'submitted' });
    expect(await stateOfA()).toBe('submitted');
    const { sopInstanceUid } = await api.call('dicomweb.storeSeg', { caseId: opened.caseId });
    expect(await stateOfA()).toBe('stored');
    const onServer = await fetch(`${orthanc.dicomweb}/instances?SOPInstanceUID=${sopInstanceUid}`);
    expect(((await onServer.json()) as unknown[]).length).toBe(1);
  });

  it("a colleague's SEG arrives with the study as a label version; with store-on-submit a submit stores the SEG", async () => {
    const tumor = (ph.label.data as Uint8Array).filter((v) => v === 2).length;
    const opened = await api.call('dicomweb.open', { studyInstanceUid: c.studyUid });
    expect(opened.segVersions).toEqual([
      {
        version: 1,
        creator: 'Colleague^Bo',
        description: 'Kidney (kidney, tumor, cyst) label map',
        changedVoxels: null,
        meanDice: null,
      },
    ]);
    const versions = await api.call('cases.labelVersions', { caseId: opened.caseId });
    expect(versions.map((v) => [v.kind, v.editor])).toEqual([['import', 'Colleague^Bo']]);
    const theirs = new Uint8Array(await api.binary('cases.labelData', { caseId: opened.caseId, version: 1 }));
    expect(theirs.filter((v) => v === 2).length).toBe(0);
    expect(theirs.filter((v) => v === 1).length).toBe(
      (ph.label.data as Uint8Array).filter((v) => v === 1).length + tumor,
    );

    await api.call('dicomweb.link', { url: orthanc.dicomweb, query: { modality: 'CT' }, storeOnSubmit: true });
    events.length = 0;
    // The annotator corrects it back (the tumor restored) and submits.
    await api.upload(
      'cases.saveLabel',
      { caseId: opened.caseId, parentVersion: 1, submit: true, activeEditSeconds: 30 },
      Uint8Array.from(ph.label.data as Uint8Array),
    );
    await expect
      .poll(() => events.find((e) => e.name === 'job.done' && e.payload.kind === 'dicomweb-store')?.payload)
      .toMatchObject({ ok: true });
    const row = (await api.call('dicomweb.worklist', {})).find((r) => r.studyInstanceUid === c.studyUid)!;
    expect(row.state).toBe('stored');
    // Pulling again brings nothing: the colleague's SEG is in, ours was stored from here.
    expect(await api.call('dicomweb.pullSegs', { caseId: opened.caseId })).toEqual([]);
  });

  it('jobs.cancel stops a retrieve: no case, and the study stays remote', async () => {
    const off = api.onEvent((e) => {
      if (e.name === 'job.progress' && e.payload.jobId === 'open-b') void api.call('jobs.cancel', { jobId: 'open-b' });
    });
    try {
      const before = store.listCases().length;
      await expect(api.call('dicomweb.open', { studyInstanceUid: b.studyUid, jobId: 'open-b' })).rejects.toThrow(
        /Retrieve cancelled/,
      );
      expect(store.listCases()).toHaveLength(before);
      expect((await api.call('jobs.list', {})).find((j) => j.id === 'open-b')?.status).toBe('cancelled');
      const row = (await api.call('dicomweb.worklist', {})).find((r) => r.studyInstanceUid === b.studyUid)!;
      expect(row.state).toBe('remote');
      expect(readdirSync(join(store.dir, 'dicomweb')).filter((n) => n.startsWith('.partial-'))).toEqual([]);
    } finally {
      off();
    }
  });

  it('pre-label all retrieves the remote studies and pre-labels them', async () => {
    const r = await api.call('dicomweb.prelabelAll', { jobId: 'all' });
    expect(r.errors).toEqual([]);
    expect(r.caseIds).toHaveLength(1); // only study B was still remote
    expect(r.prelabelJobId).not.toBeNull();
    await jobManagerOf(api)!.idle();
    const versions = await api.call('cases.labelVersions', { caseId: r.caseIds[0] });
    expect(versions.map((v) => v.kind)).toEqual(['prediction']);
    const row = (await api.call('dicomweb.worklist', {})).find((x) => x.studyInstanceUid === b.studyUid)!;
    expect(row).toMatchObject({ state: 'prelabelled', caseId: r.caseIds[0] });
  });
});
