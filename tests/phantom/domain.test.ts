// Named phantom domains: 'standard' is the default case byte for byte; 'shifted' changes phase, kidney size and noise.
import { describe, expect, it } from 'vitest';
import { generatePhantom, SHIFTED_DOMAIN } from '../../src-main/phantom';

const opts = { schema: 'kidney' as const, dims: [64, 64, 54] as [number, number, number] };

function count(data: ArrayLike<number>, value: number): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === value) n++;
  return n;
}

describe('phantom domains', () => {
  it("'standard' (and no domain) give the default case, byte for byte", () => {
    const plain = generatePhantom({ ...opts, seed: 5 });
    const standard = generatePhantom({ ...opts, seed: 5, domain: 'standard' });
    expect(Buffer.from(standard.image.data.buffer).equals(Buffer.from(plain.image.data.buffer))).toBe(true);
    expect(Buffer.from(standard.label.data.buffer).equals(Buffer.from(plain.label.data.buffer))).toBe(true);
    expect(standard.meta).toEqual(plain.meta);
    expect('domain' in plain.meta).toBe(false);
  });

  it("'shifted' uses the non-contrast phase, larger kidneys and more noise, and says so in the metadata", () => {
    let ratio = 0;
    for (const seed of [1, 2, 3]) {
      const a = generatePhantom({ ...opts, seed });
      const b = generatePhantom({ ...opts, seed, domain: 'shifted' });
      expect(b.meta.domain).toBe('shifted');
      expect(b.meta.contrastPhase).toBe('noncontrast');
      expect(b.meta.kidneyScale).toBe(SHIFTED_DOMAIN.kidneyScale);
      expect(b.meta.noiseSigmaHu).toBe(SHIFTED_DOMAIN.noiseSigmaHu);
      ratio += count(b.label.data, 1) / count(a.label.data, 1) / 3;
    }
    // Semi-axes x1.25 make the volume about 1.95 times larger (lesions and shape spread move it a little).
    expect(ratio).toBeGreaterThan(1.5);
    expect(ratio).toBeLessThan(2.5);
  });

  it('lets explicit domainShift fields override the named domain, and checks them', () => {
    const c = generatePhantom({ ...opts, seed: 1, domain: 'shifted', domainShift: { contrastPhase: 'portal' } });
    expect(c.meta.contrastPhase).toBe('portal');
    expect(c.meta.kidneyScale).toBe(SHIFTED_DOMAIN.kidneyScale);
    expect(() => generatePhantom({ ...opts, seed: 1, domainShift: { kidneyScale: 3 } })).toThrow(/kidneyScale/);
    expect(() => generatePhantom({ ...opts, seed: 1, domain: 'alien' as never })).toThrow(/domain must be one of/);
  });
});
