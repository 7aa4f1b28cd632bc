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
import { phantomToDicom, type PhantomSeries } from './phantom-dicom';

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
  const TOKEN = 'secret-token-for-the-pacs';

  beforeAll(async () => {
    orthanc = await startOrthanc();
    a = phantomToDicom(ph.image, { patientId: 'API-A' });
    b = phantomToDicom(ph.image, { patientId: 'API-B' });
    await uploadToOrthanc(orthanc.rest, [...a.files, ...b.files]);
    store = ProjectStore.create(join(tmp, 'project'), { schema: 'kidney' });
    api = createApiHandlers({ store });
    api.onEvent((e) => events.push(e));
  });
  afterAll(async () => {
    await jobManagerOf(api)?.idle();
    store?.close();
    await orthanc?.stop();
  });

  it('asks to link first, then keeps URL and query (not the token) in the project', async () => {
    await expect(api.call('dicomweb.worklist', {})).rejects.toThrow(/not linked to a DICOMweb server/);
    await expect(api.call('dicomweb.link', { url: 'ftp://x' })).rejects.toThrow(/'url' must be an http\(s\) URL/);
    const link = await api.call('dicomweb.link', {
      url: `${orthanc.dicomweb}/`,
      query: { modality: 'CT' },
      token: TOKEN,
    });
    expect(link).toEqual({ url: orthanc.dicomweb, query: { modality: 'CT' }, hasCredentials: true });
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
    ]);
    events.length = 0;
    const opened = await api.call('dicomweb.open', { studyInstanceUid: a.studyUid, jobId: 'open-a' });
    expect(opened.from).toBe('server');
    const progress = events.filter((e) => e.name === 'job.progress' && e.payload.jobId === 'open-a');
    expect(progress.length).toBeGreaterThanOrEqual(10);
    const fractions = progress.map((e) => (e.payload as { fraction: number }).fraction);
    expect([...fractions].sort((x, y) => x - y)).toEqual(fractions);
    expect(events.find((e) => e.name === 'job.done')?.payload).toMatchObject({ jobId: 'open-a', ok: true });
    const stateOfA = async (): Promise<string> =>
      (await api.call('dicomweb.worklist', {})).find((r) => r.studyInstanceUid === a.studyUid)!.state;
    expect(await stateOfA()).toBe('cached');
    // Opening again is local.
    expect(await api.call('dicomweb.open', { studyInstanceUid: a.studyUid })).toEqual({
      caseId: opened.caseId,
      from: 'case',
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
      const row = (await api.call('dicomweb.worklist', {})).find((r) => r.studyInstanceUid === b.studyUid)!;
      expect(row.state).toBe('remote');
      expect(readdirSync(join(store.dir, 'dicomweb')).filter((n) => n.startsWith('.partial-'))).toEqual([]);
    } finally {
      off();
    }
  });
});
