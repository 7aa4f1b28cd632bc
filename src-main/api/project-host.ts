// Serves one project at a time and switches between projects on request: the shells hand their
// transport `host.handlers`, which always reach the current project's handlers, and recent
// projects are remembered in a small JSON file of the user's.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StoreRequestError } from '../store/errors';
import { ProjectStore, isProjectDir } from '../store/project';
import { writeFileAtomic } from '../util/atomic';
import type { ApiEvent, ProjectInfo, RecentProject, SchemaName } from './contract';
import { ApiRequestError } from './errors';
import { createApiHandlers, jobManagerOf, type ApiHandlers, type PickPaths, type ProjectSwitcher } from './handlers';
import type { SecretStore } from './dicomweb-calls';

const MAX_RECENT = 10;

/** Where recent projects are kept: $DEFORMUX_RECENT_FILE, else the user's config folder. */
export function defaultRecentFile(): string {
  if (process.env.DEFORMUX_RECENT_FILE) return resolve(process.env.DEFORMUX_RECENT_FILE);
  const config = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(config, 'deformux-annotator', 'recent-projects.json');
}

function readRecent(file: string): RecentProject[] {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (r): r is RecentProject =>
        !!r &&
        typeof r.dir === 'string' &&
        typeof r.name === 'string' &&
        (r.schema === 'kidney' || r.schema === 'pancreas') &&
        typeof r.openedAt === 'string',
    );
  } catch {
    return []; // No file yet, or one a person broke: the list starts again.
  }
}

export class ProjectHost implements ProjectSwitcher {
  readonly handlers: ApiHandlers;
  readonly #recentFile: string;
  readonly #listeners = new Set<(event: ApiEvent) => void>();
  #store: ProjectStore;
  #inner: ApiHandlers;
  #offInner: () => void;
  /** Switches run one at a time. */
  #switching: Promise<unknown> = Promise.resolve();

  /** DICOMweb credentials outlive a project switch (the shell's keychain, or this process). */
  readonly #secrets?: SecretStore;

  /** The shell's file dialog, when it has one. */
  readonly #pickPaths?: PickPaths;

  constructor(store: ProjectStore, opts: { recentFile?: string; secrets?: SecretStore; pickPaths?: PickPaths } = {}) {
    this.#recentFile = opts.recentFile ?? defaultRecentFile();
    this.#store = store;
    this.#secrets = opts.secrets;
    this.#pickPaths = opts.pickPaths;
    this.#inner = createApiHandlers({ store, projects: this, secrets: this.#secrets, pickPaths: this.#pickPaths });
    this.#offInner = this.#inner.onEvent((e) => this.#emit(e));
    // Recorded before any switch runs (switches wait on #switching), so the two writes never race.
    this.#switching = this.#remember(store.info());
    this.handlers = {
      call: (method, req) => this.#inner.call(method, req),
      binary: (method, req) => this.#inner.binary(method, req),
      upload: (method, req, data) => this.#inner.upload(method, req, data),
      uploadSize: (method, req) => this.#inner.uploadSize(method, req),
      onEvent: (listener) => {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
      },
      emit: (event) => this.#inner.emit(event),
    };
  }

  /** Resolves once pending switches and recent-list writes are done. */
  async settled(): Promise<void> {
    await this.#switching.catch(() => undefined);
  }

  get store(): ProjectStore {
    return this.#store;
  }

  recent(): RecentProject[] {
    return readRecent(this.#recentFile).filter((r) => isProjectDir(r.dir));
  }

  open(dir: string): Promise<ProjectInfo> {
    const target = resolve(dir);
    return this.#switch(() => {
      if (!isProjectDir(target)) {
        const why = existsSync(target) ? 'holds no DeformUX project' : 'does not exist';
        throw new ApiRequestError(400, `${target}: ${why}; create a project there instead.`);
      }
      return ProjectStore.open(target);
    });
  }

  create(req: { dir: string; schema: SchemaName; name?: string }): Promise<ProjectInfo> {
    const target = resolve(req.dir);
    return this.#switch(() => {
      if (isProjectDir(target)) throw new ApiRequestError(400, `${target}: already holds a project; open it instead.`);
      if (existsSync(target) && readdirSync(target).length > 0)
        throw new ApiRequestError(400, `${target}: is not empty; give a new or empty folder for a new project.`);
      return ProjectStore.create(target, { schema: req.schema, ...(req.name ? { name: req.name } : {}) });
    });
  }

  /** Stops the current project's jobs and closes it (shell shutdown). */
  async close(): Promise<void> {
    await this.#switching.catch(() => undefined);
    this.#offInner();
    await jobManagerOf(this.#inner)?.close();
    this.#store.close();
  }

  #switch(openNext: () => ProjectStore): Promise<ProjectInfo> {
    const run = this.#switching.then(async () => {
      let next: ProjectStore;
      try {
        next = openNext();
      } catch (err) {
        if (err instanceof ApiRequestError) throw err;
        throw new StoreRequestError((err as Error).message);
      }
      if (resolve(next.dir) === resolve(this.#store.dir)) {
        next.close(); // Already open: nothing to switch.
        return this.#store.info();
      }
      // The new project opened; only now let the old one go (its running jobs stop with a checkpoint).
      const old = { inner: this.#inner, store: this.#store, off: this.#offInner };
      this.#store = next;
      this.#inner = createApiHandlers({
        store: next,
        projects: this,
        secrets: this.#secrets,
        pickPaths: this.#pickPaths,
      });
      this.#offInner = this.#inner.onEvent((e) => this.#emit(e));
      old.off();
      await jobManagerOf(old.inner)?.close();
      old.store.close();
      const info = next.info();
      await this.#remember(info);
      this.#emit({ name: 'project.changed', payload: { dir: info.dir } });
      return info;
    });
    this.#switching = run.catch(() => undefined);
    return run;
  }

  async #remember(info: ProjectInfo): Promise<void> {
    const entry: RecentProject = {
      dir: resolve(info.dir),
      name: info.name,
      schema: info.schema.name,
      openedAt: new Date().toISOString(),
    };
    const list = [entry, ...readRecent(this.#recentFile).filter((r) => resolve(r.dir) !== entry.dir)].slice(
      0,
      MAX_RECENT,
    );
    try {
      await mkdir(dirname(this.#recentFile), { recursive: true });
      await writeFileAtomic(this.#recentFile, `${JSON.stringify(list, null, 2)}\n`);
    } catch {
      // A read-only home must not stop the app; the list just is not kept.
    }
  }

  #emit(event: ApiEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // One broken subscriber must not stop the others.
      }
    }
  }
}
