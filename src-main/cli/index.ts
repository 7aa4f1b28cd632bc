// The `deformux` command line: one subcommand per file in ./commands, loaded on demand.
import { InputError } from '../imaging/volume';

export interface CliCommandModule {
  /** Runs the subcommand with the arguments after its name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load: () => Promise<CliCommandModule>;
}

// Add a subcommand: one line here, one file in ./commands exporting `run`.
const COMMANDS: Record<string, CommandEntry> = {
  convert: {
    summary: 'convert a DICOM folder or NIfTI file to NIfTI (.nii.gz)',
    load: () => import('./commands/convert'),
  },
  phantom: {
    summary: 'write synthetic abdominal CT phantoms (image + label NIfTI pairs)',
    load: () => import('./commands/phantom'),
  },
  bench: {
    summary: 'benchmarks (deform, conv3d, model, predict, all) as JSON',
    load: () => import('./commands/bench'),
  },
  forward: {
    summary: 'run a model folder on an NCDHW .npy input (optionally with gradients)',
    load: () => import('./commands/forward'),
  },
  predict: {
    summary: 'pre-label a CT (NIfTI file or DICOM folder) or a worklist folder with a model',
    load: () => import('./commands/predict'),
  },
  dicomweb: {
    summary: 'search a PACS, import a series, store a label as DICOM SEG (DICOMweb)',
    load: () => import('./commands/dicomweb'),
  },
  model: {
    summary: 'list, export or import a project model as one signed, de-identified file',
    load: () => import('./commands/model'),
  },
  train: {
    summary: 'train or fine-tune a DeformUX-Net on image/label NIfTI pairs',
    load: () => import('./commands/train'),
  },
};

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`);
  return `Usage: deformux <command> [options]\n\nDeformUX Annotator command line.\n\nCommands:\n${lines.join('\n')}\n\nRun 'deformux <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`deformux: unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (err) {
    // Bad input is the user's problem to fix: one clear line, no stack. Anything else is ours.
    if (
      err instanceof InputError ||
      (err instanceof Error &&
        (err.name === 'UsageError' || err.name === 'DicomwebError' || err.name === 'ModelFileError'))
    ) {
      console.error(`deformux ${name}: ${err.message}`);
      return 2;
    }
    console.error(`deformux ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

/** Thrown for bad command-line arguments; printed as one line with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
