// Creates the demo project: synthetic phantoms (kidney or pancreas schema) as cases, with their reference labels.
import type { Vec3, Volume } from '../imaging/volume';
import { ProjectStore, isProjectDir } from '../store/project';
import type { VolumeIo } from '../store/volume-io';

export interface PhantomCase {
  image: Volume;
  label: Volume;
}

export type PhantomGenerator = (opts: {
  seed: number;
  schema: 'kidney' | 'pancreas';
  dims?: Vec3;
  spacingMm?: Vec3;
}) => PhantomCase;

export interface DemoOptions {
  cases?: number;
  /** Schema of a newly created demo (default kidney); an existing project keeps its own. */
  schema?: 'kidney' | 'pancreas';
  firstSeed?: number;
  dims?: Vec3;
  spacingMm?: Vec3;
  /** Injected for tests; the phantom module otherwise. */
  generate?: PhantomGenerator;
  io?: VolumeIo;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
}

export const DEMO_CASE_COUNT = 4;

async function loadGenerator(): Promise<PhantomGenerator> {
  // Loaded on demand: only a first start needs the generator.
  return (await import('../phantom')).generatePhantom;
}

/**
 * Opens the demo project in `dir`, creating it first when the folder holds none. Cases are added one
 * by one (each atomically), so an interrupted first start resumes with the cases still missing.
 * A folder holding a real (non-synthetic) project is opened as it is.
 */
export async function ensureDemoProject(dir: string, opts: DemoOptions = {}): Promise<ProjectStore> {
  const store = isProjectDir(dir)
    ? ProjectStore.open(dir, { io: opts.io })
    : ProjectStore.create(dir, {
        name: `Demo (synthetic ${opts.schema ?? 'kidney'} CT)`,
        schema: opts.schema ?? 'kidney',
        synthetic: true,
        io: opts.io,
      });
  try {
    // Best effort: a failed sweep leaves leftovers for next time, it never blocks opening.
    await store.sweepLeftovers().catch(() => undefined);
    // Only the synthetic demo is topped up; a real project's cases are never touched.
    const wanted = opts.cases ?? DEMO_CASE_COUNT;
    const have = store.listCases().length;
    if (!store.info().synthetic || have >= wanted) return store;
    const generate = opts.generate ?? (await loadGenerator());
    const firstSeed = opts.firstSeed ?? 1;
    for (let n = have; n < wanted; n++) {
      opts.signal?.throwIfAborted();
      const seed = firstSeed + n;
      opts.onProgress?.(n / wanted, `Generating synthetic phantom ${n + 1} of ${wanted}`);
      const schema = store.info().schema.name;
      const { image, label } = generate({ seed, schema, dims: opts.dims, spacingMm: opts.spacingMm });
      const name = `Synthetic ${schema} ${String(n + 1).padStart(2, '0')} (seed ${seed})`;
      const summary = await store.addCase(image, { name, synthetic: true });
      await store.addLabelVersion(summary.id, label, { kind: 'reference', editor: 'synthetic phantom truth' });
    }
    opts.onProgress?.(1, `Demo project ready: ${wanted} synthetic cases`);
    return store;
  } catch (err) {
    store.close();
    throw err;
  }
}
