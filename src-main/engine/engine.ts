// The engine's process state in one object: the compute provider the kernels use, the record of the kernels
// registered in tfjs, the output-pool state, the output poisoning and fused-kernel mode, the fused norms' scratch
// buffer, and the DEFORMUX_* switches they were set from. initEngine (tf.ts) makes one and makes it current;
// every engine module reads and writes the current one through currentEngine().
//
// One current Engine per process (per worker thread: each thread has its own tfjs and globalThis), because what
// the engine drives is process-wide: tfjs's kernel registry and its backends. A new engine therefore takes over
// two facts about them from the one it replaces: the record of registered kernels (tfjs's originals and ours, still
// in the registry) and the set of cpu backends whose data entry points are wrapped for the output pools (the wrap
// stays on the backend and consults whichever engine is current). Everything else starts fresh.
import type { KernelConfig } from '@tensorflow/tfjs';
import type { Compute } from './kernels/compute';
import type { OutputPoolState } from './kernels/output_pool';
import type { RegisterResult } from './kernels/register_all';

/** 'js' forces the JS reference loops of the fused ops (model/fused*.ts) instead of the native kernels. */
export type FusedMode = 'auto' | 'js';

/** Which tfjs package: tfjs-node-gpu when installed ('auto'), plain tfjs ('cpu'), or tfjs-node-gpu wanted ('gpu'). */
export type TfSwitch = 'auto' | 'cpu' | 'gpu';

/** The engine's DEFORMUX_* environment switches, parsed (readEngineSwitches). */
export interface EngineSwitches {
  /**
   * DEFORMUX_TF = auto | cpu | gpu (default auto). The tfjs package is chosen once, when tf.ts loads (its `tf`
   * export is that package's namespace), so this one takes effect at import; an engine records what it read.
   */
  tf: TfSwitch;
  /** DEFORMUX_FUSED = auto | js (default auto): 'js' runs the fused ops' JS reference loops for the whole run. */
  fused: FusedMode;
  /** DEFORMUX_POISON_OUTPUTS = 0 | 1 (default 0): every kernel output array starts as NaN (kernels/io.ts). */
  poisonOutputs: boolean;
  /** DEFORMUX_OUTPUT_REUSE = 0 | 1 (default 1): reuse of kernel output arrays within runs (kernels/output_pool.ts). */
  outputReuse: boolean;
}

/** The environment variable of each switch. DEFORMUX_NATIVE (where the addon is) belongs to kernels/addon.ts. */
export const ENGINE_SWITCH_VARS: Readonly<Record<keyof EngineSwitches, string>> = {
  tf: 'DEFORMUX_TF',
  fused: 'DEFORMUX_FUSED',
  poisonOutputs: 'DEFORMUX_POISON_OUTPUTS',
  outputReuse: 'DEFORMUX_OUTPUT_REUSE',
};

export const DEFAULT_ENGINE_SWITCHES: Readonly<EngineSwitches> = {
  tf: 'auto',
  fused: 'auto',
  poisonOutputs: false,
  outputReuse: true,
};

type Env = Record<string, string | undefined>;

function processEnv(): Env {
  return typeof process === 'undefined' ? {} : (process.env ?? {});
}

/** One of `choices` (trimmed, any case), or the default with a warning; unset or empty gives the default silently. */
function parseChoice<T extends string>(
  env: Env,
  name: string,
  choices: readonly T[],
  fallback: T,
  warnings: string[],
): T {
  const raw = env[name];
  const v = raw?.trim().toLowerCase();
  if (!v) return fallback;
  if ((choices as readonly string[]).includes(v)) return v as T;
  warnings.push(`${name}='${raw}' is not one of ${choices.join(', ')}; using ${fallback}.`);
  return fallback;
}

function parseFlag(env: Env, name: string, fallback: boolean, warnings: string[]): boolean {
  const v = parseChoice(env, name, ['0', '1'] as const, fallback ? '1' : '0', warnings);
  return v === '1';
}

/** DEFORMUX_TF alone (tf.ts chooses the tfjs package with it when it loads). */
export function readTfSwitch(env: Env = processEnv()): { tf: TfSwitch; warnings: string[] } {
  const warnings: string[] = [];
  const tf = parseChoice(env, ENGINE_SWITCH_VARS.tf, ['cpu', 'gpu', 'auto'] as const, 'auto', warnings);
  return { tf, warnings };
}

/** Parses every engine switch of `env`; a value that is not valid gives the default and a warning naming it. */
export function readEngineSwitches(env: Env = processEnv()): { switches: EngineSwitches; warnings: string[] } {
  const { tf, warnings } = readTfSwitch(env);
  const d = DEFAULT_ENGINE_SWITCHES;
  const switches: EngineSwitches = {
    tf,
    fused: parseChoice(env, ENGINE_SWITCH_VARS.fused, ['js', 'auto'] as const, d.fused, warnings),
    poisonOutputs: parseFlag(env, ENGINE_SWITCH_VARS.poisonOutputs, d.poisonOutputs, warnings),
    outputReuse: parseFlag(env, ENGINE_SWITCH_VARS.outputReuse, d.outputReuse, warnings),
  };
  return { switches, warnings };
}

/** What initEngine reports about the engine it made. */
export interface EngineInfo {
  backend: string;
  /** True when the native addon backs the heavy kernels (false: pure-JS fallback, slow). */
  native: boolean;
  /** True when DeformDwConv3D/depthwise conv run on a CUDA GPU (native CUDA or tfjs-node-gpu). */
  cuda: boolean;
  warnings: string[];
}

/** The kernels deformux registered in tfjs's registry and the tfjs kernels they replaced (kernels/register_all.ts). */
export interface KernelRecord {
  /** tfjs's own kernels, by 'backend/kernel', as found before the first replacement (tests and benchmarks compare). */
  originals: Map<string, KernelConfig>;
  /** The deformux kernels in the registry, by 'backend/kernel'. */
  ours: Map<string, KernelConfig>;
  /** What this engine's registration did (null until registerAllKernels runs for it). */
  result: RegisterResult | null;
}

export class Engine implements EngineInfo {
  readonly switches: Readonly<EngineSwitches>;
  /** The backend initEngine set ('cpu', 'tensorflow'); 'none' for an engine made on first use without initEngine. */
  backend = 'none';
  /** Bad switch values, then what initEngine reported. */
  readonly warnings: string[];
  /** What DeformDwConv3D and the depthwise conv run on (null: none chosen yet, the pure-JS reference). */
  compute: Compute | null = null;
  readonly kernels: KernelRecord;
  readonly pool: OutputPoolState;
  /** Kernel outputs start as NaN (kernels/io.ts outputF32). */
  poisonOutputs: boolean;
  /** Native fused kernels when available, or the JS reference loops (model/fused_native.ts). */
  fusedMode: FusedMode;
  /** The fused norms' buffer for the normalised values that inference does not keep (model/fused.ts). */
  scratch = new Float32Array(0);

  /** `previous`: the engine this one replaces (it takes over the kernel record and the wrapped backends). */
  constructor(switches: EngineSwitches, previous: Engine | null = null, warnings: string[] = []) {
    this.switches = { ...switches };
    this.warnings = [...warnings];
    this.kernels = {
      originals: new Map(previous?.kernels.originals),
      ours: new Map(previous?.kernels.ours),
      result: null,
    };
    this.pool = {
      owned: new WeakMap(),
      hooked: previous?.pool.hooked ?? new WeakSet(),
      active: null,
      stats: { reused: 0, fresh: 0 },
      enabled: switches.outputReuse,
    };
    this.poisonOutputs = switches.poisonOutputs;
    this.fusedMode = switches.fused;
  }

  get native(): boolean {
    return this.kernels.result?.native ?? false;
  }

  get cuda(): boolean {
    return this.backend === 'tensorflow' || (this.kernels.result?.cuda ?? false);
  }
}

// On globalThis under a registered symbol, so that a second instance of this module (a loader that instantiates
// a file twice) still shares the one engine; globalThis is per worker thread, as tfjs is.
const SLOT = Symbol.for('deformux.engine');
const holder = globalThis as unknown as { [SLOT]?: Engine };

/**
 * The current engine. Before any initEngine (a test of single ops, kernels registered on first use), one is made
 * from the process environment at the first call, its switch warnings printed.
 */
export function currentEngine(): Engine {
  const e = holder[SLOT];
  if (e) return e;
  const { switches, warnings } = readEngineSwitches();
  for (const w of warnings) console.warn(`[deformux engine] ${w}`);
  return (holder[SLOT] = new Engine(switches, null, warnings));
}

/** Makes a new engine from `switches` the current one, replacing the current one (for initEngine). */
export function replaceEngine(switches: EngineSwitches, warnings: string[] = []): Engine {
  const engine = new Engine(switches, holder[SLOT] ?? null, warnings);
  holder[SLOT] = engine;
  return engine;
}
