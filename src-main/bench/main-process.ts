// `deformux bench main-process`: what the app's main process (the API handlers and the job manager, as both
// shells run them) costs during a pre-label and an autosave: the longest time its event loop was blocked
// (perf_hooks monitorEventLoopDelay), the peak resident memory of the process (the engine worker thread
// included: it lives in the same process) and of the main isolate's heap, and the pre-label's wall time with
// a cold and then a warm engine.
//
//   bench main-process [--input FILE.nii.gz|DICOMDIR] [--dims 512,512,300] [--saves N] [--saves-only] [--json]
//
// Without --input the case is a synthetic phantom of --dims at 0.8×0.8×1 mm (default 512×512×300).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createApiHandlers, jobManagerOf } from '../api/handlers';
import type { ApiEvent } from '../api/contract';
import { readVolume } from '../imaging/read';
import type { Vec3, Volume } from '../imaging/volume';
import { generatePhantom } from '../phantom';
import { ProjectStore } from '../store/project';

interface Phase {
  ms: number;
  /** Longest event-loop delay seen while the phase ran (ms): how long the main process could not answer. */
  mainLoopMaxBlockMs: number;
  peakRssMb: number;
  peakMainHeapMb: number;
}

interface Args {
  input?: string;
  dims: Vec3;
  saves: number;
  json: boolean;
  savesOnly: boolean;
}

function parse(argv: string[]): Args {
  const out: Args = { dims: [512, 512, 300], saves: 3, json: false, savesOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--input') out.input = argv[++i];
    else if (a === '--dims') {
      const d = (argv[++i] ?? '').split(',').map(Number);
      if (d.length !== 3 || !d.every((v) => Number.isInteger(v) && v > 0)) throw new Error('--dims needs i,j,k');
      out.dims = d as Vec3;
    } else if (a === '--saves') out.saves = Math.max(1, Number(argv[++i]) | 0);
    else if (a === '--json') out.json = true;
    else if (a === '--saves-only') out.savesOnly = true;
    else throw new Error(`bench main-process: unknown option '${a}'`);
  }
  if (out.savesOnly && out.input) throw new Error('bench main-process: --saves-only uses the phantom (no --input)');
  return out;
}

/** Runs `fn` while sampling the event-loop delay and the memory every 10 ms. */
async function measure(fn: () => Promise<void>): Promise<Phase> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 10);
  loop.enable();
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    loop.disable();
    clearInterval(timer);
    sample();
  }
  return {
    ms: Math.round(performance.now() - t0),
    mainLoopMaxBlockMs: Math.round(loop.max / 1e6),
    peakRssMb: Math.round(peakRss / 2 ** 20),
    peakMainHeapMb: Math.round(peakHeap / 2 ** 20),
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  const dir = mkdtempSync(join(tmpdir(), 'deformux-bench-main-'));
  const store = ProjectStore.create(join(dir, 'proj'), { schema: 'kidney' });
  const api = createApiHandlers({ store });
  try {
    const phantom = args.input
      ? null
      : generatePhantom({ seed: 1, schema: 'kidney', dims: args.dims, spacingMm: [0.8, 0.8, 1] });
    const image: Volume = phantom ? phantom.image : await readVolume(args.input!);
    const { id: caseId } = await store.addCase(image);
    const done = new Map<string, (e: ApiEvent) => void>();
    api.onEvent((e) => {
      if (e.name !== 'job.done') return;
      const payload = e.payload as { jobId: string; ok: boolean; message: string };
      done.get(payload.jobId)?.(e);
    });
    const prelabel = async () => {
      const { jobId } = await api.call('jobs.prelabel', { caseIds: [caseId] });
      const e = await new Promise<ApiEvent>((resolve) => done.set(jobId, resolve));
      const payload = e.payload as { ok: boolean; message: string };
      if (!payload.ok) throw new Error(`pre-label failed: ${payload.message}`);
    };
    // --saves-only: the phantom's own label stands in for the pre-label (no engine: profiles the save path).
    const cold = args.savesOnly ? null : await measure(prelabel);
    const warm = args.savesOnly ? null : await measure(prelabel);
    if (args.savesOnly) await store.addLabelVersion(caseId, phantom!.label, { kind: 'prediction' });
    // Autosaves as the page sends them: a stroke's worth of changed voxels (sorted indices, then values), and
    // once the whole map (what the page sends when more than a fraction of the volume changed).
    const versions = await api.call('cases.labelVersions', { caseId });
    let parent = versions.at(-1)!.version;
    const label = new Uint8Array(await api.binary('cases.labelData', { caseId, version: parent }));
    const n = label.length;
    const saves = await measure(async () => {
      for (let r = 0; r < args.saves; r++) {
        const changed = new Set<number>();
        for (let p = r * 5000; p < r * 5000 + 20000; p++) changed.add((p * 7919) % n);
        const indices = Uint32Array.from(changed).sort();
        const body = new Uint8Array(indices.length * 5);
        new Uint32Array(body.buffer, 0, indices.length).set(indices);
        for (let m = 0; m < indices.length; m++) {
          label[indices[m]] = 2;
          body[indices.length * 4 + m] = 2;
        }
        const v = await api.upload(
          'cases.saveLabel',
          {
            caseId,
            parentVersion: parent,
            submit: false,
            activeEditSeconds: 2,
            encoding: 'sparse',
            changes: indices.length,
          },
          body,
        );
        parent = v.version;
      }
    });
    const full = await measure(async () => {
      const v = await api.upload(
        'cases.saveLabel',
        { caseId, parentVersion: parent, submit: false, activeEditSeconds: 2 },
        label.slice(),
      );
      parent = v.version;
    });
    const result = {
      bench: 'main-process',
      case: args.input ?? `phantom ${image.dims.join('×')}`,
      dims: image.dims,
      prelabelCold: cold,
      prelabelWarm: warm,
      autosaveSparse: { ...saves, saves: args.saves, msPerSave: Math.round(saves.ms / args.saves) },
      saveFullMap: full,
    };
    console.log(args.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await jobManagerOf(api)?.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
