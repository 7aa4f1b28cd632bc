// Finds the model folder a pre-label uses: an explicit folder, or the starter resources/models/<schema>-lite (no engine imports: keeps tfjs out of the main process).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../imaging/volume';
import type { SchemaName } from '../domain/label-schemas';

/** The folder holding the shipped starter models (DEFORMUX_MODELS_DIR overrides, e.g. in tests or a packaged app). */
export function starterModelsDir(): string {
  if (process.env.DEFORMUX_MODELS_DIR) return resolve(process.env.DEFORMUX_MODELS_DIR);
  // From src-main/jobs/ (tsx) or out/main/ (bundle) the repository root is two levels up; from
  // out/main/chunks/ three; a packaged Electron app keeps them in its resources folder.
  const here = dirname(fileURLToPath(import.meta.url));
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = [
    resolve(here, '..', '..', 'resources', 'models'),
    resolve(here, '..', '..', '..', 'resources', 'models'),
    ...(resourcesPath ? [join(resourcesPath, 'models')] : []),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** Thrown when no model was given and the starter model is not there: one line saying how to make one. */
export class MissingModelError extends InputError {
  constructor(dir: string, schema: string) {
    super(
      dir,
      `no starter model for schema '${schema}' here; make one with \`npm run train:starter\` or pass --model DIR`,
    );
    this.name = 'MissingModelError';
  }
}

export function resolveModelDir(schema: SchemaName, modelDir?: string): string {
  if (modelDir) return resolve(modelDir);
  const dir = join(starterModelsDir(), `${schema}-lite`);
  if (!existsSync(join(dir, 'model.json'))) throw new MissingModelError(dir, schema);
  return dir;
}
