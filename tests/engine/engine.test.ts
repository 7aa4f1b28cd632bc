// The Engine object (src-main/engine/engine.ts): the DEFORMUX_* switches parsed in one place, and initEngine making
// a new current engine whose compute provider, pool state and modes are its own, set from the switches it read.
import { describe, expect, it } from 'vitest';
import {
  currentEngine,
  DEFAULT_ENGINE_SWITCHES,
  ENGINE_SWITCH_VARS,
  readEngineSwitches,
} from '../../src-main/engine/engine';
import { initEngine, tf } from '../../src-main/engine/tf';
import { activeCompute } from '../../src-main/engine/kernels/compute';
import { outputF32, setOutputPoison } from '../../src-main/engine/kernels/io';
import {
  createOutputReuse,
  outputReuseStats,
  setOutputReuse,
  withOutputReuse,
} from '../../src-main/engine/kernels/output_pool';
import { deformuxKernel, registration, withOriginalConv3dKernels } from '../../src-main/engine/kernels';
import { fusedNative, setFusedMode } from '../../src-main/engine/model/fused_native';

describe('readEngineSwitches', () => {
  it('gives the defaults for an empty environment, without warnings', () => {
    const { switches, warnings } = readEngineSwitches({});
    expect(switches).toEqual({ tf: 'auto', fused: 'auto', poisonOutputs: false, outputReuse: true });
    expect(switches).toEqual(DEFAULT_ENGINE_SWITCHES);
    expect(warnings).toEqual([]);
  });

  it('reads each switch from its variable', () => {
    expect(Object.values(ENGINE_SWITCH_VARS).sort()).toEqual([
      'DEFORMUX_FUSED',
      'DEFORMUX_OUTPUT_REUSE',
      'DEFORMUX_POISON_OUTPUTS',
      'DEFORMUX_TF',
    ]);
    const read = (env: Record<string, string>) => {
      const r = readEngineSwitches(env);
      expect(r.warnings).toEqual([]);
      return r.switches;
    };
    expect(read({ DEFORMUX_TF: 'cpu' }).tf).toBe('cpu');
    expect(read({ DEFORMUX_TF: ' GPU ' }).tf).toBe('gpu');
    expect(read({ DEFORMUX_TF: 'auto' }).tf).toBe('auto');
    expect(read({ DEFORMUX_FUSED: 'js' }).fused).toBe('js');
    expect(read({ DEFORMUX_FUSED: 'auto' }).fused).toBe('auto');
    expect(read({ DEFORMUX_POISON_OUTPUTS: '1' }).poisonOutputs).toBe(true);
    expect(read({ DEFORMUX_POISON_OUTPUTS: '0' }).poisonOutputs).toBe(false);
    expect(read({ DEFORMUX_OUTPUT_REUSE: '0' }).outputReuse).toBe(false);
    expect(read({ DEFORMUX_OUTPUT_REUSE: '1' }).outputReuse).toBe(true);
    // Unset and empty are the default; other variables are not engine switches.
    expect(read({ DEFORMUX_FUSED: '', DEFORMUX_NATIVE: 'off', DEFORMUX_MODELS_DIR: '/x' })).toEqual(
      DEFAULT_ENGINE_SWITCHES,
    );
  });

  it('a bad value gives the default and a warning naming the variable and the value', () => {
    const { switches, warnings } = readEngineSwitches({
      DEFORMUX_TF: 'tpu',
      DEFORMUX_FUSED: 'native',
      DEFORMUX_POISON_OUTPUTS: 'yes',
      DEFORMUX_OUTPUT_REUSE: 'off',
    });
    expect(switches).toEqual(DEFAULT_ENGINE_SWITCHES);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toBe("DEFORMUX_TF='tpu' is not one of cpu, gpu, auto; using auto.");
    expect(warnings[1]).toMatch(/^DEFORMUX_FUSED='native' is not one of js, auto; using auto\.$/);
    expect(warnings[2]).toMatch(/^DEFORMUX_POISON_OUTPUTS='yes' .* using 0\.$/);
    expect(warnings[3]).toMatch(/^DEFORMUX_OUTPUT_REUSE='off' .* using 1\.$/);
  });
});

describe('initEngine and the current engine', () => {
  it('reads the switches when an engine is made, not when the modules load', () => {
    // Nothing has made an engine yet in this file: the one made on first use reads the environment then.
    const saved = process.env.DEFORMUX_OUTPUT_REUSE;
    process.env.DEFORMUX_OUTPUT_REUSE = '0';
    try {
      expect(currentEngine().switches.outputReuse).toBe(false);
      expect(currentEngine().backend).toBe('none');
    } finally {
      if (saved === undefined) delete process.env.DEFORMUX_OUTPUT_REUSE;
      else process.env.DEFORMUX_OUTPUT_REUSE = saved;
    }
  });

  it('a second initEngine replaces the compute provider, pool state and modes with its own', async () => {
    const e1 = await initEngine({ device: 'cpu', env: {} });
    expect(currentEngine()).toBe(e1);
    expect(e1.backend).toBe('cpu');
    expect(e1.native).toBe(true);
    expect(e1.cuda).toBe(false);
    expect(e1.switches).toEqual(DEFAULT_ENGINE_SWITCHES);
    expect(activeCompute()).toBe(e1.compute);
    expect(activeCompute().name).toBe('native');
    expect(registration()).toBe(e1.kernels.result);
    expect(fusedNative()).not.toBeNull();

    // Leave state behind in e1: modes flipped, reuse counted, a persistent pool of e1.
    setFusedMode('js');
    setOutputPoison(true);
    withOutputReuse(() => outputF32(1 << 16));
    expect(outputReuseStats().fresh).toBe(1);
    const pool1 = createOutputReuse();
    const conv3dOurs1 = deformuxKernel('Conv3D');

    const e2 = await initEngine({
      device: 'cpu',
      env: { DEFORMUX_FUSED: 'js', DEFORMUX_POISON_OUTPUTS: '1', DEFORMUX_OUTPUT_REUSE: '0' },
    });
    expect(currentEngine()).toBe(e2);
    expect(e2).not.toBe(e1);
    expect(e2.switches).toEqual({ tf: 'auto', fused: 'js', poisonOutputs: true, outputReuse: false });
    // Its own provider and registration result.
    expect(e2.compute).not.toBe(e1.compute);
    expect(activeCompute()).toBe(e2.compute);
    expect(registration()).toBe(e2.kernels.result);
    // Its own pool state, from its switches; the wrapped backends are the same (the wrap stays on the backend).
    expect(e2.pool).not.toBe(e1.pool);
    expect(e2.pool.hooked).toBe(e1.pool.hooked);
    expect(outputReuseStats()).toEqual({ reused: 0, fresh: 0 });
    expect(e2.pool.enabled).toBe(false);
    withOutputReuse(() => outputF32(1 << 16));
    expect(outputReuseStats().fresh).toBe(0); // reuse off by DEFORMUX_OUTPUT_REUSE=0
    // Modes from its switches.
    expect(e2.fusedMode).toBe('js');
    expect(fusedNative()).toBeNull();
    expect(Array.from(outputF32(5)).every(Number.isNaN)).toBe(true);
    expect(e2.scratch.length).toBe(0);

    // The kernel record carries over: ours are the registered ones, tfjs's originals are still tfjs's.
    expect(deformuxKernel('Conv3D')).toBe(tf.getKernel('Conv3D', 'cpu'));
    expect(deformuxKernel('Conv3D')).not.toBe(conv3dOurs1);
    const original = withOriginalConv3dKernels(tf, () => tf.getKernel('Conv3D', 'cpu'));
    expect(original).toBeTruthy();
    expect(original).not.toBe(conv3dOurs1);
    expect(original).not.toBe(deformuxKernel('Conv3D'));
    expect(tf.getKernel('Conv3D', 'cpu')).toBe(deformuxKernel('Conv3D'));

    // A pool of the replaced engine runs, without reuse; one of the current engine reuses.
    setOutputReuse(true);
    pool1.run(() => outputF32(1 << 16));
    expect(outputReuseStats().fresh).toBe(0);
    withOutputReuse(() => outputF32(1 << 16));
    expect(outputReuseStats().fresh).toBe(1);
    pool1.release();

    // e1 kept its own state.
    expect(e1.fusedMode).toBe('js');
    expect(e1.poisonOutputs).toBe(true);
    expect(e1.pool.stats.fresh).toBe(1);
  });

  it('honours DEFORMUX_FUSED from the environment only through initEngine', async () => {
    const saved = process.env.DEFORMUX_FUSED;
    try {
      delete process.env.DEFORMUX_FUSED;
      await initEngine({ device: 'cpu' });
      expect(currentEngine().fusedMode).toBe('auto');
      process.env.DEFORMUX_FUSED = 'js';
      expect(currentEngine().fusedMode).toBe('auto');
      expect(fusedNative()).not.toBeNull();
      await initEngine({ device: 'cpu' });
      expect(currentEngine().fusedMode).toBe('js');
      expect(fusedNative()).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.DEFORMUX_FUSED;
      else process.env.DEFORMUX_FUSED = saved;
    }
    await initEngine({ device: 'cpu' });
  });
});
