// Registers every deformux kernel and gradient for a backend, unregistering what was there first.
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { currentEngine } from '../engine';
import type { Tf } from '../tf';
import { loadAddon, type NativeAddon } from './addon';
import { cudaCompute, jsCompute, nativeCompute, setActiveCompute, type Compute } from './compute';
import { addConfig } from './Add';
import { conv3DConfig } from './Conv3D';
import { padV2Config } from './PadV2';
import { conv3DBackpropFilterV2Config } from './Conv3DBackpropFilterV2';
import { conv3DBackpropInputV2Config } from './Conv3DBackpropInputV2';
import { deformDwConv3DConfig } from './DeformDwConv3D';
import { deformDwConv3DGradKernelConfig } from './DeformDwConv3DGrad';
import { depthwiseConv3DConfig } from './DepthwiseConv3D';
import { depthwiseConv3DGradKernelConfig } from './DepthwiseConv3DGrad';
// Autodiff (a tfjs GradConfig per kernel): what tf.grad runs for DeformDwConv3D, DepthwiseConv3D and
// Conv3DBackpropInputV2. The first two run the backward kernels DeformDwConv3DGrad and DepthwiseConv3DGrad.
import { conv3DBackpropInputV2GradConfig } from './gradients/Conv3DBackpropInputV2_grad';
import { deformDwConv3DGradConfig } from './gradients/DeformDwConv3D_grad';
import { depthwiseConv3DGradConfig } from './gradients/DepthwiseConv3D_grad';

export interface RegisterResult {
  native: boolean;
  cuda: boolean;
  /** 'native', 'cuda' or 'js': what runs DeformDwConv3D and the depthwise conv. */
  compute: Compute['name'];
  warnings: string[];
}

const DENSE = ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'] as const;

// The record of what is registered (tfjs's originals, kept so tests and benchmarks can compare against them, and
// ours) is the current engine's (engine.ts KernelRecord).
function replaceKernel(tf: Tf, config: KernelConfig): void {
  const { originals, ours } = currentEngine().kernels;
  const existing = tf.getKernel(config.kernelName, config.backendName);
  const key = `${config.backendName}/${config.kernelName}`;
  if (existing && !originals.has(key) && ![...ours.values()].includes(existing)) originals.set(key, existing);
  if (existing) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
  ours.set(key, config);
}

function replaceGradient(tf: Tf, config: GradConfig): void {
  if (tf.getGradient(config.kernelName)) tf.unregisterGradient(config.kernelName);
  tf.registerGradient(config);
}

const LOUD = (why: string) =>
  [
    '',
    '*****************************************************************************************',
    `* deformux: the native kernel addon did not load (${why}).`,
    '* DeformDwConv3D and the depthwise conv fall back to the pure-JS reference, and conv3d to',
    "* tfjs's own kernels: correct but hundreds of times slower. Run 'npm run build:native'.",
    '*****************************************************************************************',
  ].join('\n');

/**
 * Registers the kernels for `backendName` ('cpu', or 'tensorflow' for tfjs-node-gpu where the
 * deformable kernels go through host arrays). preferCuda picks the addon's CUDA build when it loads.
 */
export function registerAllKernels(tf: Tf, backendName: string, opts: { preferCuda?: boolean } = {}): RegisterResult {
  const warnings: string[] = [];
  const { addon, error } = loadAddon();
  let compute: Compute = jsCompute;
  let cuda = false;
  if (addon) {
    compute = nativeCompute(addon);
    if (opts.preferCuda) {
      const why = addon.cudaInit();
      if (why === '') {
        compute = cudaCompute(addon);
        cuda = true;
      } else if (backendName !== 'tensorflow') {
        warnings.push(`native CUDA kernels unavailable: ${why}`);
      }
    }
  } else {
    warnings.push(LOUD(error ?? 'unknown reason'));
  }
  setActiveCompute(compute);

  replaceKernel(tf, deformDwConv3DConfig(backendName));
  replaceKernel(tf, deformDwConv3DGradKernelConfig(backendName));
  replaceKernel(tf, depthwiseConv3DConfig(backendName));
  replaceKernel(tf, depthwiseConv3DGradKernelConfig(backendName));
  // tfjs's own cpu kernel (kept from the first registration), for the cases ours hand back to it.
  const { originals } = currentEngine().kernels;
  const tfjsCpu = (name: string) => originals.get(`cpu/${name}`) ?? tf.getKernel(name, 'cpu');
  if (addon && backendName === 'cpu') {
    replaceKernel(tf, conv3DConfig(addon, tfjsCpu('Conv3D')));
    replaceKernel(tf, conv3DBackpropInputV2Config(addon));
    replaceKernel(tf, conv3DBackpropFilterV2Config(addon));
    const add = tfjsCpu('Add');
    if (addon.fusedAdd && add) replaceKernel(tf, addConfig(addon, add));
  }
  if (backendName === 'cpu') {
    const pad = tfjsCpu('PadV2');
    if (pad) replaceKernel(tf, padV2Config(pad));
  }
  replaceGradient(tf, deformDwConv3DGradConfig);
  replaceGradient(tf, depthwiseConv3DGradConfig);
  replaceGradient(tf, conv3DBackpropInputV2GradConfig);
  const result: RegisterResult = { native: addon !== null, cuda, compute: compute.name, warnings };
  currentEngine().kernels.result = result;
  return result;
}

/** What the current engine's registration did (null before any). */
export function registration(): RegisterResult | null {
  return currentEngine().kernels.result;
}

/** The kernel deformux registered under `name` for `backendName`, if any (tests check it is the one in effect). */
export function deformuxKernel(name: string, backendName = 'cpu'): KernelConfig | undefined {
  return currentEngine().kernels.ours.get(`${backendName}/${name}`);
}

/**
 * After an engine job: hands the memory glibc keeps in its heap (the addon serves tensors from the heap, see
 * native/src/binding.cc tune_malloc_once) back to the system. False when nothing was released or no addon.
 */
export function releaseFreeMemory(): boolean {
  return loadAddon().addon?.trimMemory?.() ?? false;
}

/** The loaded addon, for benchmarks and tests (null when the JS fallback is active). */
export function nativeAddon(): NativeAddon | null {
  return loadAddon().addon;
}

/**
 * Runs `fn` with tfjs's own dense conv3d kernels on the cpu backend (to compare against them), then
 * puts the native ones back. Synchronous work only.
 */
export function withOriginalConv3dKernels<T>(tf: Tf, fn: () => T): T {
  const { originals, ours } = currentEngine().kernels;
  const swapped: string[] = [];
  for (const name of DENSE) {
    const orig = originals.get(`cpu/${name}`);
    const mine = ours.get(`cpu/${name}`);
    if (!orig || !mine) continue;
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel(orig);
    swapped.push(name);
  }
  try {
    return fn();
  } finally {
    for (const name of swapped) {
      tf.unregisterKernel(name, 'cpu');
      tf.registerKernel(ours.get(`cpu/${name}`)!);
    }
  }
}
