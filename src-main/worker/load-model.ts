// Loads a model folder for a pre-label: checks its classes against the schema and names it for provenance.
import { InputError } from '../imaging/volume';
import { LABEL_SCHEMAS } from '../domain/label-schemas';
import type { SchemaName } from '../domain/label-schemas';
import { loadModelFolder } from '../engine/io/model_folder';
import type { LoadedModel } from '../engine/io/model_folder';

/** Loads a model folder and checks it outputs the schema's classes (background + schema classes). */
export async function loadModelForSchema(dir: string, schema: SchemaName | undefined): Promise<LoadedModel> {
  const loaded = await loadModelFolder(dir);
  if (schema) {
    const need = LABEL_SCHEMAS[schema].classes.length + 1;
    if (loaded.config.out_channels !== need) {
      loaded.net.dispose();
      throw new InputError(dir, `has ${loaded.config.out_channels} outputs but schema '${schema}' needs ${need}`);
    }
  }
  return loaded;
}

/** A short stable id of a model folder for provenance: its schema, folder name and training steps. */
export function modelIdOf(dir: string, loaded: LoadedModel): string {
  const steps = loaded.meta.training.reduce((s, t) => s + t.steps, 0);
  return `${loaded.meta.schema}:${dir.split(/[\\/]/).filter(Boolean).pop() ?? dir}@${steps}`;
}
