// The small DICOM writer's building blocks: decimal strings, UIDs, CIELab colours (against dcmjs).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { srgbToDicomLab, srgbToLab } from '../../src-main/export/dicom/cielab';
import { isValidUid, newUid } from '../../src-main/export/dicom/uid';
import { el, encodeDataset, formatDs } from '../../src-main/export/dicom/writer';
import { LABEL_SCHEMAS } from '../../src-main/labels/schemas';

// dcmjs ships no types; only its independent colour conversion is used here, as a reference.
const dcmjs = createRequire(import.meta.url)('dcmjs') as {
  data: { Colors: { rgb2DICOMLAB(rgb: number[]): number[] } };
};

describe('formatDs', () => {
  it('fits any double into 16 characters and keeps 1e-9 relative precision for ordinary values', () => {
    for (const x of [
      0,
      -0,
      1,
      -1,
      0.1,
      1 / 3,
      -123.456789012345,
      98765.4321098765,
      1e-7,
      -2.5e-12,
      123456789012.5,
      1e20,
    ]) {
      const s = formatDs(x);
      expect(s.length).toBeLessThanOrEqual(16);
      expect(s).toMatch(/^-?[0-9.]+(e[-+][0-9]+)?$/);
      expect(Math.abs(Number(s) - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-9);
    }
    expect(() => formatDs(NaN)).toThrow(/NaN/);
  });
});

describe('UIDs', () => {
  it('makes unique, valid 2.25 UIDs and rejects malformed ones', () => {
    const a = newUid();
    expect(isValidUid(a)).toBe(true);
    expect(a.startsWith('2.25.')).toBe(true);
    expect(newUid()).not.toBe(a);
    for (const bad of ['', '1..2', '1.02', 'a.b', '1.2.', '1'.repeat(65)]) expect(isValidUid(bad)).toBe(false);
  });
});

describe('encodeDataset', () => {
  it('sorts elements, pads odd values (UI with NUL, text with space) and writes long VR headers', () => {
    const bytes = encodeDataset([
      el(0x00100010, 'PN', 'Ab^C'),
      el(0x00080018, 'UI', '1.2.3'),
      el(0x7fe00010, 'OB', new Uint8Array([9, 8, 7])),
    ]);
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(0, true)).toBe(0x0008); // (0008,0018) comes first
    expect(String.fromCharCode(bytes[4], bytes[5])).toBe('UI');
    expect(view.getUint16(6, true)).toBe(6);
    expect(bytes[8 + 5]).toBe(0);
    const pn = 14;
    expect(view.getUint16(pn + 6, true)).toBe(4);
    const ob = pn + 8 + 4;
    expect(String.fromCharCode(bytes[ob + 4], bytes[ob + 5])).toBe('OB');
    expect(view.getUint32(ob + 8, true)).toBe(4);
    expect(Array.from(bytes.subarray(ob + 12))).toEqual([9, 8, 7, 0]);
    expect(() => encodeDataset([el(0x00080018, 'UI', '1'), el(0x00080018, 'UI', '2')])).toThrow(
      /\(0008,0018\) appears twice/,
    );
  });
});

describe('CIELab colours', () => {
  it('maps sRGB white to L*=100, a*=b*=0 and black to L*=0', () => {
    const [l, a, b] = srgbToLab([255, 255, 255]);
    expect(l).toBeCloseTo(100, 3);
    expect(Math.abs(a)).toBeLessThan(1e-3);
    expect(Math.abs(b)).toBeLessThan(1e-3);
    expect(srgbToDicomLab([0, 0, 0])[0]).toBe(0);
  });

  it('agrees with dcmjs Colors.rgb2DICOMLAB within 0.1 CIELab units for schema and primary colours', () => {
    const colours = [
      ...Object.values(LABEL_SCHEMAS).flatMap((s) => s.classes.map((c) => c.color)),
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [128, 128, 128],
    ] as [number, number, number][];
    for (const rgb of colours) {
      const ours = srgbToDicomLab(rgb);
      const ref = dcmjs.data.Colors.rgb2DICOMLAB(rgb.map((c) => c / 255));
      // 0.1 L* = 65.5 units; 0.1 a*/b* = 25.7 units.
      expect(Math.abs(ours[0] - ref[0])).toBeLessThan(65);
      expect(Math.abs(ours[1] - ref[1])).toBeLessThan(26);
      expect(Math.abs(ours[2] - ref[2])).toBeLessThan(26);
    }
  });
});
