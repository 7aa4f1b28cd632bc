// DeformUX-Net configuration (MODEL.md section 6): the presets and validation of config.json.
import { InputError } from '../../imaging/volume';

export interface ModelConfig {
  in_channels: number;
  out_channels: number;
  /** Channels of the four encoder stages [d0, d1, d2, d3]. */
  feature_sizes: [number, number, number, number];
  /** Blocks per stage. */
  depths: [number, number, number, number];
  hidden_size: number;
  /** DDC kernel size k (odd). */
  kernel_size: number;
  /** Depthwise kernel of the offset branch (odd). */
  offset_kernel_size: number;
  /** Deformable groups G; every stage's channel count must be divisible by it. */
  deform_groups: number;
}

export const PRESETS: Record<'paper' | 'lite', ModelConfig> = {
  paper: {
    in_channels: 1,
    out_channels: 3,
    feature_sizes: [48, 96, 192, 384],
    depths: [2, 2, 2, 2],
    hidden_size: 768,
    kernel_size: 3,
    offset_kernel_size: 5,
    deform_groups: 1,
  },
  lite: {
    in_channels: 1,
    out_channels: 3,
    feature_sizes: [16, 32, 64, 128],
    depths: [2, 2, 2, 2],
    hidden_size: 256,
    kernel_size: 3,
    offset_kernel_size: 5,
    deform_groups: 1,
  },
};

/** Spatial input sizes must be multiples of this (four stride-2 stages). */
export const SPATIAL_MULTIPLE = 16;

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Validates a parsed config.json (or a preset with overrides); `file` names it in errors. */
export function parseConfig(raw: unknown, file: string): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(file, 'is not a JSON object');
  const o = raw as Record<string, unknown>;
  const need = [
    'in_channels',
    'out_channels',
    'feature_sizes',
    'depths',
    'hidden_size',
    'kernel_size',
    'offset_kernel_size',
    'deform_groups',
  ];
  for (const key of need) if (!(key in o)) throw new InputError(file, `is missing the key '${key}'`);
  for (const key of [
    'in_channels',
    'out_channels',
    'hidden_size',
    'kernel_size',
    'offset_kernel_size',
    'deform_groups',
  ]) {
    if (!positiveInt(o[key]))
      throw new InputError(file, `'${key}' must be a positive whole number, got ${JSON.stringify(o[key])}`);
  }
  for (const key of ['feature_sizes', 'depths']) {
    const v = o[key];
    if (!Array.isArray(v) || v.length !== 4 || !v.every(positiveInt)) {
      throw new InputError(file, `'${key}' must be a list of four positive whole numbers, got ${JSON.stringify(v)}`);
    }
  }
  const cfg: ModelConfig = {
    in_channels: o.in_channels as number,
    out_channels: o.out_channels as number,
    feature_sizes: [...(o.feature_sizes as number[])] as ModelConfig['feature_sizes'],
    depths: [...(o.depths as number[])] as ModelConfig['depths'],
    hidden_size: o.hidden_size as number,
    kernel_size: o.kernel_size as number,
    offset_kernel_size: o.offset_kernel_size as number,
    deform_groups: o.deform_groups as number,
  };
  if (cfg.kernel_size % 2 === 0) throw new InputError(file, `'kernel_size' must be odd, got ${cfg.kernel_size}`);
  if (cfg.offset_kernel_size % 2 === 0)
    throw new InputError(file, `'offset_kernel_size' must be odd, got ${cfg.offset_kernel_size}`);
  for (const c of cfg.feature_sizes) {
    if (c % cfg.deform_groups !== 0) {
      throw new InputError(file, `feature size ${c} is not divisible by deform_groups ${cfg.deform_groups}`);
    }
  }
  return cfg;
}

/** 'paper' / 'lite' or a config.json path's parsed content. */
export function presetConfig(name: string): ModelConfig {
  if (name !== 'paper' && name !== 'lite')
    throw new InputError(name, "is not a known config preset (use 'paper' or 'lite')");
  const p = PRESETS[name];
  return { ...p, feature_sizes: [...p.feature_sizes], depths: [...p.depths] };
}

/** Throws unless [D, H, W] are positive multiples of 16. */
export function checkSpatial(shapeDhw: readonly number[], what: string): void {
  if (shapeDhw.length !== 3 || !shapeDhw.every((n) => positiveInt(n) && n % SPATIAL_MULTIPLE === 0)) {
    throw new InputError(
      what,
      `spatial size [${shapeDhw.join(', ')}] must be three positive multiples of ${SPATIAL_MULTIPLE}`,
    );
  }
}
