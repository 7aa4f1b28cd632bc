// Team models: a fine-tuned model leaves the machine as one signed file without patient identifiers
// (case references become opaque hashes; names, IDs, UIDs, dates, paths removed), and comes into
// another project only when its signature and every file's SHA-256 check out.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../src-main/export/dicom/uid';
import { generatePhantom } from '../../src-main/phantom';
import { registerModel } from '../../src-main/store/model-rows';
import { ProjectStore } from '../../src-main/store/project';
import { exportModelFile, importModelFile, readModelFile } from '../../src-main/team/model-file';
import { writeTinyModel } from '../predict-cli/tiny-model';

const tmp = mkdtempSync(join(tmpdir(), 'deformux-team-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PATIENT = { name: 'Doe^Jane', id: 'PID-778899', accession: 'ACC-556677', birth: '19610423' };
const studyUid = newUid();
const seriesUid = newUid();

describe('shared model files', () => {
  let store: ProjectStore;
  let caseId = '';
  let modelId = '';
  const file = join(tmp, 'kidney-v2.dfxmodel');

  beforeAll(async () => {
    store = ProjectStore.create(join(tmp, 'home-ann', 'project-a'), { schema: 'kidney' });
    const ph = generatePhantom({ seed: 1, schema: 'kidney', dims: [16, 16, 8] });
    const c = await store.addCase(ph.image, {
      name: 'Doe Jane abdomen',
      dicomSource: {
        studyInstanceUid: studyUid,
        seriesInstanceUid: seriesUid,
        frameOfReferenceUid: newUid(),
        patientName: PATIENT.name,
        patientId: PATIENT.id,
        patientBirthDate: PATIENT.birth,
        accessionNumber: PATIENT.accession,
        studyDate: '20260101',
        instances: [],
      },
    });
    caseId = c.id;
    // A fine-tuned model folder whose description carries what a real fine-tune writes into it.
    const base = await writeTinyModel(join(store.dir, 'models'), 'kidney', 'kidney-v1');
    const dir = await writeTinyModel(join(store.dir, 'models'), 'kidney', 'kidney-v2');
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    meta.training = [
      {
        at: '2026-12-05T10:11:12.000Z',
        steps: 40,
        data: `fine-tune on 1 submitted case(s): ${caseId}`,
        base: 'kidney-v1',
      },
    ];
    meta.provenance = `fine-tuned from kidney-v1 on ${store.dir}/cases and ${PATIENT.name} study ${studyUid}`;
    meta.finetune = {
      parent: { id: 'kidney-v1', dir: base },
      cases: [caseId],
      holdoutCases: [],
      at: '2026-12-05T10:11:12Z',
    };
    meta.metrics = { holdout_dice: 0.81 };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(meta));
    registerModel(store, {
      id: 'kidney:kidney-v1@0',
      schema: 'kidney',
      folder: base,
      status: 'active',
      metrics: { holdoutDice: 0.7 },
    });
    modelId = registerModel(store, {
      id: 'kidney:kidney-v2@40',
      schema: 'kidney',
      folder: dir,
      parentId: 'kidney:kidney-v1@0',
      metrics: { holdoutDice: 0.81, steps: 40 },
      training: {
        trainCaseIds: [caseId],
        holdoutPerCase: [{ id: caseId, dice: 0.8 }],
        patientRef: `${PATIENT.id} ${PATIENT.accession}`,
      },
    }).id;
  });
  afterAll(() => store?.close());

  it('the exported file carries no names, IDs, UIDs, dates or paths; case references are opaque hashes', async () => {
    const manifest = await exportModelFile(store, modelId, file, { label: 'Ann (kidney team)' });
    const text = readFileSync(file).toString('latin1');
    for (const secret of [
      caseId,
      'Doe',
      'Jane',
      PATIENT.id,
      PATIENT.accession,
      PATIENT.birth,
      studyUid,
      seriesUid,
      '20260101',
      '2026-12-05',
      store.dir,
      'home-ann',
      tmp,
    ])
      expect(text, `the model file must not contain '${secret}'`).not.toContain(secret);
    // The same case is the same opaque reference in the manifest's training record and in model.json.
    const training = manifest.model.training as { trainCaseIds: string[]; holdoutPerCase: { id: string }[] };
    expect(training.trainCaseIds[0]).toMatch(/^case-[0-9a-f]{12}$/);
    expect(training.holdoutPerCase[0].id).toBe(training.trainCaseIds[0]);
    const { blobs } = await readModelFile(file);
    const modelJson = JSON.parse(blobs.get('model.json')!.toString('utf8')) as {
      finetune: { cases: string[] };
      metrics: object;
    };
    expect(modelJson.finetune.cases).toEqual(training.trainCaseIds);
    expect(modelJson.metrics).toEqual({ holdout_dice: 0.81 });
    expect(manifest.parents).toEqual([{ id: 'kidney:kidney-v1@0', version: 1, metrics: { holdoutDice: 0.7 } }]);
    expect(manifest.files.map((f) => f.name)).toEqual(['config.json', 'model.json', 'weights.safetensors']);
  });

  it('imports into another project with every file checked; the model list says where it came from', async () => {
    const other = ProjectStore.create(join(tmp, 'project-b'), { schema: 'kidney' });
    try {
      const info = await importModelFile(other, file);
      expect(info.status).toBe('candidate');
      expect(info.note).toMatch(/^shared by Ann \(kidney team\) \(key [0-9a-f]{16}\) from kidney-v2\.dfxmodel$/);
      expect(info.metrics).toEqual({ holdoutDice: 0.81, steps: 40 });
      const digest = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
      expect(digest(join(info.folder, 'weights.safetensors'))).toBe(
        digest(join(store.dir, 'models', 'kidney-v2', 'weights.safetensors')),
      );
      // Importing the same file again registers nothing new.
      expect((await importModelFile(other, file)).id).toBe(info.id);
    } finally {
      other.close();
    }
  });

  it('a changed byte anywhere, a truncated file or another schema is refused with the reason', async () => {
    const data = readFileSync(file);
    const other = ProjectStore.create(join(tmp, 'project-c'), { schema: 'kidney' });
    try {
      const bad = join(tmp, 'bad.dfxmodel');
      const weightsByte = Buffer.from(data);
      weightsByte[weightsByte.length - 100] ^= 1;
      writeFileSync(bad, weightsByte);
      await expect(importModelFile(other, bad)).rejects.toThrow(
        /bad\.dfxmodel: weights\.safetensors does not match its SHA-256/,
      );
      const manifestByte = Buffer.from(data);
      const at = manifestByte.indexOf('"holdoutDice":0.81');
      manifestByte.write('"holdoutDice":0.99', at, 'latin1');
      writeFileSync(bad, manifestByte);
      await expect(importModelFile(other, bad)).rejects.toThrow(
        /bad\.dfxmodel: the signature does not match its manifest/,
      );
      writeFileSync(bad, data.subarray(0, data.length - 10));
      await expect(importModelFile(other, bad)).rejects.toThrow(
        /bad\.dfxmodel: is truncated \(in the weights\.safetensors\)/,
      );
      writeFileSync(bad, 'hello');
      await expect(importModelFile(other, bad)).rejects.toThrow(/is not a DeformUX shared model file/);
      expect(other.database.prepare('SELECT COUNT(*) AS n FROM models').get()).toEqual({ n: 0 });
      const pancreas = ProjectStore.create(join(tmp, 'project-p'), { schema: 'pancreas' });
      await expect(importModelFile(pancreas, file)).rejects.toThrow(
        /holds a kidney model; this project's schema is pancreas/,
      );
      pancreas.close();
    } finally {
      other.close();
    }
  });

  it('deformux model export / import do the same from the command line', async () => {
    const exec = promisify(execFile);
    const bin = join(__dirname, '..', '..', 'bin', 'deformux.mjs');
    const out = join(tmp, 'cli.dfxmodel');
    const e = await exec(process.execPath, [
      bin,
      'model',
      'export',
      '--project',
      store.dir,
      '--model',
      modelId,
      '--out',
      out,
      '--label',
      'ann',
    ]);
    expect(e.stdout.trim()).toBe(out);
    const target = ProjectStore.create(join(tmp, 'project-cli'), { schema: 'kidney' });
    target.close();
    const i = await exec(process.execPath, [bin, 'model', 'import', out, '--project', join(tmp, 'project-cli')]);
    expect(i.stdout.trim()).toMatch(/^kidney:kidney-shared-[0-9a-f]{8}-[0-9a-f]{8}@40$/);
    expect(i.stderr).toMatch(/shared by ann/);
  });
});
