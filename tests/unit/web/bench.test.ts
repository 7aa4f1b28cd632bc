// The web-volume benchmark runs end to end and reports the payload its dims imply (not its timings).
import { describe, expect, it } from 'vitest';
import { benchWebVolume } from '../../../src-main/web/bench';

describe('web-volume benchmark', () => {
  it('stores a phantom and fetches its voxels cold and warm', async () => {
    const result = await benchWebVolume([32, 32, 16], [12, 12, 20]);
    expect(result.bench).toBe('web-volume');
    expect(result.payloadMiB).toBeCloseTo((32 * 32 * 16 * 2) / 2 ** 20, 3);
    expect(result.rawCopy).toBe(false); // too small to be worth one
    expect(result.loadFromCopyMs).toBeNull();
    for (const key of [
      'generateMs',
      'addCaseMs',
      'openMs',
      'volumeColdMs',
      'volumeWarmMs',
      'loadFromNiftiMs',
      'axialSliceMs',
    ] as const) {
      expect(Number.isFinite(result[key]) && result[key] >= 0, key).toBe(true);
    }
  });
});
