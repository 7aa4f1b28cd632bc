// Crash safety of label saves: a child process saving versions in a loop is SIGKILLed at random
// moments; afterwards the database opens, passes integrity_check, and every version it holds (in
// particular the last committed one) loads intact, matching both the recomputed voxels and its checksum.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../../src-main/store/project';
import { huPattern, makeVolume, tempDir } from '../helpers';
import { expectedLabel } from './fixtures/crash-label';

const REPO = resolve(import.meta.dirname, '../../..');
const CHILD = join(import.meta.dirname, 'fixtures/save-loop.ts');
const KILLS = 4;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Runs the saver until it has committed at least one version, then kills it after `delayMs` more. */
function runAndKill(dir: string, caseId: string, delayMs: number): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, caseId], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastCommitted = 0;
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      for (const m of text.matchAll(/committed (\d+)/g)) lastCommitted = Math.max(lastCommitted, Number(m[1]));
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d) => (stderr += String(d)));
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL' || lastCommitted === 0)
        fail(new Error(`saver ended unexpectedly (${signal}): ${stderr}`));
      else done(lastCommitted);
    });
  });
}

describe('label saves survive SIGKILL', () => {
  it('keeps the database consistent and the last committed version intact', async () => {
    const t = tempDir('crash');
    cleanups.push(t.cleanup);
    const projectDir = join(t.dir, 'proj');
    const dims: [number, number, number] = [48, 40, 12];
    const setup = ProjectStore.create(projectDir, { schema: 'kidney' });
    const c = await setup.addCase(makeVolume(dims, huPattern));
    setup.close();

    // Deterministic "random" kill delays spread over a few save durations.
    const delaysMs = [37, 211, 5, 123, 301, 77].slice(0, KILLS);
    let reported = 0;
    for (const delayMs of delaysMs) {
      reported = Math.max(reported, await runAndKill(projectDir, c.id, delayMs));

      const db = new Database(join(projectDir, 'project.sqlite'));
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      const files = db.prepare('SELECT label_file FROM label_versions').all() as { label_file: string }[];
      db.close();
      for (const f of files) expect(existsSync(join(projectDir, f.label_file)), f.label_file).toBe(true);

      const store = ProjectStore.open(projectDir);
      try {
        const versions = store.listLabelVersions(c.id);
        // Durability: every save the child saw return is in the database (FULL sync, WAL).
        expect(versions.at(-1)!.version).toBeGreaterThanOrEqual(reported);
        // Versions are gap-free: a killed save leaves no row, or a whole one.
        expect(versions.map((v) => v.version)).toEqual(versions.map((_, n) => n + 1));
        const last = versions.at(-1)!;
        const loaded = await store.loadLabel(c.id, last.version);
        const expected = expectedLabel(dims, last.version);
        const bytes = Uint8Array.from(loaded.data);
        expect(bytes.length).toBe(expected.length);
        expect(Buffer.compare(Buffer.from(bytes), Buffer.from(expected))).toBe(0);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(last.voxelsSha256);
        // Every row's file exists and holds what was saved as that version.
        for (const v of versions) {
          const data = Uint8Array.from((await store.loadLabel(c.id, v.version)).data);
          expect(createHash('sha256').update(data).digest('hex')).toBe(v.voxelsSha256);
          expect(v.voxelsSha256).toBe(createHash('sha256').update(expectedLabel(dims, v.version)).digest('hex'));
        }
      } finally {
        store.close();
      }
    }
    expect(reported).toBeGreaterThan(0);

    // Clean-up of what the kills left (temp files, label files whose row never committed), as at start-up
    // once they are old: afterwards labels/ holds exactly the files the rows name, all loadable.
    const store = ProjectStore.open(projectDir);
    try {
      await store.sweepLeftovers(Date.now() + 24 * 3600 * 1000);
      const labelDir = join(projectDir, 'cases', c.id, 'labels');
      const db = new Database(join(projectDir, 'project.sqlite'), { readonly: true });
      const named = (db.prepare('SELECT label_file FROM label_versions').all() as { label_file: string }[]).map((r) =>
        basename(r.label_file),
      );
      db.close();
      expect(readdirSync(labelDir).sort()).toEqual(named.sort());
      const last = store.listLabelVersions(c.id).at(-1)!;
      expect(Array.from((await store.loadLabel(c.id, last.version)).data)).toEqual(
        Array.from(expectedLabel(dims, last.version)),
      );
    } finally {
      store.close();
    }
  }, 120_000);
});
