// The models table: every model version a project has used (starter, fine-tuned), with parent,
// metrics, training info and its promotion history; promote and roll back change which one is active.
import type { ModelInfo } from '../domain/models';
import { NotFoundError, StoreRequestError } from './errors';
import type { ProjectStore } from './project';

type ModelStatus = ModelInfo['status'];

interface ModelRow {
  id: string;
  schema_name: string;
  folder: string;
  parent_id: string | null;
  status: ModelStatus;
  metrics: string;
  created_at: string;
  version: number | null;
  training: string;
  promoted_at: string | null;
  retired_at: string | null;
  note: string;
}

function infoOf(row: ModelRow): ModelInfo {
  return {
    id: row.id,
    schema: row.schema_name,
    folder: row.folder,
    version: row.version ?? 0,
    parentId: row.parent_id,
    status: row.status,
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    training: JSON.parse(row.training) as Record<string, unknown>,
    note: row.note,
    createdAt: row.created_at,
    promotedAt: row.promoted_at,
    retiredAt: row.retired_at,
  };
}

export interface NewModel {
  id: string;
  schema: string;
  folder: string;
  metrics?: Record<string, number>;
  status?: ModelStatus;
  parentId?: string | null;
  training?: Record<string, unknown>;
  note?: string;
  /** Version number; the next free one of the schema when omitted. */
  version?: number;
}

/** The next version number of a schema's model line. */
export function nextModelVersion(store: ProjectStore, schema: string): number {
  const { v } = store.database
    .prepare('SELECT COALESCE(MAX(version), 0) AS v FROM models WHERE schema_name = ?')
    .get(schema) as { v: number };
  return v + 1;
}

function versionTaken(store: ProjectStore, schema: string, version: number): boolean {
  return (
    store.database.prepare('SELECT 1 FROM models WHERE schema_name = ? AND version = ?').get(schema, version) !==
    undefined
  );
}

/** Records a model folder under `id` (kept as it is when the id is known already). */
export function registerModel(store: ProjectStore, m: NewModel): ModelInfo {
  const db = store.database;
  db.transaction(() => {
    if (getModelRow(store, m.id)) return;
    const now = promotionTime(store);
    const status = m.status ?? 'candidate';
    // One active model per schema: a new active one retires the old.
    if (status === 'active') retireActive(store, m.schema, now);
    db.prepare(
      `INSERT INTO models (id, schema_name, folder, parent_id, status, metrics, created_at, version, training,
         promoted_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      m.id,
      m.schema,
      m.folder,
      m.parentId ?? null,
      status,
      JSON.stringify(m.metrics ?? {}),
      now,
      m.version !== undefined && !versionTaken(store, m.schema, m.version)
        ? m.version
        : nextModelVersion(store, m.schema),
      JSON.stringify(m.training ?? {}),
      status === 'active' ? now : null,
      m.note ?? '',
    );
  })();
  return infoOf(getModelRow(store, m.id)!);
}

function getModelRow(store: ProjectStore, id: string): ModelRow | undefined {
  return store.database.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
}

export function getModel(store: ProjectStore, id: string): ModelInfo | null {
  const row = getModelRow(store, id);
  return row ? infoOf(row) : null;
}

/** Oldest version first. */
export function listModels(store: ProjectStore): ModelInfo[] {
  return (
    store.database
      .prepare('SELECT * FROM models ORDER BY schema_name, COALESCE(version, 0), created_at, id')
      .all() as ModelRow[]
  ).map(infoOf);
}

/** The project's active model for a schema, if one was promoted (fine-tuning sets it). */
export function activeModel(store: ProjectStore, schema: string): ModelInfo | null {
  const row = store.database
    .prepare(
      `SELECT * FROM models WHERE schema_name = ? AND status = 'active'
       ORDER BY COALESCE(promoted_at, created_at) DESC LIMIT 1`,
    )
    .get(schema) as ModelRow | undefined;
  return row ? infoOf(row) : null;
}

/**
 * A promotion time later than every recorded one: roll-back orders by it, so two promotions within
 * one millisecond (or a clock step back) must still be ordered.
 */
function promotionTime(store: ProjectStore): string {
  const { last } = store.database.prepare('SELECT MAX(promoted_at) AS last FROM models').get() as {
    last: string | null;
  };
  const nowMs = Date.now();
  const lastMs = last ? Date.parse(last) : -Infinity;
  return new Date(nowMs > lastMs ? nowMs : lastMs + 1).toISOString();
}

function retireActive(store: ProjectStore, schema: string, now: string): void {
  store.database
    .prepare(`UPDATE models SET status = 'retired', retired_at = ? WHERE schema_name = ? AND status = 'active'`)
    .run(now, schema);
}

/** Merges metrics and sets a note on a model row. */
export function updateModel(
  store: ProjectStore,
  id: string,
  u: { metrics?: Record<string, number>; note?: string },
): ModelInfo {
  const row = getModelRow(store, id);
  if (!row) throw new NotFoundError(`no model with id '${id}' in this project.`);
  const metrics = { ...(JSON.parse(row.metrics) as Record<string, number>), ...(u.metrics ?? {}) };
  store.database
    .prepare('UPDATE models SET metrics = ?, note = ? WHERE id = ?')
    .run(JSON.stringify(metrics), u.note ?? row.note, id);
  return infoOf(getModelRow(store, id)!);
}

/** Makes a model the active one of its schema (the previous active one is retired). */
export function promoteModel(store: ProjectStore, id: string, note: string): ModelInfo {
  const row = getModelRow(store, id);
  if (!row) throw new NotFoundError(`no model with id '${id}' in this project.`);
  if (row.status === 'active') return infoOf(row);
  const now = promotionTime(store);
  store.database.transaction(() => {
    retireActive(store, row.schema_name, now);
    store.database
      .prepare(`UPDATE models SET status = 'active', promoted_at = ?, retired_at = NULL, note = ? WHERE id = ?`)
      .run(now, note, id);
  })();
  return infoOf(getModelRow(store, id)!);
}

/**
 * Goes back to the model that was active before the current one: the latest promoted earlier than the
 * current one. Its promotion time is kept, so rolling back again goes further back in that history.
 */
export function rollbackModel(store: ProjectStore, schema: string): ModelInfo {
  const current = activeModel(store, schema);
  if (!current?.promotedAt) throw new StoreRequestError(`there is no active ${schema} model to roll back from.`);
  const previous = store.database
    .prepare(
      `SELECT * FROM models WHERE schema_name = ? AND id != ? AND promoted_at IS NOT NULL AND promoted_at < ?
       ORDER BY promoted_at DESC LIMIT 1`,
    )
    .get(schema, current.id, current.promotedAt) as ModelRow | undefined;
  if (!previous)
    throw new StoreRequestError(
      `version ${current.version} is the first active ${schema} model: nothing to roll back to.`,
    );
  const now = new Date().toISOString();
  store.database.transaction(() => {
    store.database
      .prepare(`UPDATE models SET status = 'retired', retired_at = ?, note = ? WHERE id = ?`)
      .run(now, `rolled back to version ${previous.version ?? '?'}`, current.id);
    store.database
      .prepare(`UPDATE models SET status = 'active', retired_at = NULL, note = ? WHERE id = ?`)
      .run(`active again after a roll-back from version ${current.version}`, previous.id);
  })();
  return infoOf(getModelRow(store, previous.id)!);
}

/** Whether a roll-back has somewhere to go (for the UI's button). */
export function canRollback(store: ProjectStore, schema: string): boolean {
  const current = activeModel(store, schema);
  if (!current?.promotedAt) return false;
  const row = store.database
    .prepare(
      `SELECT 1 FROM models WHERE schema_name = ? AND id != ? AND promoted_at IS NOT NULL AND promoted_at < ? LIMIT 1`,
    )
    .get(schema, current.id, current.promotedAt);
  return row !== undefined;
}
