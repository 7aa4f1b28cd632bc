// The tfjs module choice (tfjs-node-gpu when installed, else tfjs) and the host-array path other backends use.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseTf, freshTfjsBundle, tfChoice, TFJS, TFJS_CORE_CPU, TFJS_NODE_GPU } from '../../src-main/engine/tf';
import { deformDwConv3DConfig } from '../../src-main/engine/kernels/DeformDwConv3D';
import { jsCompute, setActiveCompute } from '../../src-main/engine/kernels/compute';

const fakeTfjs = { name: 'tfjs' };
const fakeGpu = { name: 'tfjs-node-gpu' };
const fakeCore = { name: 'tfjs-core + cpu' };

function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
}

describe('chooseTf', () => {
  it('picks tfjs-node-gpu when it is installed', () => {
    const c = chooseTf((n) => (n === TFJS_NODE_GPU ? fakeGpu : fakeTfjs), {});
    expect(c.moduleName).toBe(TFJS_NODE_GPU);
    expect(c.tf).toBe(fakeGpu);
    expect(c.preferredBackend).toBe('tensorflow');
    expect(c.warnings).toEqual([]);
  });

  it('falls back to tfjs on the cpu backend when tfjs-node-gpu is not installed', () => {
    const c = chooseTf((n) => {
      if (n === TFJS_NODE_GPU) throw notFound(n);
      return fakeTfjs;
    }, {});
    expect(c.moduleName).toBe(TFJS);
    expect(c.preferredBackend).toBe('cpu');
    expect(c.warnings).toEqual([]);
  });

  it('loads the tfjs-core + cpu file instead of the whole tfjs when one is given, never both', () => {
    const loaded: string[] = [];
    const c = chooseTf(
      (n) => {
        loaded.push(n);
        if (n === TFJS_NODE_GPU) throw notFound(n);
        return n === '/x/tfjs-core-cpu.cjs' ? fakeCore : fakeTfjs;
      },
      {},
      '/x/tfjs-core-cpu.cjs',
    );
    expect(c.moduleName).toBe(TFJS_CORE_CPU);
    expect(c.tf).toBe(fakeCore);
    expect(c.preferredBackend).toBe('cpu');
    expect(loaded).toEqual([TFJS_NODE_GPU, '/x/tfjs-core-cpu.cjs']);
    // tfjs-node-gpu still wins when installed.
    expect(chooseTf((n) => (n === TFJS_NODE_GPU ? fakeGpu : fakeCore), {}, '/x/tfjs-core-cpu.cjs').tf).toBe(fakeGpu);
  });

  it('warns and falls back when tfjs-node-gpu is installed but broken', () => {
    const c = chooseTf((n) => {
      if (n === TFJS_NODE_GPU) throw new Error('libcudnn.so.8: cannot open shared object file');
      return fakeTfjs;
    }, {});
    expect(c.tf).toBe(fakeTfjs);
    expect(c.warnings.join('\n')).toMatch(/failed to load.*libcudnn/);
  });

  it('DEFORMUX_TF=cpu forces tfjs even when tfjs-node-gpu is installed', () => {
    const c = chooseTf((n) => (n === TFJS_NODE_GPU ? fakeGpu : fakeTfjs), { DEFORMUX_TF: 'cpu' });
    expect(c.tf).toBe(fakeTfjs);
  });

  it('DEFORMUX_TF=gpu without tfjs-node-gpu says so', () => {
    const c = chooseTf(
      (n) => {
        if (n === TFJS_NODE_GPU) throw notFound(n);
        return fakeTfjs;
      },
      { DEFORMUX_TF: 'gpu' },
    );
    expect(c.tf).toBe(fakeTfjs);
    expect(c.warnings.join('\n')).toMatch(/not installed/);
  });
});

describe('DeformDwConv3D on a non-cpu backend (host arrays, as for tfjs-node-gpu)', () => {
  it('reads inputs with readSync and returns a tensor made by the backend', () => {
    // A stand-in for the tensorflow backend: no `data` map, only readSync/makeTensorInfo.
    const store = new Map<object, Float32Array>();
    const made: { shape: number[]; values: Float32Array }[] = [];
    const backend = {
      readSync: (id: object) => store.get(id),
      makeTensorInfo: (shape: number[], dtype: string, values: Float32Array) => {
        made.push({ shape, values });
        return { dataId: {}, shape, dtype };
      },
    };
    const t = (shape: number[], values: Float32Array) => {
      const dataId = {};
      store.set(dataId, values);
      return { dataId, shape, dtype: 'float32' as const };
    };
    const C = 2;
    const x = t(
      [1, 2, 2, 2, C],
      Float32Array.from({ length: 16 }, (_, i) => i),
    );
    const offset = t([1, 2, 2, 2, 81], new Float32Array(8 * 81));
    const weight = new Float32Array(27 * C);
    weight[13 * C] = 1; // centre tap of channel 0
    weight[13 * C + 1] = 2; // centre tap of channel 1
    setActiveCompute(jsCompute);
    const cfg = deformDwConv3DConfig('tensorflow');
    expect(cfg.backendName).toBe('tensorflow');
    cfg.kernelFunc({
      inputs: { x, offset, weight: t([3, 3, 3, C], weight), bias: t([C], new Float32Array([0.5, 0])) },
      backend,
      attrs: { groups: 1 },
    });
    expect(made).toHaveLength(1);
    expect(made[0].shape).toEqual([1, 2, 2, 2, C]);
    // Zero offsets, centre tap only: y = w * x + b.
    expect(Array.from(made[0].values.slice(0, 4))).toEqual([0.5, 2, 2.5, 6]);
  });
});

describe('the tfjs-core + cpu file (scripts/build-tfjs.mjs)', () => {
  it('is used only while its stamp names the installed tfjs-core and tfjs-backend-cpu versions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dx-tfjs-'));
    try {
      const nm = join(dir, 'node_modules');
      const pkg = (name: string, version: string) => {
        mkdirSync(join(nm, name), { recursive: true });
        writeFileSync(join(nm, name, 'package.json'), JSON.stringify({ name, version }));
      };
      pkg('@tensorflow/tfjs-core', '4.22.0');
      pkg('@tensorflow/tfjs-backend-cpu', '4.22.0');
      const resolve = (name: string) => join(nm, name, 'package.json');
      expect(freshTfjsBundle(resolve)).toBeNull(); // not built
      mkdirSync(join(nm, '.deformux'));
      writeFileSync(join(nm, '.deformux', 'tfjs-core-cpu.cjs'), '');
      writeFileSync(join(nm, '.deformux', 'tfjs-core-cpu.json'), JSON.stringify({ core: '4.22.0', cpu: '4.22.0' }));
      expect(freshTfjsBundle(resolve)).toBe(join(nm, '.deformux', 'tfjs-core-cpu.cjs'));
      pkg('@tensorflow/tfjs-backend-cpu', '4.23.0'); // upgraded since the build
      expect(freshTfjsBundle(resolve)).toBeNull();
      writeFileSync(join(nm, '.deformux', 'tfjs-core-cpu.json'), 'not json');
      expect(freshTfjsBundle(resolve)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is what this install runs (npm install builds it), with gradients and chained ops', () => {
    expect(tfChoice.moduleName).toBe(TFJS_CORE_CPU);
    const tf = tfChoice.tf;
    const g = tf.grad((x) => tf.sum(tf.square(x)))(tf.tensor([1, 2, 3]));
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
    expect(Array.from(tf.tensor([3]).square().dataSync())).toEqual([9]);
  });
});
