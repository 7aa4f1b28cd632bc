// Demo project: synthetic kidney phantoms as cases with reference labels; resumes; leaves real projects alone.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDemoProject } from '../../../src-main/demo/create';
import type { PhantomGenerator } from '../../../src-main/demo/create';
import { openProjectOrDemo } from '../../../src-main/demo/open';
import { generatePhantom } from '../../../src-main/phantom';
import { ProjectStore } from '../../../src-main/store/project';
import { tempDir } from '../helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

const SMALL: [number, number, number] = [48, 48, 24];
// Coarse voxels so the small grid still covers a whole abdomen (and both kidneys).
const COARSE_MM: [number, number, number] = [8, 8, 13];

describe('demo project', () => {
  it('creates synthetic kidney cases with their phantom truth as reference label version 1', async () => {
    const t = tempDir('demo');
    cleanups.push(t.cleanup);
    const progress: string[] = [];
    const store = await ensureDemoProject(join(t.dir, 'demo'), {
      cases: 2,
      dims: SMALL,
      spacingMm: COARSE_MM,
      onProgress: (_f, m) => progress.push(m),
    });
    cleanups.push(() => store.close());
    expect(store.info()).toMatchObject({ synthetic: true, caseCount: 2, schema: { name: 'kidney' } });
    const cases = store.listCases();
    expect(cases.map((c) => [c.synthetic, c.status, c.dims])).toEqual([
      [true, 'new', SMALL],
      [true, 'new', SMALL],
    ]);
    expect(progress.at(-1)).toMatch(/2 synthetic cases/);
    // The stored image and label are the generator's output for that seed, voxel for voxel.
    const expected = generatePhantom({ seed: 2, schema: 'kidney', dims: SMALL, spacingMm: COARSE_MM });
    const image = await store.loadImage(cases[1].id);
    expect(Array.from(image.data)).toEqual(Array.from(expected.image.data));
    expect(store.listLabelVersions(cases[1].id).map((v) => [v.version, v.kind])).toEqual([[1, 'reference']]);
    const label = await store.loadLabel(cases[1].id, 1);
    expect(Array.from(label.data)).toEqual(Array.from(expected.label.data));
    expect(new Set(label.data).has(1)).toBe(true);
  });

  it('finishes an interrupted first start without duplicating cases', async () => {
    const t = tempDir('demo-resume');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'demo');
    let calls = 0;
    const flaky: PhantomGenerator = (opts) => {
      calls++;
      if (calls === 2) throw new Error('power cut');
      return generatePhantom({ ...opts, dims: SMALL, spacingMm: COARSE_MM });
    };
    await expect(ensureDemoProject(dir, { cases: 3, generate: flaky })).rejects.toThrow('power cut');
    const store = await ensureDemoProject(dir, { cases: 3, generate: flaky });
    cleanups.push(() => store.close());
    expect(store.listCases().map((c) => c.name)).toEqual([
      'Synthetic kidney 01 (seed 1)',
      'Synthetic kidney 02 (seed 2)',
      'Synthetic kidney 03 (seed 3)',
    ]);
  });

  it('opens a real project as it is, and refuses a non-empty folder that is no project', async () => {
    const t = tempDir('demo-real');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'real');
    ProjectStore.create(dir, { schema: 'pancreas' }).close();
    const store = await openProjectOrDemo(dir, { demoCases: 2 });
    cleanups.push(() => store.close());
    expect(store.info()).toMatchObject({ synthetic: false, caseCount: 0, schema: { name: 'pancreas' } });
    await expect(openProjectOrDemo(join(t.dir, 'real', 'cases', '..'), {})).resolves.toBeInstanceOf(ProjectStore);
    await expect(openProjectOrDemo(join(import.meta.dirname), {})).rejects.toThrow(
      /is not a DeformUX project and not empty/,
    );
  });
});
