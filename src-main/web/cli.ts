// `npm run web -- --port 0 --project DIR`: opens (or creates the demo in) a project and serves it.
import { resolve } from 'node:path';
import { ProjectHost } from '../api/project-host';
import { openProjectOrDemo } from '../demo/open';
import type { Vec3 } from '../imaging/volume';
import type { ProjectStore } from '../store/project';
import { startWebServer } from './server';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const DEFAULT_DEMO_DIR = resolve(REPO_ROOT, '.demo-project');

const USAGE = `Usage: npm run web -- [--port N] [--project DIR] [--schema kidney|pancreas] [--demo-cases N] [--demo-dims I,J,K] [--renderer DIR]

  --port N          port on 127.0.0.1 (0 = any free port; default 0)
  --project DIR     project folder; an empty or missing folder gets the synthetic demo project
                    (default ${DEFAULT_DEMO_DIR})
  --schema S        kidney or pancreas: the label schema of a new project (default kidney)
  --demo-cases N    cases in a newly created demo project (default 4; 0 = an empty project)
  --demo-dims I,J,K phantom size for a newly created demo project (default: the phantom's own)
  --demo-spacing X,Y,Z  phantom voxel spacing in mm for a newly created demo project
  --renderer DIR    built renderer folder (default out/renderer)
  --progress        report demo-project creation on stderr (stdout stays one line)`;

export interface WebCliArgs {
  port: number;
  projectDir: string;
  demoCases: number;
  schema?: 'kidney' | 'pancreas';
  demoDims?: Vec3;
  demoSpacingMm?: Vec3;
  rendererDir: string;
  progress: boolean;
}

export class WebUsageError extends Error {}

export function parseWebArgs(argv: string[]): WebCliArgs | 'help' {
  const args: WebCliArgs = {
    port: 0,
    projectDir: DEFAULT_DEMO_DIR,
    demoCases: 4,
    rendererDir: resolve(REPO_ROOT, 'out/renderer'),
    progress: false,
  };
  for (let n = 0; n < argv.length; n++) {
    const flag = argv[n];
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--progress') {
      args.progress = true;
      continue;
    }
    const value = argv[n + 1];
    if (value === undefined) throw new WebUsageError(`${flag} needs a value.`);
    n++;
    const whole = (min: number, max: number): number => {
      const x = Number(value);
      if (!Number.isInteger(x) || x < min || x > max)
        throw new WebUsageError(`${flag} must be a whole number from ${min} to ${max}, not '${value}'.`);
      return x;
    };
    if (flag === '--port') args.port = whole(0, 65535);
    else if (flag === '--project') args.projectDir = resolve(value);
    else if (flag === '--demo-cases') args.demoCases = whole(0, 100);
    else if (flag === '--schema') {
      if (value !== 'kidney' && value !== 'pancreas')
        throw new WebUsageError(`--schema must be kidney or pancreas, not '${value}'.`);
      args.schema = value;
    } else if (flag === '--renderer') args.rendererDir = resolve(value);
    else if (flag === '--demo-dims') {
      const dims = value.split(',').map(Number);
      if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d >= 8 && d <= 2048)) {
        throw new WebUsageError(
          `--demo-dims must be three whole numbers from 8 to 2048 like 256,256,128, not '${value}'.`,
        );
      }
      args.demoDims = dims as Vec3;
    } else if (flag === '--demo-spacing') {
      const mm = value.split(',').map(Number);
      if (mm.length !== 3 || !mm.every((x) => Number.isFinite(x) && x > 0 && x <= 50)) {
        throw new WebUsageError(
          `--demo-spacing must be three spacings in mm (0 to 50] like 0.8,0.8,1.5, not '${value}'.`,
        );
      }
      args.demoSpacingMm = mm as Vec3;
    } else throw new WebUsageError(`unknown option '${flag}'.`);
  }
  return args;
}

export async function main(argv: string[]): Promise<number> {
  let args: WebCliArgs | 'help';
  try {
    args = parseWebArgs(argv);
  } catch (err) {
    console.error(`deformux web: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  let store: ProjectStore;
  try {
    const onProgress = args.progress ? (_f: number, message: string) => console.error(message) : undefined;
    store = await openProjectOrDemo(args.projectDir, {
      demoCases: args.demoCases,
      schema: args.schema,
      demoDims: args.demoDims,
      onProgress,
    });
  } catch (err) {
    console.error(`deformux web: ${(err as Error).message}`);
    return 2;
  }
  const host = new ProjectHost(store);
  const handlers = host.handlers;
  let server: Awaited<ReturnType<typeof startWebServer>>;
  try {
    server = await startWebServer({ handlers, rendererDir: args.rendererDir, port: args.port });
  } catch (err) {
    await host.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE' ? 'is in use by another program; pick another or use --port 0' : (err as Error).message;
    console.error(`deformux web: port ${args.port} on 127.0.0.1 ${why}.`);
    return 2;
  }
  // Exactly one line on stdout: tests and scripts read the URL from it.
  console.log(`Serving DeformUX Annotator at ${server.url}`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // Running fine-tunes pause with a checkpoint (they resume next session); pre-labels stop.
  await server.close();
  await host.close();
  return 0;
}
