// initEngine: backend, native kernels registered in place of tfjs's, CUDA requests without a GPU.
import { describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { nativeAddon, registration } from '../../src-main/engine/kernels';

describe('initEngine', () => {
  it('uses the cpu backend with the native kernels (the addon must build here)', async () => {
    const info = await initEngine();
    expect(info.backend).toBe('cpu');
    expect(info.native).toBe(true);
    expect(info.cuda).toBe(false);
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.getKernel('DeformDwConv3D', 'cpu')).toBeTruthy();
    expect(tf.getKernel('DepthwiseConv3D', 'cpu')).toBeTruthy();
    expect(tf.getGradient('Conv3DBackpropInputV2')).toBeTruthy();
    expect(registration()?.compute).toBe('native');
    const a = nativeAddon()!;
    expect(['avx512', 'avx2', 'scalar']).toContain(a.isa);
    expect(a.threads).toBeGreaterThan(0);
  });

  it("device 'cuda' without a usable GPU warns and stays on the CPU kernels", async () => {
    const info = await initEngine({ device: 'cuda' });
    if (info.cuda) return; // a GPU machine: covered by the device check script
    expect(info.native).toBe(true);
    expect(info.warnings.join('\n')).toMatch(/CUDA/);
    expect(registration()?.compute).toBe('native');
    await initEngine({ device: 'cpu' });
  });
});
