// The tfjs internals the engine relies on (engine/tfjs-internals.ts), checked against the installed tfjs: an
// upgrade that moves one fails here by name. Each is also checked to mean what the engine assumes.
import { readFileSync } from 'node:fs';
import type { Tensor } from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../src-main/engine/tf';
import { readF32 } from '../../src-main/engine/kernels/io';
import {
  cpuBackendInternals,
  gradientRecording,
  missingInternals,
  silenceCpuBanner,
  storedValues,
} from '../../src-main/engine/tfjs-internals';

beforeAll(async () => {
  await initEngine({ device: 'cpu' });
});

describe('tfjs internals', () => {
  it('the pinned tfjs has every internal the engine uses', () => {
    const require = createRequire(import.meta.url);
    const version = JSON.parse(readFileSync(require.resolve('@tensorflow/tfjs-core/package.json'), 'utf8')).version;
    expect(version, 'engine/tfjs-internals.ts was checked against tfjs 4.22').toMatch(/^4\.22\./);
    expect(missingInternals(tf.engine(), tf.backend())).toEqual([]);
    expect(missingInternals({}, {})).toEqual([
      'cpu backend data/write/move/disposeData',
      'cpu backend firstUse',
      'engine state.gradientDepth',
    ]);
  });

  it('the stored values are the tensor’s own array (no copy), and readF32 returns that array', () => {
    const t = tf.tensor1d([1, 2, 3]);
    const stored = storedValues(tf.backend(), t.dataId) as Float32Array;
    expect(stored).toBeInstanceOf(Float32Array);
    expect(Array.from(stored)).toEqual([1, 2, 3]);
    expect(readF32(tf.backend(), t, 't')).toBe(stored);
    expect(t.dataSync()).toBe(stored);
    t.dispose();
    expect(cpuBackendInternals(tf.backend())!.data.has(t.dataId)).toBe(false);
    expect(cpuBackendInternals({ write: 1 })).toBeNull();
  });

  it('gradient recording is on exactly inside a gradient computation', () => {
    expect(gradientRecording(tf.engine())).toBe(false);
    let inside: boolean | null = null;
    tf.grad((x: Tensor) => {
      inside = gradientRecording(tf.engine());
      return tf.square(x);
    })(tf.scalar(3));
    expect(inside).toBe(true);
    expect(gradientRecording(tf.engine())).toBe(false);
  });

  it('the banner flag is turned off, and only a true flag is touched', () => {
    const b = { firstUse: true };
    silenceCpuBanner(b);
    expect(b.firstUse).toBe(false);
    const other = { firstUse: 'x' };
    silenceCpuBanner(other);
    expect(other.firstUse).toBe('x');
    expect((tf.backend() as unknown as { firstUse: boolean }).firstUse).toBe(false);
  });
});
