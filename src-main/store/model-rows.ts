// The models table: model folders the project has used (starter, project-local, fine-tuned), by id.
import type { ModelInfo } from '../api/contract';
import type { ProjectStore } from './project';

interface ModelRow {
  id: string;
  schema_name: string;
  folder: string;
  parent_id: string | null;
  status: 'candidate' | 'active' | 'retired';
  metrics: string;
  created_at: string;
}

function infoOf(row: ModelRow): ModelInfo {
  return {
    id: row.id,
    schema: row.schema_name,
    folder: row.folder,
    status: row.status,
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    createdAt: row.created_at,
  };
}

/** Records a model folder under `id` (kept as it is when the id is known already). */
export function registerModel(
  store: ProjectStore,
  m: { id: string; schema: string; folder: string; metrics?: Record<string, number>; status?: ModelRow['status'] },
): ModelInfo {
  const db = store.database;
  db.prepare(
    `INSERT OR IGNORE INTO models (id, schema_name, folder, status, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(m.id, m.schema, m.folder, m.status ?? 'candidate', JSON.stringify(m.metrics ?? {}), new Date().toISOString());
  return infoOf(db.prepare('SELECT * FROM models WHERE id = ?').get(m.id) as ModelRow);
}

export function listModels(store: ProjectStore): ModelInfo[] {
  return (store.database.prepare('SELECT * FROM models ORDER BY created_at, id').all() as ModelRow[]).map(infoOf);
}

/** The project's active model for a schema, if one was promoted (fine-tuning sets it). */
export function activeModel(store: ProjectStore, schema: string): ModelInfo | null {
  const row = store.database
    .prepare(`SELECT * FROM models WHERE schema_name = ? AND status = 'active' ORDER BY created_at DESC LIMIT 1`)
    .get(schema) as ModelRow | undefined;
  return row ? infoOf(row) : null;
}
