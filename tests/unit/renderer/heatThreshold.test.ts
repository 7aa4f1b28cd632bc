// The uncertainty overlay's display threshold and legend: values at or below the threshold are not
// drawn, the rest unchanged; the legend runs through the colours the map draws.
import { describe, expect, it } from 'vitest';
import {
  HEAT_FLOOR,
  heatColor,
  heatLegendGradient,
  thresholdUncertainty,
} from '../../../src-renderer/lib/viewer/heatColormap';

describe('uncertainty threshold', () => {
  it('zeroes values at or below the threshold and keeps the rest', () => {
    const data = Uint8Array.from([0, 20, 127, 128, 200, 255]);
    expect(Array.from(thresholdUncertainty(data, 0.5))).toEqual([0, 0, 0, 128, 200, 255]); // 128 / 255 > 0.5
    expect(Array.from(thresholdUncertainty(data, 0.95))).toEqual([0, 0, 0, 0, 0, 255]);
    // At the colour table's own floor nothing needs changing: the same array comes back.
    expect(thresholdUncertainty(data, HEAT_FLOOR)).toBe(data);
    expect(thresholdUncertainty(data, 0)).toBe(data);
    expect(Array.from(data)).toEqual([0, 20, 127, 128, 200, 255]);
  });

  it('the legend goes from the threshold colour to the full-uncertainty red', () => {
    const g = heatLegendGradient(0.5);
    const [r, gr] = heatColor(Math.round(0.5 * 255));
    expect(g).toContain(`rgba(${r}, ${gr}, 0,`);
    expect(g).toMatch(/rgba\(255, 0, 0, 1\.00\) 100%\)$/);
    expect(heatLegendGradient(0)).toBe(heatLegendGradient(HEAT_FLOOR));
  });
});
