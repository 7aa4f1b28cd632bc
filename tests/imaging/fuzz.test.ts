// The deterministic fuzz corpus (helpers/fuzz-corpus.ts) through `deformux convert`'s own entry point:
// no crash, no hang, every refusal names the input, accepted outputs are sane, and valid-but-unusual
// files load exactly. `npm test` runs a representative slice; DEFORMUX_FUZZ=full runs all of it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as convert } from '../../src-main/cli/commands/convert';
import { readNifti } from '../../src-main/imaging/nifti';
import { parseNiftiHeader } from '../../src-main/imaging/nifti-header';
import type { Volume } from '../../src-main/imaging/volume';
import { InputError } from '../../src-main/imaging/volume';
import { fuzzCorpus } from './helpers/fuzz-corpus';
import type { FuzzCase } from './helpers/fuzz-corpus';
import { makeTempDir } from './helpers/tools';

const FULL = process.env.DEFORMUX_FUZZ === 'full';
/** Far above any case's time (a few ms to ~1 s for the bomb): beyond it, the reader hangs. */
const HANG_MS = 15_000;

const tmp = makeTempDir('fuzz');
afterAll(() => tmp.cleanup());
beforeAll(() => {
  // convert prints a line per file and notes on skipped files; the assertions look at results instead.
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});

function materialise(c: FuzzCase, n: number): string {
  const dir = join(tmp.dir, String(n));
  mkdirSync(dir);
  if (c.input.kind === 'nifti') {
    const path = join(dir, c.input.name);
    writeFileSync(path, c.input.bytes);
    return path;
  }
  const folder = join(dir, c.input.name);
  mkdirSync(folder);
  for (const f of c.input.files) writeFileSync(join(folder, f.name), f.bytes);
  return folder;
}

/** The dims the header declares, when it can be parsed at all (for the "dims as declared" check). */
function declaredDims(bytes: Uint8Array): number[] | null {
  try {
    const head =
      bytes[0] === 0x1f && bytes[1] === 0x8b
        ? zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
        : bytes;
    return parseNiftiHeader(head, 'declared').dims;
  } catch {
    return null;
  }
}

type Outcome = { ok: true; volume: Volume; ms: number } | { ok: false; error: unknown; ms: number };

async function convertOne(input: string, out: string): Promise<Outcome> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: no answer within ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    const code = await Promise.race([convert([input, '--out', out]), hang]);
    if (code !== 0) throw new Error(`convert returned ${code}`);
    return { ok: true, volume: await readNifti(out), ms: performance.now() - t0 };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** What is wrong with one outcome, or null. */
function problemOf(c: FuzzCase, input: string, o: Outcome): string | null {
  if (!o.ok) {
    const e = o.error;
    if (!(e instanceof InputError)) return `crashed (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)})`;
    if (!e.message.includes(input)) return `refusal does not name the input: ${e.message}`;
    if (c.exact) return `a valid file was refused: ${e.message}`;
    return null;
  }
  const v = o.volume;
  if (c.input.kind === 'nifti') {
    const dims = declaredDims(c.input.bytes);
    if (dims && dims.join() !== v.dims.join())
      return `dims ${v.dims.join('×')} but the header declares ${dims.join('×')}`;
  }
  if (v.data.length !== v.dims[0] * v.dims[1] * v.dims[2]) return 'voxel count differs from dims';
  for (const x of [...v.spacingMm, ...v.originMm, ...v.direction])
    if (!Number.isFinite(x)) return `geometry is not finite (${v.spacingMm}, ${v.originMm}, ${v.direction})`;
  if (v.spacingMm.some((s) => s <= 0)) return `spacing ${v.spacingMm} is not positive`;
  const isFloat = v.data instanceof Float32Array || v.data instanceof Float64Array;
  // Integer inputs cannot hold a NaN; a NaN or infinity in the output came from our own arithmetic.
  const storedFloat = c.input.kind === 'nifti' && ['float32', 'float64'].includes(declaredVoxelType(c.input.bytes));
  if (isFloat && !storedFloat)
    for (let p = 0; p < v.data.length; p++) if (!Number.isFinite(v.data[p])) return `voxel ${p} is ${v.data[p]}`;
  if (c.exact) return differenceFrom(c.exact, v);
  return null;
}

function declaredVoxelType(bytes: Uint8Array): string {
  try {
    const head =
      bytes[0] === 0x1f && bytes[1] === 0x8b
        ? zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
        : bytes;
    return parseNiftiHeader(head, 'declared').voxelType;
  } catch {
    return '';
  }
}

function differenceFrom(want: Volume, got: Volume): string | null {
  if (want.dims.join() !== got.dims.join()) return `dims ${got.dims} instead of ${want.dims}`;
  for (let p = 0; p < want.data.length; p++)
    if (want.data[p] !== got.data[p]) return `voxel ${p} is ${got.data[p]} instead of ${want.data[p]}`;
  const close = (a: readonly number[], b: readonly number[], tol: number) =>
    a.every((x, n) => Math.abs(x - b[n]) <= tol);
  if (!close(want.spacingMm, got.spacingMm, 1e-4)) return `spacing ${got.spacingMm} instead of ${want.spacingMm}`;
  if (!close(want.originMm, got.originMm, 1e-3)) return `origin ${got.originMm} instead of ${want.originMm}`;
  if (!close(want.direction, got.direction, 1e-5)) return `direction ${got.direction} instead of ${want.direction}`;
  return null;
}

describe(`fuzz corpus through deformux convert (${FULL ? 'full' : 'slice; DEFORMUX_FUZZ=full for all'})`, () => {
  const corpus = fuzzCorpus(FULL);

  it('has a representative slice: every family, NIfTI and DICOM, and every valid-but-unusual file', () => {
    const names = corpus.map((c) => c.input.name);
    for (const family of [
      'field-',
      'truncated-',
      'gzip-truncated',
      'flips-',
      'gzip-bomb',
      'unusual-',
      'transfer-syntax=',
      'corrupt-',
      'pixeldata-',
      'slice-header-flips',
      'spacing=',
      'slope=',
    ])
      expect(
        names.some((n) => n.startsWith(family)),
        family,
      ).toBe(true);
    expect(corpus.filter((c) => c.exact).length).toBeGreaterThanOrEqual(13);
    if (!FULL) expect(corpus.length).toBeLessThan(700);
  });

  it('no crash, no hang, refusals name the input, accepted outputs are sane, unusual files load exactly', async () => {
    const problems: string[] = [];
    let accepted = 0;
    let slowest = { ms: 0, name: '' };
    for (const [n, c] of corpus.entries()) {
      const input = materialise(c, n);
      const o = await convertOne(input, join(tmp.dir, `${n}.out.nii.gz`));
      if (o.ok) accepted++;
      if (o.ms > slowest.ms) slowest = { ms: o.ms, name: c.input.name };
      const problem = problemOf(c, input, o);
      if (problem) problems.push(`${c.input.kind} ${c.input.name}: ${problem}`);
    }
    console.info(
      `fuzz: ${corpus.length} inputs, ${accepted} accepted, ${corpus.length - accepted} refused; slowest ${slowest.name} ${slowest.ms.toFixed(0)} ms`,
    );
    expect(problems).toEqual([]);
  }, 1_800_000);
});
