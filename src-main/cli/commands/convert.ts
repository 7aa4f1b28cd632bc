// `deformux convert IN --out OUT.nii[.gz] [--series UID]`: a DICOM folder/file or NIfTI file to NIfTI.
import { UsageError } from '../index';
import { writeNifti } from '../../imaging/nifti';
import { listSeries, readVolume } from '../../imaging/read';

const HELP = `Usage: deformux convert IN --out OUT.nii.gz [--series UID] [--list]

Converts a DICOM folder (or one DICOM file's series) or a NIfTI file to NIfTI.
The output keeps the exact voxel grid and affine (RAS on disk, sform and qform both set);
.gz at the end of OUT means gzip.

Options:
  --out PATH      output file (.nii or .nii.gz), written atomically
  --series UID    the SeriesInstanceUID to read when IN holds several series
  --list          list the series in IN and exit
  -h, --help      show this help`;

interface Args {
  input: string;
  out?: string;
  series?: string;
  list: boolean;
}

function parse(argv: string[]): Args | null {
  let input: string | undefined;
  const args: Partial<Args> = { list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') return null;
    else if (a === '--out' || a === '-o') args.out = value();
    else if (a.startsWith('--out=')) args.out = a.slice(6);
    else if (a === '--series') args.series = value();
    else if (a.startsWith('--series=')) args.series = a.slice(9);
    else if (a === '--list') args.list = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a} (see --help)`);
    else if (input === undefined) input = a;
    else throw new UsageError(`one input only, got '${input}' and '${a}'`);
  }
  if (input === undefined) throw new UsageError('missing IN (a DICOM folder or a NIfTI file); see --help');
  if (!args.list) {
    if (!args.out) throw new UsageError('missing --out OUT.nii.gz');
    if (!/\.nii(\.gz)?$/i.test(args.out)) throw new UsageError(`--out must end in .nii or .nii.gz, got '${args.out}'`);
  }
  return { ...args, input } as Args;
}

export async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (!args) {
    console.log(HELP);
    return 0;
  }
  if (args.list) {
    for (const s of await listSeries(args.input)) {
      console.log(
        `${s.uid}\t#${s.seriesNumber ?? '?'}\t${s.modality}\t${s.slices} slices${s.localizers ? ` (+${s.localizers} localizers)` : ''}\t${s.columns}×${s.rows}\t${s.description}`,
      );
    }
    return 0;
  }
  const started = performance.now();
  const volume = await readVolume(args.input, {
    seriesInstanceUid: args.series,
    onWarning: (m) => console.error(`deformux convert: note: ${m}`),
  });
  await writeNifti(args.out!, volume);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const sp = volume.spacingMm.map((x) => x.toFixed(3)).join(' × ');
  console.log(
    `Wrote ${args.out}: ${volume.dims.join('×')} voxels, ${sp} mm, ${volume.data.constructor.name.replace('Array', '')}, in ${seconds} s`,
  );
  return 0;
}
