// Switching projects through the API: create either schema, open, recent projects, events follow.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../../src-main/api/contract';
import { ProjectHost } from '../../../src-main/api/project-host';
import { ProjectStore } from '../../../src-main/store/project';
import { makeVolume, huPattern, tempDir } from '../helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function setup() {
  const t = tempDir('host');
  const first = ProjectStore.create(join(t.dir, 'kidney'), { schema: 'kidney', name: 'Kidney work' });
  const recentFile = join(t.dir, 'config', 'recent.json');
  const host = new ProjectHost(first, { recentFile });
  cleanups.push(t.cleanup);
  cleanups.push(() => host.close());
  const events: ApiEvent[] = [];
  host.handlers.onEvent((e) => events.push(e));
  return { host, dir: t.dir, recentFile, events, api: host.handlers };
}

describe('ProjectHost', () => {
  it('creates a pancreas project, switches to it, and lists both as recent', async () => {
    const { api, dir, events, recentFile } = setup();
    const info = await api.call('projects.create', { dir: join(dir, 'pancreas'), schema: 'pancreas', name: 'Panc' });
    expect(info).toMatchObject({ name: 'Panc', schema: { name: 'pancreas' }, caseCount: 0 });
    expect((await api.call('project.info', {})).schema.name).toBe('pancreas');
    expect(events.filter((e) => e.name === 'project.changed')).toEqual([
      { name: 'project.changed', payload: { dir: join(dir, 'pancreas') } },
    ]);
    const recent = await api.call('projects.recent', {});
    expect(recent.map((r) => [r.name, r.schema])).toEqual([
      ['Panc', 'pancreas'],
      ['Kidney work', 'kidney'],
    ]);
    expect(JSON.parse(readFileSync(recentFile, 'utf8'))).toHaveLength(2);

    // Back to the kidney project: its cases, and events of the new project reach the old listeners.
    await api.call('projects.open', { dir: join(dir, 'kidney') });
    expect((await api.call('project.info', {})).name).toBe('Kidney work');
    const store = ProjectStore.open(join(dir, 'pancreas'));
    await store.addCase(makeVolume([4, 4, 2], huPattern), { name: 'p1' });
    store.close();
    api.emit({ name: 'cases.changed', payload: { caseIds: ['x'] } });
    expect(events.at(-1)).toEqual({ name: 'cases.changed', payload: { caseIds: ['x'] } });
    expect((await api.call('projects.recent', {}))[0].name).toBe('Kidney work');
    await api.call('projects.open', { dir: join(dir, 'pancreas') });
    expect((await api.call('cases.list', {})).map((c) => c.name)).toEqual(['p1']);
  });

  it('refuses folders that cannot be opened or created, keeping the current project', async () => {
    const { api, dir } = setup();
    const busy = join(dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'x');
    await expect(api.call('projects.create', { dir: busy, schema: 'kidney' })).rejects.toThrow(
      `${busy}: is not empty; give a new or empty folder for a new project.`,
    );
    await expect(api.call('projects.create', { dir: join(dir, 'kidney'), schema: 'kidney' })).rejects.toThrow(
      /already holds a project; open it instead/,
    );
    await expect(api.call('projects.open', { dir: busy })).rejects.toThrow(`${busy}: holds no DeformUX project`);
    await expect(api.call('projects.open', { dir: join(dir, 'nothing') })).rejects.toThrow(/does not exist/);
    await expect(api.call('projects.open', { dir: 'relative/path' })).rejects.toThrow(
      /'dir' must be an absolute folder path/,
    );
    await expect(api.call('projects.create', { dir: join(dir, 'x'), schema: 'liver' as never })).rejects.toThrow(
      /'schema' must be 'kidney' or 'pancreas'/,
    );
    expect((await api.call('project.info', {})).name).toBe('Kidney work');
  });

  it('drops recent entries whose folder is gone, and survives a broken recent file', async () => {
    const { api, dir, recentFile, host } = setup();
    await host.settled(); // the opening project's own entry is written first
    writeFileSync(recentFile, '{not json');
    expect(await api.call('projects.recent', {})).toEqual([]);
    writeFileSync(
      recentFile,
      JSON.stringify([{ dir: join(dir, 'gone'), name: 'Gone', schema: 'kidney', openedAt: '2026-01-01T00:00:00Z' }]),
    );
    expect(await api.call('projects.recent', {})).toEqual([]);
  });
});

describe('system.pickPaths', () => {
  it("answers with the shell's dialog, across project switches; without one it says to upload", async () => {
    const t = tempDir('pick');
    cleanups.push(t.cleanup);
    const store = ProjectStore.create(join(t.dir, 'k'), { schema: 'kidney' });
    const asked: string[] = [];
    const host = new ProjectHost(store, {
      recentFile: join(t.dir, 'recent.json'),
      pickPaths: async (kind) => {
        asked.push(kind);
        return kind === 'files' ? ['/scans/a.nii.gz', '/scans/b.nii.gz'] : [];
      },
    });
    cleanups.push(() => host.close());
    expect(await host.handlers.call('system.pickPaths', { kind: 'files' })).toEqual({
      paths: ['/scans/a.nii.gz', '/scans/b.nii.gz'],
    });
    await host.handlers.call('projects.create', { dir: join(t.dir, 'p'), schema: 'pancreas' });
    expect(await host.handlers.call('system.pickPaths', { kind: 'folder' })).toEqual({ paths: [] });
    expect(asked).toEqual(['files', 'folder']);
    await expect(host.handlers.call('system.pickPaths', { kind: 'disk' })).rejects.toThrow(
      "system.pickPaths: 'kind' must be 'files' or 'folder'.",
    );

    const { api } = setup();
    await expect(api.call('system.pickPaths', { kind: 'files' })).rejects.toThrow(/no file dialog; pick or drop/);
  });
});
