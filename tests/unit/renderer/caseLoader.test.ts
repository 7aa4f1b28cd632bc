// Opening a case for the viewer: the header first, then the preview's slices (the axial one asked for
// first) ahead of the whole volume; each slice lands in its view's layout; a failing slice only costs the
// preview; a cancelled open stops without handing anything over.
import { describe, expect, it } from 'vitest';
import type { DeformuxApi, VolumeHeader } from '../../../src-main/api/contract';
import { extractSlice } from '../../../src-main/imaging/slice';
import { loadCase } from '../../../src-renderer/lib/state/caseLoader';
import { previewPixels, previewPlanes, fitRect } from '../../../src-renderer/lib/viewer/slicePreview';
import { huPattern, makeVolume } from '../helpers';

const image = makeVolume([6, 5, 4], huPattern); // j axis runs anterior (direction flips it)
const header: VolumeHeader = {
  caseId: 'c1',
  dims: image.dims,
  spacingMm: image.spacingMm,
  originMm: image.originMm,
  direction: image.direction,
  dataType: 'int16',
  modality: 'CT',
  description: 'test',
  synthetic: false,
};

function bytesOf(a: Int16Array): ArrayBuffer {
  return a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength) as ArrayBuffer;
}

/** An API over `image` that records the order of requests; `failSlices` makes the slice calls fail. */
function fakeApi(opts: { failSlices?: boolean; volumeGate?: Promise<void> } = {}) {
  const order: string[] = [];
  const api = {
    async call(method: string) {
      order.push(method);
      return header;
    },
    async binary(method: string, req: { axis?: 0 | 1 | 2; index?: number }, o?: { signal?: AbortSignal }) {
      order.push(method === 'cases.sliceData' ? `slice ${req.axis}/${req.index}` : method);
      if (method === 'cases.sliceData') {
        if (opts.failSlices) throw new Error('no slice for you');
        return bytesOf(extractSlice(image.data as Int16Array, image.dims, req.axis!, req.index!));
      }
      await opts.volumeGate;
      o?.signal?.throwIfAborted();
      return bytesOf(image.data as Int16Array);
    },
    onEvent: () => () => {},
    upload: async () => {
      throw new Error('not here');
    },
  } as unknown as DeformuxApi;
  return { api, order };
}

describe('opening a case', () => {
  it('asks for the header, then the axial, sagittal and coronal slices, then the volume', async () => {
    const { api, order } = fakeApi();
    const slices: Record<string, Int16Array> = {};
    const progress: number[] = [];
    const { header: h, voxels } = await loadCase(api, 'c1', {
      signal: new AbortController().signal,
      placeOf: () => [1, 3, 2],
      onSlice: (view, data) => (slices[view] = data as Int16Array),
      onProgress: (f) => progress.push(f),
    });
    expect(h).toEqual(header);
    expect(Array.from(voxels)).toEqual(Array.from(image.data));
    // The remembered voxel (1, 3, 2) picks the slices: k = 2 axial, i = 1 sagittal, j = 3 coronal.
    expect(order).toEqual(['cases.open', 'slice 2/2', 'slice 0/1', 'slice 1/3', 'cases.volumeData']);
    expect(Object.keys(slices).sort()).toEqual(['axial', 'coronal', 'sagittal']);
    expect(Array.from(slices.axial)).toEqual(Array.from(extractSlice(image.data, image.dims, 2, 2)));
    expect(Array.from(slices.sagittal)).toEqual(Array.from(extractSlice(image.data, image.dims, 0, 1)));
  });

  it('opens at the centre voxel without a remembered place, and a failing slice costs only the preview', async () => {
    const { api, order } = fakeApi({ failSlices: true });
    const seen: string[] = [];
    const { voxels } = await loadCase(api, 'c1', {
      signal: new AbortController().signal,
      onSlice: (view) => seen.push(view),
    });
    expect(voxels.length).toBe(6 * 5 * 4);
    expect(order.slice(1, 4)).toEqual(['slice 2/1', 'slice 0/2', 'slice 1/2']);
    expect(seen).toEqual([]);
  });

  it('stops when cancelled: the volume is not handed over', async () => {
    let open!: () => void;
    const { api } = fakeApi({ volumeGate: new Promise<void>((r) => (open = r)) });
    const abort = new AbortController();
    const loading = loadCase(api, 'c1', { signal: abort.signal });
    await new Promise((r) => setTimeout(r, 0));
    abort.abort();
    open();
    await expect(loading).rejects.toThrow(/abort/i);
  });
});

describe('preview layout', () => {
  it('shows each view as the radiological MPR does: R on the left, anterior and superior up', () => {
    // j runs posterior to anterior here (direction [0,-1,0]): the axial rows must be flipped to put A up.
    const planes = previewPlanes(header, [1, 3, 2]);
    expect(planes.axial).toMatchObject({ axis: 2, index: 2, count: 4, transpose: false, flipX: false, flipY: true });
    expect(planes.axial.markers).toEqual({ top: 'A', bottom: 'P', left: 'R', right: 'L' });
    expect(planes.sagittal).toMatchObject({ axis: 0, index: 1, transpose: false, flipX: true, flipY: true });
    expect(planes.sagittal.markers).toEqual({ top: 'S', bottom: 'I', left: 'A', right: 'P' });
    expect(planes.coronal).toMatchObject({ axis: 1, index: 3, transpose: false, flipX: false, flipY: true });
    expect([planes.coronal.widthMm, planes.coronal.heightMm]).toEqual([6 * 0.8, 4 * 2.5]);

    // Top-left pixel of the axial preview: i = 0 (patient right) and the most anterior row (j = 4).
    const axial = extractSlice(image.data, image.dims, 2, 2);
    const px = previewPixels(axial, planes.axial, { width: 10_000, center: 0 });
    const grey = (v: number) => Math.round(((v + 5000) * 255) / 10_000);
    expect(px[0]).toBe(grey(huPattern(0, 4, 2)));
    expect(px[(5 * 6 - 1) * 4]).toBe(grey(huPattern(5, 0, 2)));
  });

  it('maps the window linearly and fits the slice whole, centred', () => {
    const plane = previewPlanes(header, [0, 0, 0]).axial;
    const px = previewPixels(
      Int16Array.from({ length: 30 }, (_, n) => (n < 15 ? -1000 : 1000)),
      plane,
      {
        width: 400,
        center: 40,
      },
    );
    expect(new Set(Array.from(px).filter((_, n) => n % 4 === 0))).toEqual(new Set([0, 255]));
    // 6 × 0.8 mm across, 5 × 0.9 mm down, in a 100 × 50 canvas: height decides.
    const r = fitRect(100, 50, plane);
    expect(r.h).toBeCloseTo(50);
    expect(r.w).toBeCloseTo((50 * 4.8) / 4.5);
    expect(r.x).toBeCloseTo((100 - r.w) / 2);
    expect(r.y).toBeCloseTo(0);
  });
});
