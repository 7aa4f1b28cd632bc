// sRGB colours to DICOM "PCS-Value" CIELab (Recommended Display CIELab Value, PS3.3 C.10.7.1.1).
// DICOM's CIELab is relative to the D50 illuminant (ICC PCS) while sRGB is defined for D65, so the
// conversion adapts white with the linear Bradford transform before computing L*a*b*.

/** D50 and D65 reference whites (CIE 1931 2°, from the xy chromaticities), Y = 1. */
const D50 = [0.3457 / 0.3585, 1, (1 - 0.3457 - 0.3585) / 0.3585];
const D65 = [0.3127 / 0.329, 1, (1 - 0.3127 - 0.329) / 0.329];

type M3 = [number, number, number, number, number, number, number, number, number];

function mul(m: M3, v: readonly number[]): [number, number, number] {
  return [
    m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
    m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
    m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
  ];
}

function matMul(a: M3, b: M3): M3 {
  const out = new Array<number>(9) as M3;
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  return out;
}

function inverse(m: M3): M3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
}

/** Linear sRGB to XYZ (D65), IEC 61966-2-1. */
const SRGB_TO_XYZ: M3 = [0.4124, 0.3576, 0.1805, 0.2126, 0.7152, 0.0722, 0.0193, 0.1192, 0.9505];
/** Bradford cone response matrix. */
const BRADFORD: M3 = [0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296];

/** XYZ(D65) → XYZ(D50): scale cone responses by the ratio of the two whites. */
const D65_TO_D50: M3 = (() => {
  const src = mul(BRADFORD, D65);
  const dst = mul(BRADFORD, D50);
  const scale: M3 = [dst[0] / src[0], 0, 0, 0, dst[1] / src[1], 0, 0, 0, dst[2] / src[2]];
  return matMul(inverse(BRADFORD), matMul(scale, BRADFORD));
})();

function srgbToLinear(c8: number): number {
  const c = c8 / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** sRGB (0..255 each) to CIELab (L* 0..100, a*, b*) relative to D50. */
export function srgbToLab(rgb: readonly [number, number, number]): [number, number, number] {
  // Normalising by the D65 white first makes sRGB white map exactly to the D50 white.
  const xyz65 = mul(SRGB_TO_XYZ, rgb.map(srgbToLinear));
  const white65 = mul(SRGB_TO_XYZ, [1, 1, 1]);
  const xyz50 = mul(
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
