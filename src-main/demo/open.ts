// Opens the project a shell was given, creating the demo there when the folder is missing or empty.
import { existsSync, readdirSync } from 'node:fs';
import type { Vec3 } from '../imaging/volume';
import { StoreRequestError } from '../store/errors';
import { ProjectStore, isProjectDir } from '../store/project';
import { ensureDemoProject } from './create';

export interface OpenProjectOptions {
  /** Cases in a newly created demo (0 = an empty kidney project instead). */
  demoCases?: number;
  /** Schema of a newly created project; an existing project of another schema is refused. */
  schema?: 'kidney' | 'pancreas';
  demoDims?: Vec3;
  demoSpacingMm?: Vec3;
  onProgress?: (fraction: number, message: string) => void;
}

export async function openProjectOrDemo(dir: string, opts: OpenProjectOptions = {}): Promise<ProjectStore> {
  if (!isProjectDir(dir) && existsSync(dir) && readdirSync(dir).length > 0) {
    throw new StoreRequestError(
      `${dir}: is not a DeformUX project and not empty; give an empty folder or a project folder.`,
    );
  }
  if (!isProjectDir(dir) && opts.demoCases === 0) return ProjectStore.create(dir, { schema: opts.schema ?? 'kidney' });
  // ensureDemoProject opens real projects as they are and finishes an interrupted demo.
  const store = await ensureDemoProject(dir, {
    schema: opts.schema,
    cases: opts.demoCases,
    dims: opts.demoDims,
    spacingMm: opts.demoSpacingMm,
    onProgress: opts.onProgress,
  });
  const has = store.info().schema.name;
  if (opts.schema && has !== opts.schema) {
    store.close();
    throw new StoreRequestError(
      `${dir}: is a ${has} project; --schema ${opts.schema} chooses the schema of a new project only (give an empty folder).`,
    );
  }
  return store;
}
