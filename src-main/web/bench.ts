// Benchmark (JSON): storing a phantom case and serving its voxels through the web shell, cold and warm;
// and what one open costs the server in a new session: inflating the .nii.gz, or reading the raw copy
// (store/raw-cache.ts), whole or just the middle axial slice for the viewer's preview.
// Run: node --import tsx src-main/web/bench.ts [--dims 512,512,300] [--spacing 0.75,0.75,1]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createApiHandlers } from '../api/handlers';
import type { Vec3 } from '../imaging/volume';
import { generatePhantom } from '../phantom';
import { ProjectStore } from '../store/project';
import { RAW_CACHE_DIR } from '../store/raw-cache';
import { startWebServer } from './server';

export interface WebBenchResult {
  bench: 'web-volume';
  dims: Vec3;
  payloadMiB: number;
  generateMs: number;
  addCaseMs: number;
  openMs: number;
  volumeColdMs: number;
  volumeWarmMs: number;
  warmMiBPerS: number;
  /** Whether the case got a raw copy (images of at least RAW_CACHE_MIN_BYTES do). */
  rawCopy: boolean;
  /** A new session's whole-image load from the raw copy (null without one) and from the .nii.gz. */
  loadFromCopyMs: number | null;
  loadFromNiftiMs: number;
  /** A new session's middle axial slice, before anything else of the case was read. */
  axialSliceMs: number;
}

function tuple(text: string | undefined, fallback: Vec3): Vec3 {
  if (!text) return fallback;
  const v = text.split(',').map(Number);
  if (v.length !== 3 || !v.every((x) => Number.isFinite(x) && x > 0))
    throw new Error(`expected three positive numbers, got '${text}'`);
  return v as Vec3;
}

export async function benchWebVolume(dims: Vec3, spacingMm: Vec3): Promise<WebBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'deformux-bench-web-'));
  const store = ProjectStore.create(join(dir, 'p'), { schema: 'kidney', synthetic: true });
  const server = await startWebServer({
    handlers: createApiHandlers({ store }),
    rendererDir: join(dir, 'none'),
    port: 0,
  });
  try {
    let t = performance.now();
    const { image } = generatePhantom({ seed: 1, schema: 'kidney', dims, spacingMm });
    const generateMs = performance.now() - t;
    t = performance.now();
    const { id } = await store.addCase(image, { synthetic: true });
    const addCaseMs = performance.now() - t;
    // node:http, not fetch: undici's body assembly is several times slower than a browser's.
    const post = (method: string) =>
      new Promise<{ ms: number; bytes: number }>((resolvePost, rejectPost) => {
        const started = performance.now();
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            path: `/api/${method}`,
            method: 'POST',
            headers: { host: `127.0.0.1:${server.port}`, 'x-deformux-token': server.token },
          },
          (res) => {
            let bytes = 0;
            res.on('data', (chunk: Buffer) => (bytes += chunk.length));
            res.on('end', () =>
              res.statusCode === 200
                ? resolvePost({ ms: performance.now() - started, bytes })
                : rejectPost(new Error(`${method}: HTTP ${res.statusCode}`)),
            );
          },
        );
        req.on('error', rejectPost);
        req.end(JSON.stringify({ caseId: id }));
      });
    const open = await post('cases.open');
    const cold = await post('cases.volumeData');
    const warm = await post('cases.volumeData');
    const payloadMiB = warm.bytes / 2 ** 20;
    /** Milliseconds of `f` on the project opened afresh (a new session: nothing in memory). */
    const timed = async (f: (s: ProjectStore) => Promise<unknown>): Promise<number> => {
      const fresh = ProjectStore.open(store.dir);
      try {
        const started = performance.now();
        await f(fresh);
        const ms = Math.round(performance.now() - started);
        // A copy the load writes in the background is not part of it, but must not outlive the folder.
        await fresh.rawCache.settled();
        return ms;
      } finally {
        fresh.close();
      }
    };
    const rawCopy = existsSync(join(store.dir, RAW_CACHE_DIR));
    const axialSliceMs = await timed((s) => s.loadImageSlice(id, 2, Math.floor(dims[2] / 2)));
    const loadFromCopyMs = rawCopy ? await timed((s) => s.loadImage(id)) : null;
    rmSync(join(store.dir, RAW_CACHE_DIR), { recursive: true, force: true });
    const loadFromNiftiMs = await timed((s) => s.loadImage(id));
    return {
      bench: 'web-volume',
      dims,
      payloadMiB: Math.round(payloadMiB * 1000) / 1000,
      generateMs: Math.round(generateMs),
      addCaseMs: Math.round(addCaseMs),
      openMs: Math.round(open.ms * 10) / 10,
      volumeColdMs: Math.round(cold.ms),
      volumeWarmMs: Math.round(warm.ms),
      warmMiBPerS: Math.round(payloadMiB / (warm.ms / 1000)),
      rawCopy,
      loadFromCopyMs,
      loadFromNiftiMs,
      axialSliceMs,
    };
  } finally {
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const result = await benchWebVolume(tuple(at('--dims'), [512, 512, 300]), tuple(at('--spacing'), [0.75, 0.75, 1]));
  console.log(JSON.stringify(result));
}
