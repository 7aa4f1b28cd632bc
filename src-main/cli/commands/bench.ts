// `deformux bench <name> [options]`: dispatches to one benchmark module in src-main/bench (add one: an entry here).
import { UsageError } from '../index';

interface BenchModule {
  /** Runs the benchmark with the arguments after its name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

interface BenchEntry {
  summary: string;
  load: () => Promise<BenchModule>;
  /** Arguments `bench all` runs it with (left out of `all` when absent). */
  inAll?: string[];
}

const BENCHES: Record<string, BenchEntry> = {
  deform: {
    summary: 'native DeformDwConv3D forward/backward (--shape N,D,H,W,C --k 3 --groups G --device cpu|cuda)',
    load: async () => ({ run: (await import('../../bench/kernels')).runDeform }),
  },
  conv3d: {
    summary: 'native conv3d forward + both backprops (--shape N,D,H,W,Cin --filter kd,kh,kw,Cout --stride s)',
    load: async () => ({ run: (await import('../../bench/kernels')).runConv3d }),
  },
  model: {
    summary: 'DeformUX-Net forward and training step (--config lite|paper|FILE --patch 96 --repeats N --profile)',
    load: () => import('../../bench/model'),
    inAll: ['--config', 'lite', '--patch', '96', '--repeats', '1'],
  },
  predict: {
    summary:
      'pre-label stage times (--input FILE|DICOMDIR --model DIR|--starter kidney; threshold stand-in without a model)',
    load: () => import('../../bench/predict'),
  },
  'real-ct': {
    summary:
      'pre-label the real abdomen CT of ../shared/data/real (full scan and 30-slice crop); Dice per class vs TotalSegmentator, lesion false positives (--case full|crop|all)',
    load: () => import('../../bench/real-ct'),
  },
  'finetune-real': {
    summary:
      'fine-tune a starter on the shared real crop through the default path; Dice before/after on held-out phantoms and the real scan',
    load: () => import('../../bench/finetune-real'),
  },
  'main-process': {
    summary:
      "the app's main process during a pre-label (cold, warm) and autosaves: longest event-loop block, peak memory (--input FILE | --dims 512,512,300)",
    load: () => import('../../bench/main-process'),
  },
  finetune: {
    summary:
      'Dice on shifted-domain phantoms before/after fine-tuning (--model DIR --train 5 --test 10 --steps N --fast)',
    load: () => import('../../bench/finetune'),
  },
};

function usage(): string {
  const names = Object.keys(BENCHES);
  const width = Math.max(...names.map((n) => n.length), 3);
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${BENCHES[n].summary}`);
  return `Usage: deformux bench <name> [options] [--json]\n\nBenchmarks:\n${lines.join('\n')}\n  ${'all'.padEnd(width)}  the kernel set against tfjs's own kernels (one JSON line each with --json), then the entries marked for it\n\nRun 'deformux bench <name> --help' for a benchmark's options.`;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === 'all') {
    const json = rest.includes('--json');
    await (await import('../../bench/kernels')).kernelSuite(json);
    for (const entry of Object.values(BENCHES)) {
      if (!entry.inAll) continue;
      const code = await (await entry.load()).run([...entry.inAll, ...(json ? ['--json'] : [])]);
      if (code !== 0) return code;
    }
    return 0;
  }
  const entry = BENCHES[name];
  if (!entry) throw new UsageError(`unknown benchmark '${name}'.\n\n${usage()}`);
  return (await entry.load()).run(rest);
}
