// `deformux dicomweb studies|import|store-seg` and `deformux predict dicomweb+http://…` end to end
// (the real bin, child processes) against a real Orthanc.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomwebClient } from '../../src-main/dicomweb/client';
import { readNifti } from '../../src-main/imaging/nifti';
import { generatePhantom } from '../../src-main/phantom';
import { ProjectStore } from '../../src-main/store/project';
import { writeTinyModel } from '../predict-cli/tiny-model';
import { HAS_ORTHANC, startOrthanc, uploadToOrthanc, type RunningOrthanc } from './orthanc';
import { phantomToDicom, type PhantomSeries } from './phantom-dicom';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'deformux-dicomweb-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [join(ROOT, 'bin', 'deformux.mjs'), ...args], {
      cwd: ROOT,
      timeout: 90_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(!HAS_ORTHANC)('deformux dicomweb (CLI) against Orthanc', () => {
  let orthanc: RunningOrthanc;
  let series: PhantomSeries;
  const c = generatePhantom({ seed: 3, schema: 'kidney', dims: [30, 28, 12] });
  const project = join(dir, 'project');
  let caseId = '';

  beforeAll(async () => {
    orthanc = await startOrthanc();
    series = phantomToDicom(c.image, { patientId: 'CLI-7' });
    await uploadToOrthanc(orthanc.rest, [...series.files, ...phantomToDicom(c.image, { patientId: 'CLI-8' }).files]);
    ProjectStore.create(project, { schema: 'kidney' }).close();
  });
  afterAll(async () => {
    await orthanc?.stop();
  });

  it('studies: lists studies, filters by --patient, prints JSON with --json', async () => {
    const all = await cli(['dicomweb', 'studies', orthanc.dicomweb]);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(2);
    const one = await cli(['dicomweb', 'studies', orthanc.dicomweb, '--patient', 'CLI-7', '--json']);
    expect(one.code).toBe(0);
    const parsed = JSON.parse(one.stdout) as { studyInstanceUid: string; patientId: string }[];
    expect(parsed).toEqual([expect.objectContaining({ studyInstanceUid: series.studyUid, patientId: 'CLI-7' })]);
    const bad = await cli(['dicomweb', 'studies', 'http://127.0.0.1:9/dicom-web', '--timeout', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /deformux dicomweb: http:\/\/127\.0\.0\.1:9\/dicom-web\/studies\?.*cannot reach the server \(ECONNREFUSED\)/,
    );
  });

  it('import prints the case id; store-seg prints the SEG SOPInstanceUID, which the server then holds', async () => {
    const imp = await cli(['dicomweb', 'import', orthanc.dicomweb, '--study', series.studyUid, '--project', project]);
    expect(imp.code, imp.stderr).toBe(0);
    caseId = imp.stdout.trim();
    const store = ProjectStore.open(project);
    try {
      expect(store.listCases().map((x) => x.id)).toEqual([caseId]);
      await store.addLabelVersion(caseId, { ...c.label, modality: 'SEG' }, { kind: 'edit', editor: 'ann' });
    } finally {
      store.close();
    }
    const again = await cli(['dicomweb', 'import', orthanc.dicomweb, '--study', series.studyUid, '--project', project]);
    expect(again.stdout.trim()).toBe(caseId);
    expect(again.stderr).toMatch(/already in the project/);

    const seg = await cli(['dicomweb', 'store-seg', orthanc.dicomweb, '--project', project, '--case', caseId]);
    expect(seg.code, seg.stderr).toBe(0);
    const sop = seg.stdout.trim();
    expect(sop).toMatch(/^2\.25\.\d+$/);
    const client = new DicomwebClient({ baseUrl: orthanc.dicomweb });
    const segSeries = await client.searchSeries(series.studyUid, { modality: 'SEG' });
    expect(segSeries).toHaveLength(1);
    const r = await fetch(
      `${orthanc.dicomweb}/studies/${series.studyUid}/series/${segSeries[0].seriesInstanceUid}/instances`,
    );
    const instances = (await r.json()) as Record<string, { Value: string[] }>[];
    expect(instances.map((i) => i['00080018'].Value[0])).toEqual([sop]);
  });

  it('credentials come from a --credentials file; a bad file is named and its secret never shown', async () => {
    const creds = join(dir, 'creds.json');
    writeFileSync(creds, JSON.stringify({ username: 'x', password: 'hunter2-pw' }));
    // Orthanc here has no authentication: the header is ignored and the search works.
    const ok = await cli(['dicomweb', 'studies', orthanc.dicomweb, '--credentials', creds]);
    expect(ok.code).toBe(0);
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, '{"password": "hunter2-pw"}');
    const bad = await cli(['dicomweb', 'studies', orthanc.dicomweb, '--credentials', badFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json: the credentials file needs "token", or "username" and "password"/);
    expect(bad.stderr + bad.stdout).not.toContain('hunter2');
  });

  it('predict accepts a dicomweb+http series and writes the same label as from the DICOM files on disk', async () => {
    const modelDir = await writeTinyModel(join(dir, 'models'), 'kidney');
    const local = join(dir, 'local-series');
    mkdirSync(local);
    series.files.forEach((f, n) => writeFileSync(join(local, `${n}.dcm`), f));
    const base = orthanc.dicomweb.replace(/^http/, 'dicomweb+http');
    const remote = await cli([
      'predict',
      `${base}/studies/${series.studyUid}/series/${series.seriesUid}`,
      '--model',
      modelDir,
      '--out',
      join(dir, 'remote.nii.gz'),
    ]);
    expect(remote.code, remote.stderr).toBe(0);
    const fromDisk = await cli(['predict', local, '--model', modelDir, '--out', join(dir, 'disk.nii.gz')]);
    expect(fromDisk.code, fromDisk.stderr).toBe(0);
    const [a, b] = await Promise.all([readNifti(join(dir, 'remote.nii.gz')), readNifti(join(dir, 'disk.nii.gz'))]);
    expect(a.dims).toEqual(c.image.dims);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const missing = await cli([
      'predict',
      `${base}/studies/${series.studyUid}/series/1.2.3.4`,
      '--model',
      modelDir,
      '--out',
      join(dir, 'x.nii.gz'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/has no series 1\.2\.3\.4/);
  });
});
