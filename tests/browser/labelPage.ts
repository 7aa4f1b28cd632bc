// Helpers for the label editing tests: the case's image and labels over the API, voxel → page
// pixel mapping (our own LPS formula), and the renderer's label test hook.
import type { VolumeHeader } from '../../src-main/api/contract';
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { apiBinary, apiCall } from './viewerPage';

/** The geometry part of the API's VolumeHeader that these tests use. */
export type Header = Pick<VolumeHeader, 'caseId' | 'dims' | 'spacingMm' | 'originMm' | 'direction' | 'dataType'>;
export interface VersionRow {
  version: number;
  kind: string;
}

export interface CaseData {
  header: Header;
  image: Float64Array;
  versions: VersionRow[];
  /** The latest version's voxels (what the editor opens with). */
  labels: Uint8Array;
}

export interface Api {
  origin: string;
  token: string;
}

export async function caseData(request: APIRequestContext, api: Api, caseId: string): Promise<CaseData> {
  const header = await apiCall<Header>(request, api.origin, api.token, 'cases.open', { caseId });
  const bytes = await apiBinary(request, api.origin, api.token, 'cases.volumeData', { caseId });
  const n = header.dims[0] * header.dims[1] * header.dims[2];
  const image = new Float64Array(n);
  for (let v = 0; v < n; v++)
    image[v] =
      header.dataType === 'int16'
        ? bytes.readInt16LE(v * 2)
        : header.dataType === 'float32'
          ? bytes.readFloatLE(v * 4)
          : bytes[v];
  const versions = await apiCall<VersionRow[]>(request, api.origin, api.token, 'cases.labelVersions', { caseId });
  const labels = await labelData(request, api, caseId, versions.at(-1)!.version);
  return { header, image, versions, labels };
}

export async function labelData(
  request: APIRequestContext,
  api: Api,
  caseId: string,
  version: number,
): Promise<Uint8Array> {
  return new Uint8Array(await apiBinary(request, api.origin, api.token, 'cases.labelData', { caseId, version }));
}

/** LPS of continuous voxel coordinates: origin + Σ index·spacing·axis (independent of the renderer). */
export function world(h: Header, ijk: number[]): number[] {
  return [0, 1, 2].map(
    (r) => h.originMm[r] + ijk.reduce((s, x, a) => s + x * h.spacingMm[a] * h.direction[a * 3 + r], 0),
  );
}

/** The voxel axis the axial view slices (closest to superior). */
export function axialAxis(h: Header): number {
  return [0, 1, 2].reduce((b, a) => (Math.abs(h.direction[a * 3 + 2]) > Math.abs(h.direction[b * 3 + 2]) ? a : b), 0);
}

/** Page pixel position of continuous voxel coordinates in a view. */
export async function pageAt(page: Page, h: Header, view: string, ijk: number[]): Promise<{ x: number; y: number }> {
  const c = await page.evaluate(
    ([v, w]) =>
      (
        globalThis as unknown as { __deformuxViewer: { worldToCanvas(v: string, p: number[]): number[] } }
      ).__deformuxViewer.worldToCanvas(v as string, w as number[]),
    [view, world(h, ijk)] as const,
  );
  const box = (await page.getByTestId(`viewport-${view}`).boundingBox())!;
  return { x: box.x + c[0], y: box.y + c[1] };
}

interface LabelHook {
  counts(): number[];
  overlayCounts(): number[];
  caseId(): string | null;
  baseVersion(): number | null;
  dirty(): boolean;
  snapshot(): number[];
}

/** Calls the page's label test hook; null until the viewer (loaded after the first paint) has set it up. */
export async function hook<T>(page: Page, fn: keyof LabelHook): Promise<T> {
  return page.evaluate((f) => {
    const h = (globalThis as unknown as { __deformuxLabels?: Record<string, () => unknown> }).__deformuxLabels;
    return (h ? h[f]() : null) as T;
  }, fn);
}

export async function snapshot(page: Page): Promise<Uint8Array> {
  return Uint8Array.from(await hook<number[]>(page, 'snapshot'));
}

/** Waits until the editor holds the labels of `caseId` (and Cornerstone's copy agrees). */
export async function waitForLabels(page: Page, caseId: string): Promise<void> {
  await expect.poll(() => hook<string | null>(page, 'caseId')).toBe(caseId);
  await expect.poll(async () => (await hook<number[]>(page, 'counts')).length).toBeGreaterThan(0);
}

export function countOf(labels: ArrayLike<number>, value: number): number {
  let c = 0;
  for (let n = 0; n < labels.length; n++) if (labels[n] === value) c++;
  return c;
}

/** Indices where two maps differ. */
export function changedIndices(a: Uint8Array, b: Uint8Array): number[] {
  const out: number[] = [];
  for (let n = 0; n < a.length; n++) if (a[n] !== b[n]) out.push(n);
  return out;
}
