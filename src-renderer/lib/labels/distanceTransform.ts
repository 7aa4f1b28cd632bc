// Exact Euclidean distance transform of a 2D mask in mm (anisotropic pixels), by the separable
// lower-envelope-of-parabolas method; used for the signed distances of slice interpolation.

/** A distance far beyond any slice, for a slice with no feature pixel at all. */
export const FAR_MM = 1e6;

/**
 * Squared distance in mm² from each pixel centre (u fastest, nu × nv) to the nearest pixel with
 * feature[p] = 1; FAR_MM² when there is none.
 */
export function squaredDistanceMm(
  feature: Uint8Array,
  nu: number,
  nv: number,
  spacingMm: [number, number],
): Float64Array {
  const far = FAR_MM * FAR_MM;
  const out = new Float64Array(nu * nv);
  for (let p = 0; p < out.length; p++) out[p] = feature[p] ? 0 : far;
  const line = new Float64Array(Math.max(nu, nv));
  const res = new Float64Array(Math.max(nu, nv));
  // Pass along u, then along v, each a 1D transform of the previous result.
  for (let v = 0; v < nv; v++) {
    for (let u = 0; u < nu; u++) line[u] = out[v * nu + u];
    envelope(line, nu, spacingMm[0], res);
    for (let u = 0; u < nu; u++) out[v * nu + u] = res[u];
  }
  for (let u = 0; u < nu; u++) {
    for (let v = 0; v < nv; v++) line[v] = out[v * nu + u];
    envelope(line, nv, spacingMm[1], res);
    for (let v = 0; v < nv; v++) out[v * nu + u] = res[v];
  }
  return out;
}

/** res[q] = min over p of f[p] + ((q − p)·h)², for the first n samples (Felzenszwalb–Huttenlocher). */
function envelope(f: Float64Array, n: number, h: number, res: Float64Array): void {
  const vtx = new Int32Array(n);
  const z = new Float64Array(n + 1);
  let k = 0;
  vtx[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  const meet = (q: number, p: number) => (f[q] + (q * h) ** 2 - (f[p] + (p * h) ** 2)) / (2 * h * h * (q - p));
  for (let q = 1; q < n; q++) {
    let s = meet(q, vtx[k]);
    while (s <= z[k]) {
      k--;
      s = meet(q, vtx[k]);
    }
    k++;
    vtx[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    res[q] = ((q - vtx[k]) * h) ** 2 + f[vtx[k]];
  }
}
