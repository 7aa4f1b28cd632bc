// Where the annotator left each case: the crosshair voxel, so a case reopened (another case in between,
// or the tab reloaded) shows the same slices again, as ITK-SNAP and Slicer do. Kept in the tab's
// session storage; the most recent cases only.
import type { Vec3 } from './geometry';

/** The part of the Web Storage API used here (sessionStorage in the page; a Map in tests). */
export interface PlaceStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const KEY = 'deformux.casePlaces';
export const MAX_PLACES = 200;

export class CasePlaces {
  readonly #storage: PlaceStorage | null;
  #places = new Map<string, Vec3>();

  constructor(storage: PlaceStorage | null) {
    this.#storage = storage;
    try {
      const saved = JSON.parse(storage?.getItem(KEY) ?? '[]') as unknown;
      if (Array.isArray(saved))
        for (const e of saved)
          if (
            Array.isArray(e) &&
            typeof e[0] === 'string' &&
            Array.isArray(e[1]) &&
            e[1].length === 3 &&
            e[1].every((v: unknown) => Number.isInteger(v) && (v as number) >= 0)
          )
            this.#places.set(e[0], e[1] as Vec3);
    } catch {
      // A damaged entry only loses the remembered places.
    }
  }

  /** The voxel the crosshair was on, when it fits the case's dims. */
  get(caseId: string, dims: Vec3): Vec3 | undefined {
    const p = this.#places.get(caseId);
    return p && p.every((v, a) => v < dims[a]) ? p : undefined;
  }

  set(caseId: string, ijk: Vec3): void {
    const old = this.#places.get(caseId);
    if (old && old[0] === ijk[0] && old[1] === ijk[1] && old[2] === ijk[2]) return;
    this.#places.delete(caseId); // most recent last
    this.#places.set(caseId, [ijk[0], ijk[1], ijk[2]]);
    while (this.#places.size > MAX_PLACES) this.#places.delete(this.#places.keys().next().value!);
    try {
      this.#storage?.setItem(KEY, JSON.stringify([...this.#places]));
    } catch {
      // Storage full or disabled: the places still hold for this page.
    }
  }
}
