// Import and nnU-Net export as jobs through the API handlers (real store): a jobs row with progress, cancel
// through jobs.cancel that keeps only whole cases / writes no partial dataset, and interrupted on restart.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent, JobInfo, SaveLabelRequest } from '../../../src-main/api/contract';
import { apiErrorOf } from '../../../src-main/api/errors';
import { createApiHandlers, type ApiHandlers } from '../../../src-main/api/handlers';
import { readNifti, writeNifti } from '../../../src-main/imaging/nifti';
import { ImportCancelledError, importPaths } from '../../../src-main/store/import';
import { ProjectStore } from '../../../src-main/store/project';
import type { VolumeIo } from '../../../src-main/store/volume-io';
import { huPattern, makeVolume, tempDir } from '../helpers';

const DIMS: [number, number, number] = [6, 5, 4];
const N = DIMS[0] * DIMS[1] * DIMS[2];

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A promise the test opens by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The NIfTI reader and writer, with hooks a test can hold a read or a write in. */
function hookedIo(hooks: { read?: (path: string) => Promise<void>; write?: (path: string) => Promise<void> }): {
  io: VolumeIo;
  reads: string[];
  writes: string[];
} {
  const reads: string[] = [];
  const writes: string[] = [];
  const io: VolumeIo = {
    read: async (path) => {
      reads.push(path);
      await hooks.read?.(path);
      return readNifti(path);
    },
    listSeries: async () => [],
    write: async (path, volume) => {
      writes.push(path);
      await hooks.write?.(path);
      await writeNifti(path, volume);
    },
  };
  return { io, reads, writes };
}

async function setup(io?: VolumeIo) {
  const t = tempDir('filejobs');
  const store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'kidney', name: 'File jobs', io });
  const handlers: ApiHandlers[] = [];
  const open = (): ApiHandlers => {
    const api = createApiHandlers({ store });
    handlers.push(api);
    return api;
  };
  const api = open();
  const events: ApiEvent[] = [];
  api.onEvent((e) => events.push(e));
  cleanups.push(() => {
    store.close();
    t.cleanup();
  });
  return { store, api, events, dir: t.dir, reopen: open };
}

/** `n` NIfTI files with different voxels (so none is refused as a duplicate). */
async function scans(dir: string, n: number): Promise<string[]> {
  const paths: string[] = [];
  for (let s = 0; s < n; s++) {
    const path = join(dir, `scan_${s}.nii.gz`);
    await writeNifti(
      path,
      makeVolume(DIMS, (i, j, k) => huPattern(i, j, k) + s),
    );
    paths.push(path);
  }
  return paths;
}

async function jobRow(api: ApiHandlers, jobId: string): Promise<JobInfo | undefined> {
  return (await api.call('jobs.list', {})).find((j) => j.id === jobId);
}

/** Resolves once `check` holds (polled; the jobs run on the same event loop). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let n = 0; n < 500; n++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Case folders under cases/ and leftover temp files anywhere below it. */
function caseFolders(store: ProjectStore): { folders: string[]; temps: string[] } {
  const root = join(store.dir, 'cases');
  const folders = readdirSync(root).sort();
  const temps = readdirSync(root, { recursive: true }).filter((p) => String(p).endsWith('.tmp'));
  return { folders, temps: temps.map(String) };
}

function jobIdOf(events: ApiEvent[], kind: string): string | undefined {
  for (const e of events) if (e.name === 'job.progress' && e.payload.kind === kind) return e.payload.jobId;
  return undefined;
}

describe('import as a job', () => {
  it('records an import of several files as a jobs row that ends done, with its progress and params', async () => {
    const { api, events, dir } = await setup();
    const paths = await scans(dir, 3);
    const result = await api.call('cases.import', { paths });
    expect(result.imported.map((c) => c.name)).toEqual(['scan_0', 'scan_1', 'scan_2']);
    const jobId = jobIdOf(events, 'import')!;
    expect(jobId).toBeTruthy();
    const job = (await jobRow(api, jobId))!;
    expect(job).toMatchObject({ kind: 'import', status: 'done', fraction: 1, params: { paths } });
    expect(job.message).toBe('Imported 3 case(s).');
    expect(job.result).toEqual({ imported: result.imported.map((c) => c.id), errors: [], choices: [] });
    const mine = events.filter((e) => 'jobId' in e.payload && e.payload.jobId === jobId);
    expect(mine.at(-1)).toEqual({
      name: 'job.done',
      payload: { jobId, kind: 'import', ok: true, message: 'Imported 3 case(s).' },
    });
    expect(mine.filter((e) => e.name === 'job.progress').length).toBeGreaterThanOrEqual(2);
  });

  it('cancelled while a case is written, keeps that case whole and imports nothing after it', async () => {
    const held = gate();
    const reached = gate();
    let imageWrites = 0;
    const { io, reads } = hookedIo({
      write: async () => {
        if (++imageWrites !== 2) return;
        reached.open();
        await held.promise;
      },
    });
    const { store, api, events, dir } = await setup(io);
    const paths = await scans(dir, 3);
    const call = api.call('cases.import', { paths });
    await reached.promise; // the second case's image is being written
    const jobId = jobIdOf(events, 'import')!;
    expect((await api.call('jobs.cancel', { jobId })).status).toBe('running');
    held.open();
    const result = await call;

    expect(result.imported.map((c) => c.name)).toEqual(['scan_0', 'scan_1']);
    expect(result.errors).toEqual([
      'Import cancelled: 2 case(s) imported before the cancel are kept; 1 input(s) were not imported.',
    ]);
    expect(reads).toEqual(paths.slice(0, 2)); // the third file was never read
    const job = (await jobRow(api, jobId))!;
    expect(job.status).toBe('cancelled');
    expect(job.message).toMatch(/^Import cancelled: 2 case\(s\)/);
    expect(job.result).toMatchObject({ imported: result.imported.map((c) => c.id) });
    expect(events.find((e) => e.name === 'job.done')?.payload).toMatchObject({ jobId, ok: false });
    // Every case folder is a listed case with its image; nothing half-written is left.
    const ids = store.listCases().map((c) => c.id);
    expect(ids.sort()).toEqual(result.imported.map((c) => c.id).sort());
    const { folders, temps } = caseFolders(store);
    expect(folders).toEqual([...ids].sort());
    for (const id of ids) expect(readdirSync(join(store.dir, 'cases', id))).toContain('image.nii.gz');
    expect(temps).toEqual([]);
    expect(events.at(-1)).toEqual({ name: 'cases.changed', payload: { caseIds: result.imported.map((c) => c.id) } });
  });

  it('importPaths stopped by its signal part-way reports the whole cases it kept', async () => {
    const { store, dir } = await setup();
    const paths = await scans(dir, 3);
    const controller = new AbortController();
    const run = importPaths(
      store,
      { paths },
      {
        signal: controller.signal,
        onProgress: (fraction) => {
          if (fraction > 0) controller.abort(); // while reading the second file
        },
      },
    );
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImportCancelledError);
    const { result, notImported } = err as ImportCancelledError;
    expect(result.imported.map((c) => c.name)).toEqual(['scan_0']);
    expect(notImported).toBe(2);
    expect(store.listCases().map((c) => c.id)).toEqual([result.imported[0].id]);
    expect(caseFolders(store)).toEqual({ folders: [result.imported[0].id], temps: [] });
  });
});

describe('nnU-Net export as a job', () => {
  const labelReq = (caseId: string): SaveLabelRequest => ({
    caseId,
    parentVersion: null,
    submit: true,
    activeEditSeconds: 0,
  });

  async function submittedProject(cases: number) {
    const p = await setup();
    const ids: string[] = [];
    for (let c = 0; c < cases; c++) {
      const { id } = await p.store.addCase(
        makeVolume(DIMS, (i, j, k) => huPattern(i, j, k) + c),
        { name: `case${c}` },
      );
      await p.api.upload(
        'cases.saveLabel',
        labelReq(id),
        Uint8Array.from({ length: N }, (_, n) => (n + c) % 3),
      );
      ids.push(id);
    }
    return { ...p, ids };
  }

  it('answers "nothing submitted" at once, without a job', async () => {
    const { api } = await setup();
    const err = await api.call('project.exportNnunet', {}).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/no submitted cases to export/);
    expect(apiErrorOf(err).status).toBe(400);
    expect(await api.call('jobs.list', {})).toEqual([]);
  });

  it('cancelled mid-way, leaves neither the dataset nor its partial folder, and says so', async () => {
    const { store, api, events, ids } = await submittedProject(3);
    const exportsDir = join(store.dir, 'exports');
    const held = gate();
    const reached = gate();
    const load = store.loadImage.bind(store);
    store.loadImage = async (caseId) => {
      if (caseId === ids[1]) {
        reached.open();
        await held.promise;
      }
      return load(caseId);
    };
    const call = api.call('project.exportNnunet', {});
    const outcome = call.then(
      () => null,
      (e: unknown) => e,
    );
    await reached.promise;
    // The first case is already written, in the temp folder beside the target.
    const partial = readdirSync(exportsDir);
    expect(partial).toHaveLength(1);
    expect(partial[0]).toMatch(/^\.Dataset501_File_jobs\..*\.tmp$/);
    expect(readdirSync(join(exportsDir, partial[0], 'labelsTr'))).toEqual([`${ids[0]}.nii.gz`]);

    const jobId = jobIdOf(events, 'export-nnunet')!;
    const before = (await jobRow(api, jobId))!;
    expect(before).toMatchObject({ kind: 'export-nnunet', status: 'running' });
    expect(before.params).toMatchObject({ outDir: exportsDir, datasetDir: join(exportsDir, 'Dataset501_File_jobs') });
    await api.call('jobs.cancel', { jobId });
    held.open();
    const err = await outcome;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/export cancelled: nothing was written/);
    expect(apiErrorOf(err).status).toBe(409);
    expect(readdirSync(exportsDir)).toEqual([]);
    const job = (await jobRow(api, jobId))!;
    expect(job.status).toBe('cancelled');
    expect(job.message).toMatch(/partial dataset folder was removed/);
    expect(events.find((e) => e.name === 'job.done')?.payload).toMatchObject({ jobId, ok: false });

    // Not cancelled, the same export runs to the end as a 'done' row.
    store.loadImage = load;
    const res = await api.call('project.exportNnunet', {});
    expect(res).toEqual({ path: join(exportsDir, 'Dataset501_File_jobs'), cases: 3 });
    expect(readdirSync(exportsDir)).toEqual(['Dataset501_File_jobs']);
    const done = (await api.call('jobs.list', {})).find((j) => j.kind === 'export-nnunet' && j.id !== jobId)!;
    expect(done).toMatchObject({ status: 'done', fraction: 1, result: res });
  });
});

describe('file jobs after a restart', () => {
  it('marks an import and an export left running as interrupted when the project opens again', async () => {
    const held = gate();
    const reading = gate();
    const { io } = hookedIo({
      read: async (path) => {
        if (!path.includes('scan_')) return;
        reading.open();
        await held.promise;
      },
    });
    const p = await setup(io);
    const paths = await scans(p.dir, 2);
    const c = await p.store.addCase(makeVolume(DIMS, huPattern), { name: 'submitted' });
    await p.api.upload(
      'cases.saveLabel',
      { caseId: c.id, parentVersion: null, submit: true, activeEditSeconds: 0 },
      new Uint8Array(N),
    );
    const load = p.store.loadImage.bind(p.store);
    p.store.loadImage = async (caseId) => {
      await held.promise;
      return load(caseId);
    };
    const importing = p.api.call('cases.import', { paths });
    const exporting = p.api.call('project.exportNnunet', {}).catch(() => null);
    cleanups.push(async () => {
      held.open();
      await Promise.all([importing, exporting]);
    });
    await reading.promise;
    await until(() => !!jobIdOf(p.events, 'export-nnunet'), 'the export to start');
    const importId = jobIdOf(p.events, 'import')!;
    const exportId = jobIdOf(p.events, 'export-nnunet')!;
    expect((await jobRow(p.api, importId))!.status).toBe('running');
    expect((await jobRow(p.api, exportId))!.status).toBe('running');

    // The app closed mid-way (crash): the next app start opens the project with these rows still 'running'.
    const restarted = p.reopen();
    for (const id of [importId, exportId]) {
      const job = (await jobRow(restarted, id))!;
      expect(job.status).toBe('failed');
      expect(job.message).toMatch(/^interrupted: the app closed while this job ran/);
    }
  });
});
