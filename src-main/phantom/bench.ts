// Phantom generation benchmark: times generatePhantom at the default size and prints JSON.
// Run: npx tsx src-main/phantom/bench.ts [--cases N] [--dims I,J,K]   (or call benchPhantom from `deformux bench`)
import { pathToFileURL } from 'node:url';
import type { Vec3 } from '../imaging/volume';
import { DEFAULT_DIMS, type PhantomSchema, generatePhantom } from './generate';

export interface PhantomBenchResult {
  bench: 'phantom';
  dims: Vec3;
  spacingMm: Vec3;
  schema: PhantomSchema;
  cases: number;
  /** Wall time per case (ms), after one warm-up case that is not counted. */
  msPerCase: { median: number; min: number; max: number };
  /** CPU time of this process per case (ms, median): less sensitive than wall time to a busy machine. */
  cpuMsPerCase: number;
  megavoxelsPerSecond: number;
  node: string;
}

export function benchPhantom(opts: { cases?: number; dims?: Vec3; schema?: PhantomSchema } = {}): PhantomBenchResult {
  const cases = opts.cases ?? 5;
  const dims = opts.dims ?? DEFAULT_DIMS;
  const schema = opts.schema ?? 'kidney';
  // Warm-up (JIT compilation is not what we measure); it also tells the spacing the dims imply.
  const { spacingMm } = generatePhantom({ seed: 1000, schema, dims }).image;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let n = 0; n < cases; n++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    generatePhantom({ seed: n + 1, schema, dims });
    const c1 = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpu.push((c1.user + c1.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    bench: 'phantom',
    dims,
    spacingMm,
    schema,
    cases,
    msPerCase: { median: round(median), min: round(sorted[0]), max: round(sorted[sorted.length - 1]) },
    cpuMsPerCase: round(cpu[Math.floor(cpu.length / 2)]),
    megavoxelsPerSecond: round((dims[0] * dims[1] * dims[2]) / 1e6 / (median / 1000)),
    node: process.version,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const cases = Number(value('--cases') ?? 5);
  const dimsText = value('--dims');
  const dims = dimsText ? (dimsText.split(',').map(Number) as Vec3) : undefined;
  console.log(JSON.stringify(benchPhantom({ cases, dims })));
}
