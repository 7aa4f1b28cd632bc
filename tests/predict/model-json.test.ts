// model.json's inference section: accepted as documented, refused with a message naming the file.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src-main/imaging/volume';
import { parseInferenceSpec } from '../../src-main/engine/io/inference_spec';

const good = {
  classes: ['background', 'kidney', 'tumor', 'cyst'],
  inference: {
    targetSpacingMm: [3, 3, 3],
    patchSize: [64, 96, 96],
    intensity: { clipHu: [-200, 300], mean: 50, std: 120 },
  },
  metrics: { heldOutDice: 0.9 },
};

describe('parseInferenceSpec', () => {
  it('reads the documented fields (canonical frame defaults to RAS)', () => {
    const spec = parseInferenceSpec(good, 'm/model.json');
    expect(spec).toEqual({
      classes: 4,
      classNames: ['background', 'kidney', 'tumor', 'cyst'],
      patchSize: [64, 96, 96],
      targetSpacingMm: [3, 3, 3],
      intensity: { clipHu: [-200, 300], mean: 50, std: 120 },
      canonicalFrame: 'RAS',
    });
    expect(
      parseInferenceSpec({ ...good, inference: { ...good.inference, canonicalFrame: 'LPS' } }, 'x').canonicalFrame,
    ).toBe('LPS');
    expect(parseInferenceSpec({ ...good, inference: { ...good.inference, mirrorAxes: [2] } }, 'x').mirrorAxes).toEqual([
      2,
    ]);
    expect(parseInferenceSpec({ ...good, inference: { ...good.inference, mirrorAxes: [] } }, 'x').mirrorAxes).toEqual(
      [],
    );
    expect(
      parseInferenceSpec({ ...good, inference: { ...good.inference, shortScanPad: 'edge' } }, 'x').shortScanPad,
    ).toBe('edge');
    expect(parseInferenceSpec(good, 'x').shortScanPad).toBeUndefined();
  });

  it.each([
    [{ ...good, classes: ['background'] }, /"classes"/],
    [{ ...good, inference: undefined }, /"inference" section is missing/],
    [{ ...good, inference: { ...good.inference, patchSize: [64, 96.5, 96] } }, /patchSize/],
    [{ ...good, inference: { ...good.inference, targetSpacingMm: [3, 0, 3] } }, /targetSpacingMm/],
    [{ ...good, inference: { ...good.inference, canonicalFrame: 'RAI' } }, /canonicalFrame/],
    [{ ...good, inference: { ...good.inference, intensity: { clipHu: [300, -200], mean: 0, std: 1 } } }, /clipHu/],
    [{ ...good, inference: { ...good.inference, intensity: { clipHu: [-200, 300], mean: 0, std: 0 } } }, /std/],
    [{ ...good, inference: { ...good.inference, mirrorAxes: [3] } }, /mirrorAxes/],
    [{ ...good, inference: { ...good.inference, mirrorAxes: [2, 2] } }, /mirrorAxes/],
    [{ ...good, inference: { ...good.inference, mirrorAxes: 2 } }, /mirrorAxes/],
    [{ ...good, inference: { ...good.inference, shortScanPad: 'mirror' } }, /shortScanPad/],
    [[1, 2], /not a JSON object|"classes"/],
  ])('refuses bad model.json %#', (json, message) => {
    expect(() => parseInferenceSpec(json, 'models/k/model.json')).toThrow(InputError);
    expect(() => parseInferenceSpec(json, 'models/k/model.json')).toThrow(/^models\/k\/model\.json: /);
    expect(() => parseInferenceSpec(json, 'models/k/model.json')).toThrow(message);
  });
});
