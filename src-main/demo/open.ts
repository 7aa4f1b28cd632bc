// Opens the project a shell was given, creating the demo there when the folder is missing or empty.
import { existsSync, readdirSync } from 'node:fs';
import type { Vec3 } from '../imaging/volume';
import { StoreRequestError } from '../store/errors';
import { ProjectStore, isProjectDir } from '../store/project';
import { ensureDemoProject } from './create';

export interface OpenProjectOptions {
  /** Cases in a newly created demo (0 = an empty kidney project instead). */
  demoCases?: number;
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
  if (!isProjectDir(dir) && opts.demoCases === 0) return ProjectStore.create(dir, { schema: 'kidney' });
  // ensureDemoProject opens real projects as they are and finishes an interrupted demo.
  return ensureDemoProject(dir, {
    cases: opts.demoCases,
    dims: opts.demoDims,
    spacingMm: opts.demoSpacingMm,
    onProgress: opts.onProgress,
  });
}
