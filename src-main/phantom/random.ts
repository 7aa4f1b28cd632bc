// Seeded pseudo-random numbers for the phantom generator, so a seed always gives the same case.
//
// sfc32 (small fast counter) seeded through splitmix32: fast in plain JS, good enough statistically
// for anatomy jitter and image noise, and independent of Math.random so results are reproducible.

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Hashes a string tag into 32 bits (FNV-1a), to derive independent streams from one seed. */
function hashTag(tag: string): number {
  let h = 0x811c9dc5;
  for (let n = 0; n < tag.length; n++) {
    h ^= tag.charCodeAt(n);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private readonly seedWord: number;

  constructor(seed: number, tag = '') {
    // Mixing the seed's high bits in keeps seeds above 2^32 distinct.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    this.seedWord = (lo ^ Math.imul(hi, 0x27d4eb2d) ^ hashTag(tag)) >>> 0;
    const mix = splitmix32(this.seedWord);
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let n = 0; n < 12; n++) this.nextUint32();
  }

  /** An independent stream for one part of the case (anatomy, lesions, noise) from the same seed. */
  fork(tag: string): Rng {
    return new Rng(this.seedWord, tag);
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Whole number in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box-Muller; one value per call keeps the stream simple to reason about). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Index drawn with the given relative weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let n = 0; n < weights.length; n++) {
      r -= weights[n];
      if (r < 0) return n;
    }
    return weights.length - 1;
  }
}

/**
 * A table of standard-normal samples. Image noise needs millions of normals per case; looking them up
 * with random indices is ~10x faster than Box-Muller per voxel and statistically indistinguishable
 * after the correlating blur.
 */
export function normalTable(rng: Rng, size = 1 << 16): Float32Array {
  const table = new Float32Array(size);
  for (let n = 0; n < size; n++) table[n] = rng.normal();
  return table;
}
