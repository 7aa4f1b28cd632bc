// The crosshair place per case: remembered, kept across a new page (session storage), checked against
// the case's dims, capped to the most recent cases, and robust to a damaged stored value.
import { describe, expect, it } from 'vitest';
import { CasePlaces, MAX_PLACES, type PlaceStorage } from '../../../src-renderer/lib/viewer/casePlaces';

function memoryStorage(): PlaceStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('CasePlaces', () => {
  it('returns the voxel a case was left at, also to the next page of the tab', () => {
    const s = memoryStorage();
    const a = new CasePlaces(s);
    a.set('c1', [10, 20, 30]);
    a.set('c2', [1, 2, 3]);
    const b = new CasePlaces(s);
    expect(b.get('c1', [64, 64, 64])).toEqual([10, 20, 30]);
    expect(b.get('c2', [64, 64, 64])).toEqual([1, 2, 3]);
    expect(b.get('c3', [64, 64, 64])).toBeUndefined();
    // A place outside the case's grid (re-imported smaller) is not used.
    expect(b.get('c1', [64, 64, 30])).toBeUndefined();
  });

  it('keeps the most recent cases only, and survives damaged or missing storage', () => {
    const s = memoryStorage();
    const p = new CasePlaces(s);
    for (let n = 0; n < MAX_PLACES + 5; n++) p.set(`c${n}`, [n % 7, 0, 0]);
    const q = new CasePlaces(s);
    expect(q.get('c0', [8, 8, 8])).toBeUndefined();
    expect(q.get(`c${MAX_PLACES + 4}`, [8, 8, 8])).toEqual([(MAX_PLACES + 4) % 7, 0, 0]);
    s.data.set('deformux.casePlaces', '{not json');
    expect(new CasePlaces(s).get('c1', [8, 8, 8])).toBeUndefined();
    s.data.set(
      'deformux.casePlaces',
      JSON.stringify([
        ['c1', [1, -2, 3]],
        ['c2', [1, 2, 3]],
      ]),
    );
    const r = new CasePlaces(s);
    expect([r.get('c1', [8, 8, 8]), r.get('c2', [8, 8, 8])]).toEqual([undefined, [1, 2, 3]]);
    const none = new CasePlaces(null);
    none.set('c1', [1, 1, 1]);
    expect(none.get('c1', [8, 8, 8])).toEqual([1, 1, 1]);
  });
});
