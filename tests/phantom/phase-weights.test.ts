// Contrast-phase weights of the synth domain: a recipe can draw more native (non-contrast) phantoms than the
// uniform draw gives, and a recipe without weights replays its recorded draws unchanged.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generatePhantom } from '../../src-main/phantom';
import { CONTRAST_PHASES, drawPhase } from '../../src-main/phantom/hu';
import { recipePhantom } from '../../src-main/phantom/replay';
import { modelRecipe } from '../../src-main/train/recipe';
import type { Vec3 } from '../../src-main/imaging/volume';

const DIMS: Vec3 = [48, 48, 40];
const hash = (a: ArrayBufferView) => createHash('sha256').update(new Uint8Array(a.buffer)).digest('hex');

describe('synth phase weights', () => {
  it('equal weights draw the same phase as no weights, for every draw', () => {
    for (let i = 0; i < 1000; i++) {
      const u = i / 1000;
      expect(drawPhase(u, { noncontrast: 2, arterial: 2, portal: 2, nephrographic: 2 })).toBe(drawPhase(u));
    }
    expect(CONTRAST_PHASES.map((_, q) => drawPhase((q + 0.5) / 4))).toEqual([...CONTRAST_PHASES]);
  });

  it('each phase takes its weight share of the draws; a zero weight is never drawn', () => {
    const weights = { noncontrast: 0.45, arterial: 0.2, portal: 0.1, nephrographic: 0.25 };
    const n = 10_000;
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const p = drawPhase((i + 0.5) / n, weights);
      counts[p] = (counts[p] ?? 0) + 1;
    }
    for (const [p, w] of Object.entries(weights)) expect(Math.abs(counts[p] / n - w)).toBeLessThan(0.002);
    for (let i = 0; i < 200; i++) expect(drawPhase(i / 200, { arterial: 0, noncontrast: 3 })).toBe('noncontrast');
    expect(drawPhase(0.999999, { portal: 1 })).toBe('portal');
  });

  it('refuses weights that cannot be drawn from', () => {
    expect(() => drawPhase(0.5, {})).toThrow(/phase weights/);
    expect(() => drawPhase(0.5, { portal: -1, arterial: 2 })).toThrow(/phase weights/);
    expect(() => drawPhase(0.5, { portal: Number.NaN })).toThrow(/phase weights/);
  });

  it('a synth phantom follows the weights; without them, its bytes are the uniform draw', () => {
    const base = { schema: 'kidney' as const, dims: DIMS, domain: 'synth' as const };
    const phases = new Set<string>();
    for (let seed = 1; seed <= 6; seed++) {
      const native = generatePhantom({ ...base, seed, phaseWeights: { noncontrast: 1 } });
      expect(native.meta.contrastPhase).toBe('noncontrast');
      const plain = generatePhantom({ ...base, seed });
      const alike = generatePhantom({
        ...base,
        seed,
        phaseWeights: { noncontrast: 1, arterial: 1, portal: 1, nephrographic: 1 },
      });
      expect(alike.meta.contrastPhase).toBe(plain.meta.contrastPhase);
      expect(hash(alike.image.data)).toBe(hash(plain.image.data));
      phases.add(plain.meta.contrastPhase);
    }
    // The uniform draw over these seeds is not all native, so the weights changed something.
    expect([...phases].some((p) => p !== 'noncontrast')).toBe(true);
  });

  it('a model records its weights and its replay draws with them', () => {
    const recorded = {
      domain: 'synth',
      phaseWeights: { noncontrast: 0.45, arterial: 0.2, portal: 0.1, nephrographic: 0.25 },
    };
    const r = modelRecipe(recorded);
    expect(r.phaseWeights).toEqual(recorded.phaseWeights);
    // Unknown phases, negative or all-zero weights are not a recipe: the uniform draw replays.
    expect(modelRecipe({ domain: 'synth', phaseWeights: { venous: 1 } }).phaseWeights).toBeUndefined();
    expect(modelRecipe({ domain: 'synth', phaseWeights: { portal: -1 } }).phaseWeights).toBeUndefined();
    expect(modelRecipe({ domain: 'synth', phaseWeights: { portal: 0 } }).phaseWeights).toBeUndefined();
    const c = recipePhantom(
      'kidney',
      { ...r, phaseWeights: { arterial: 1 } },
      7,
      { domain: 'synth', lesionFree: false },
      DIMS,
      [8, 8, 8],
    );
    expect(c.meta.contrastPhase).toBe('arterial');
  });
});
