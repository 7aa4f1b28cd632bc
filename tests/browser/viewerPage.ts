// Page helpers for the viewer tests: render counters, canvas pixel signatures, the API over HTTP.
// Callbacks passed to page.evaluate run in Chromium; they reach the DOM through minimal local types
// because the tests' tsconfig has no DOM library.
import { expect, type APIRequestContext, type Page } from '@playwright/test';

export const VIEWS = ['axial', 'sagittal', 'coronal'] as const;
export type View = (typeof VIEWS)[number];

interface MiniElement {
  getAttribute(name: string): string | null;
  querySelector(sel: string): MiniElement | null;
}
interface MiniCanvas extends MiniElement {
  width: number;
  height: number;
}
interface MiniContext {
  drawImage(c: MiniCanvas, x: number, y: number, w: number, h: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
}
interface MiniDocument {
  querySelector(sel: string): MiniElement | null;
  createElement(tag: 'canvas'): MiniCanvas & { getContext(kind: '2d'): MiniContext | null };
}

export async function renderCount(page: Page, view: View): Promise<number> {
  return page.evaluate((v) => {
    const doc = (globalThis as unknown as { document: MiniDocument }).document;
    const el = doc.querySelector(`[data-testid="viewport-${v}"] [data-render-count]`);
    return Number(el?.getAttribute('data-render-count') ?? '0');
  }, view);
}

export async function renderCounts(page: Page): Promise<Record<View, number>> {
  const counts = await Promise.all(VIEWS.map((v) => renderCount(page, v)));
  return { axial: counts[0], sagittal: counts[1], coronal: counts[2] };
}

/** Waits for Cornerstone's IMAGE_RENDERED (counted on the element) beyond `after` in a view. */
export async function waitForRender(page: Page, view: View, after: number): Promise<void> {
  await expect.poll(() => renderCount(page, view), { message: `${view} view renders` }).toBeGreaterThan(after);
}

/** The view's canvas scaled to 32×32 grey levels (0..255), row by row. */
export async function signature(page: Page, view: View): Promise<number[]> {
  return page.evaluate((v) => {
    const doc = (globalThis as unknown as { document: MiniDocument }).document;
    const canvas = doc.querySelector(`[data-testid="viewport-${v}"] canvas`) as MiniCanvas | null;
    if (!canvas) throw new Error(`no canvas in the ${v} view`);
    const small = doc.createElement('canvas');
    small.width = 32;
    small.height = 32;
    const ctx = small.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.drawImage(canvas, 0, 0, 32, 32);
    const rgba = ctx.getImageData(0, 0, 32, 32).data;
    const grey: number[] = [];
    for (let p = 0; p < 32 * 32; p++) grey.push(Math.round((rgba[p * 4] + rgba[p * 4 + 1] + rgba[p * 4 + 2]) / 3));
    return grey;
  }, view);
}

export function stats(sig: number[]): { mean: number; std: number; nonBlackFraction: number } {
  const mean = sig.reduce((a, b) => a + b, 0) / sig.length;
  const std = Math.sqrt(sig.reduce((a, b) => a + (b - mean) ** 2, 0) / sig.length);
  return { mean, std, nonBlackFraction: sig.filter((g) => g > 8).length / sig.length };
}

export function meanAbsDiff(a: number[], b: number[]): number {
  return a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0) / a.length;
}

export async function sliceIndex(page: Page, view: View): Promise<number> {
  const v = await page.getByTestId(`viewport-${view}`).getAttribute('data-slice-index');
  return Number(v);
}

/** One JSON call of the typed API over HTTP, as the renderer makes it (token header). */
export async function apiCall<T>(
  request: APIRequestContext,
  origin: string,
  token: string,
  method: string,
  body: unknown,
): Promise<T> {
  const res = await request.post(`${origin}/api/${method}`, { data: body, headers: { 'x-deformux-token': token } });
  expect(res.status(), `${method}: ${await res.text().catch(() => '')}`).toBe(200);
  return (await res.json()) as T;
}

export async function apiBinary(
  request: APIRequestContext,
  origin: string,
  token: string,
  method: string,
  body: unknown,
): Promise<Buffer> {
  const res = await request.post(`${origin}/api/${method}`, { data: body, headers: { 'x-deformux-token': token } });
  expect(res.status()).toBe(200);
  return res.body();
}
