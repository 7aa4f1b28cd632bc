// The one module the engine imports tfjs from: picks tfjs-node-gpu when the user installed it, else tfjs on the cpu
// backend: tfjs-core + cpu as one file built at install (scripts/build-tfjs.mjs) when it matches the installed
// packages, else the whole '@tensorflow/tfjs' bundle (same kernels and results; its layers, converter, data and
// webgl parts made it load in 0.72-0.78 s here against about 0.1 s, at every CLI run and engine start).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TfjsNamespace from '@tensorflow/tfjs';
import { readEngineSwitches, readTfSwitch, replaceEngine, type Engine } from './engine';
import { silenceCpuBanner } from './tfjs-internals';

export type { EngineInfo } from './engine';

export type Tf = typeof TfjsNamespace;

/** The optional GPU build of tfjs (cannot be installed in this workplace: that path is unverified). */
export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
export const TFJS = '@tensorflow/tfjs';
/** moduleName when the install-time tfjs-core + cpu file was loaded instead of TFJS. */
export const TFJS_CORE_CPU = '@tensorflow/tfjs-core + @tensorflow/tfjs-backend-cpu';

/**
 * The tfjs-core + cpu file scripts/build-tfjs.mjs wrote into node_modules/.deformux, when its stamp names the
 * installed tfjs-core and tfjs-backend-cpu versions; else null (not built, or built from other versions).
 */
export function freshTfjsBundle(resolvePackageJson: (name: string) => string): string | null {
  try {
    const version = (pkg: string) => (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    const corePkg = resolvePackageJson('@tensorflow/tfjs-core');
    const dir = join(dirname(corePkg), '..', '..', '.deformux');
    const file = join(dir, 'tfjs-core-cpu.cjs');
    const stamp = join(dir, 'tfjs-core-cpu.json');
    if (!existsSync(file) || !existsSync(stamp)) return null;
    const have = JSON.parse(readFileSync(stamp, 'utf8')) as { core?: string; cpu?: string };
    const fresh =
      have.core === version(corePkg) && have.cpu === version(resolvePackageJson('@tensorflow/tfjs-backend-cpu'));
    return fresh ? file : null;
  } catch {
    return null;
  }
}

export interface TfChoice {
  /** The package the namespace came from. */
  moduleName: string;
  tf: Tf;
  /** The backend that package is meant to run on: 'tensorflow' for tfjs-node-gpu, else 'cpu'. */
  preferredBackend: 'tensorflow' | 'cpu';
  /** Why the choice fell where it did when that was not the first choice (shown by initEngine). */
  warnings: string[];
}

function isModuleNotFound(err: unknown, name: string): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(name);
}

/**
 * Chooses the tfjs namespace. `load` is `require` in production and a stub in tests.
 * The engine switch DEFORMUX_TF=cpu forces plain tfjs even when tfjs-node-gpu is installed.
 * `coreBundle`: the fresh tfjs-core + cpu file (freshTfjsBundle), loaded instead of the whole tfjs.
 */
export function chooseTf(
  load: (name: string) => unknown,
  env: Record<string, string | undefined> = process.env,
  coreBundle: string | null = null,
): TfChoice {
  const { tf: forced, warnings } = readTfSwitch(env);
  if (forced !== 'cpu') {
    try {
      const tf = load(TFJS_NODE_GPU) as Tf;
      return { moduleName: TFJS_NODE_GPU, tf, preferredBackend: 'tensorflow', warnings };
    } catch (err) {
      if (!isModuleNotFound(err, TFJS_NODE_GPU)) {
        // Installed but broken (typically missing CUDA/cuDNN libraries): say so, then fall back.
        warnings.push(
          `${TFJS_NODE_GPU} is installed but failed to load (${(err as Error).message}); using ${TFJS} on the cpu backend.`,
        );
      } else if (forced === 'gpu') {
        warnings.push(`DEFORMUX_TF=gpu but ${TFJS_NODE_GPU} is not installed; using ${TFJS} on the cpu backend.`);
      }
    }
  }
  if (coreBundle) return { moduleName: TFJS_CORE_CPU, tf: load(coreBundle) as Tf, preferredBackend: 'cpu', warnings };
  const tf = load(TFJS) as Tf;
  return { moduleName: TFJS, tf, preferredBackend: 'cpu', warnings };
}

const requireHere = createRequire(import.meta.url);
const choice = chooseTf(
  (name) => requireHere(name),
  process.env,
  freshTfjsBundle((name) => requireHere.resolve(`${name}/package.json`)),
);

/** The tfjs namespace every engine module uses. */
export const tf: Tf = choice.tf;
/** Which package `tf` came from, and which backend it prefers. */
export const tfChoice: Readonly<TfChoice> = choice;

/**
 * Makes the engine (engine.ts) and makes it the current one: reads the engine switches from `env`, sets the
 * backend and registers the native kernels (unregistering tfjs's originals first).
 * device 'cpu' (default without tfjs-node-gpu): cpu backend + native CPU kernels.
 * device 'cuda': tfjs-node-gpu's backend when installed, else cpu backend with the deformable and
 * depthwise kernels on the addon's CUDA build when a GPU is present; otherwise a warning and CPU.
 * Safe to call again (e.g. to switch device); each call makes a new engine that replaces the last and re-registers.
 * The tfjs package itself was chosen when this module loaded (DEFORMUX_TF, chooseTf).
 */
export async function initEngine(
  opts: { device?: 'cpu' | 'cuda'; env?: Record<string, string | undefined> } = {},
): Promise<Engine> {
  const { registerAllKernels } = await import('./kernels/register_all');
  const { installOutputReuse } = await import('./kernels/output_pool');
  const { switches, warnings: switchWarnings } = readEngineSwitches(opts.env ?? process.env);
  const warnings = [...choice.warnings, ...switchWarnings.filter((w) => !choice.warnings.includes(w))];
  const device = opts.device ?? (choice.preferredBackend === 'tensorflow' ? 'cuda' : 'cpu');
  let backend = 'cpu';
  if (device === 'cuda' && choice.preferredBackend === 'tensorflow') backend = 'tensorflow';
  const ok = await tf.setBackend(backend);
  if (!ok) {
    warnings.push(`tfjs backend '${backend}' failed to initialise; using 'cpu'.`);
    backend = 'cpu';
    await tf.setBackend('cpu');
  }
  await tf.ready();
  // From here on synchronous: other code never sees the new engine before its kernels are registered.
  const engine = replaceEngine(switches);
  engine.backend = backend;
  const reg = registerAllKernels(tf, backend, { preferCuda: device === 'cuda' });
  warnings.push(...reg.warnings);
  if (backend === 'cpu') {
    installOutputReuse(tf.backend());
    // The cpu backend's first write prints a banner recommending tfjs-node; here the native kernels are
    // the fast path (and the banner cluttered every CLI run's output).
    silenceCpuBanner(tf.backend());
  }
  if (device === 'cuda' && !engine.cuda)
    warnings.push('CUDA was requested but no CUDA path is available; running on the CPU.');
  engine.warnings.push(...warnings);
  for (const w of warnings) console.warn(`[deformux engine] ${w}`);
  return engine;
}
