// sRGB colours to DICOM "PCS-Value" CIELab (Recommended Display CIELab Value, PS3.3 C.10.7.1.1).
// DICOM's CIELab is relative to the D50 illuminant (ICC PCS) while sRGB is defined for D65, so the
// conversion adapts white with the linear Bradford transform before computing L*a*b*.
import { invertMat3, mulMat3, mulMat3Vec, type Mat3 } from '../../util/mat3';

/** D50 and D65 reference whites (CIE 1931 2°, from the xy chromaticities), Y = 1. */
const D50 = [0.3457 / 0.3585, 1, (1 - 0.3457 - 0.3585) / 0.3585];
const D65 = [0.3127 / 0.329, 1, (1 - 0.3127 - 0.329) / 0.329];

/** Linear sRGB to XYZ (D65), IEC 61966-2-1. */
const SRGB_TO_XYZ: Mat3 = [0.4124, 0.3576, 0.1805, 0.2126, 0.7152, 0.0722, 0.0193, 0.1192, 0.9505];
/** Bradford cone response matrix. */
const BRADFORD: Mat3 = [0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296];

/** XYZ(D65) → XYZ(D50): scale cone responses by the ratio of the two whites. */
const D65_TO_D50: Mat3 = (() => {
  const src = mulMat3Vec(BRADFORD, D65);
  const dst = mulMat3Vec(BRADFORD, D50);
  const scale: Mat3 = [dst[0] / src[0], 0, 0, 0, dst[1] / src[1], 0, 0, 0, dst[2] / src[2]];
  return mulMat3(invertMat3(BRADFORD), mulMat3(scale, BRADFORD));
})();

function srgbToLinear(c8: number): number {
  const c = c8 / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** sRGB (0..255 each) to CIELab (L* 0..100, a*, b*) relative to D50. */
export function srgbToLab(rgb: readonly [number, number, number]): [number, number, number] {
  // Normalising by the D65 white first makes sRGB white map exactly to the D50 white.
  const xyz65 = mulMat3Vec(SRGB_TO_XYZ, rgb.map(srgbToLinear));
  const white65 = mulMat3Vec(SRGB_TO_XYZ, [1, 1, 1]);
  const xyz50 = mulMat3Vec(
    D65_TO_D50,
    xyz65.map((v, p) => (v / white65[p]) * D65[p]),
  );
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const [fx, fy, fz] = xyz50.map((v, p) => f(v / D50[p]));
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** sRGB (0..255) to the three unsigned 16-bit values DICOM stores: L* 0..100, a* and b* -128..127, scaled to 0..65535. */
export function srgbToDicomLab(rgb: readonly [number, number, number]): [number, number, number] {
  const [l, a, b] = srgbToLab(rgb);
  const clamp = (v: number): number => Math.min(65535, Math.max(0, Math.round(v)));
  return [clamp((l * 65535) / 100), clamp(((a + 128) * 65535) / 255), clamp(((b + 128) * 65535) / 255)];
}
