// `deformux phantom --out DIR --cases N --seed S ...`: writes synthetic CT + label NIfTI pairs and a manifest.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../index';
import { readNifti, writeNifti } from '../../imaging/nifti';
import { synthesizeFromLabelMap } from '../../phantom/labelmap';
import { InputError, type Vec3 } from '../../imaging/volume';
import { CONTRAST_PHASES, type ContrastPhase } from '../../phantom/hu';
import {
  DEFAULT_DIMS,
  DEFAULT_SPACING_MM,
  PHANTOM_GENERATOR_VERSION,
  PHANTOM_DOMAINS,
  PHANTOM_SCHEMAS,
  SCHEMA_LABELS,
  type PhantomDomain,
  type PhantomMeta,
  type PhantomSchema,
  generatePhantom,
} from '../../phantom/generate';
import { writeFileAtomic } from '../../util/atomic';

const HELP = `Usage: deformux phantom --out DIR [--cases N] [--seed S] [--schema kidney|pancreas]
                        [--spacing X,Y,Z] [--dims I,J,K] [--phase PHASE] [--noise-hu SIGMA]
                        [--domain standard|shifted|synth] [--label-map FILE]

Writes SYNTHETIC abdominal CT phantoms (not patient data) with their label maps:
DIR/case_000_image.nii.gz, DIR/case_000_label.nii.gz, … and DIR/manifest.json.
Case n uses seed S+n, so the same options always give the same files.

Options:
  --out DIR         output folder (created when missing)
  --cases N         number of cases (default 1)
  --seed S          seed of the first case (default 1)
  --schema NAME     kidney (1 kidney, 2 tumor, 3 cyst) or pancreas (1 pancreas, 2 tumor); default kidney
  --spacing X,Y,Z   voxel spacing in mm (default ${DEFAULT_SPACING_MM.join(',')}, or a 384×384×320 mm
                    field of view divided by --dims)
  --dims I,J,K      voxels per axis (default ${DEFAULT_DIMS.join(',')})
  --phase PHASE     contrast phase: ${CONTRAST_PHASES.join(', ')} (default portal)
  --noise-hu SIGMA  image noise standard deviation in HU (default 10-20, drawn per case)
  --domain NAME     ${PHANTOM_DOMAINS.join(' or ')} (default standard): 'shifted' is unlike the starter
                    models' training data (non-contrast, larger and more varied kidneys, noisier),
                    for fine-tuning experiments; 'synth' draws per case a contrast phase, each
                    organ's enhancement, fat, noise, blur, habitus and kidney size (the starters'
                    training recipe) and, in 30% of cases, positive oral contrast in the bowel
                    (generator v3), calyces and vessels through the renal sinus fat (v4) and,
                    in 15%, metal: clips or a stent, with streaks (v5), a striped spleen in
                    most arterial cases (v6), the renal pelvis out through the hilum (v7);
                    --phase and --noise-hu override their values
  --metal WHEN      always or never: metal in every case (any domain) or in none; default: as
                    the domain draws it (synth and --label-map: 15%, others: never)
  --label-map FILE  paint each case from a real multi-organ label map (TotalSegmentator 'total'
                    classes, NIfTI) instead of procedural anatomy: random affine, elastic and
                    per-organ deformation, tissue HU of a random phase (oral contrast and renal
                    sinus and pelvis as synth), body wall, the superior mesenteric vessels
                    below the pancreas (v8; unlabelled), lesions; the
                    map's grid sets the field of view (no --dims, --domain or --phase)
  -h, --help        show this help`;

interface Args {
  out: string;
  cases: number;
  seed: number;
  schema: PhantomSchema;
  spacingMm?: Vec3;
  dims?: Vec3;
  phase?: ContrastPhase;
  noiseHu?: number;
  domain?: PhantomDomain;
  labelMap?: string;
  metal?: boolean;
}

function triple(option: string, text: string, integer: boolean): Vec3 {
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p <= 0 || (integer && !Number.isInteger(p)))) {
    throw new UsageError(
      `${option} needs three positive ${integer ? 'whole numbers' : 'numbers'} separated by commas, got '${text}'`,
    );
  }
  return parts as Vec3;
}

function wholeNumber(option: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${option} needs a whole number from ${min} to ${max}, got '${text}'`);
  }
  return n;
}

function parse(argv: string[]): Args | null {
  const args: Partial<Args> = { cases: 1, seed: 1, schema: 'kidney' };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') return null;
    else if (a === '--out' || a === '-o') args.out = value();
    else if (a === '--cases') args.cases = wholeNumber(a, value(), 1, 100000);
    else if (a === '--seed') args.seed = wholeNumber(a, value(), 0, Number.MAX_SAFE_INTEGER - 100000);
    else if (a === '--schema') {
      const s = value();
      if (!PHANTOM_SCHEMAS.includes(s as PhantomSchema))
        throw new UsageError(`--schema must be ${PHANTOM_SCHEMAS.join(' or ')}, got '${s}'`);
      args.schema = s as PhantomSchema;
    } else if (a === '--spacing') args.spacingMm = triple(a, value(), false);
    else if (a === '--dims') args.dims = triple(a, value(), true);
    else if (a === '--phase') {
      const p = value();
      if (!CONTRAST_PHASES.includes(p as ContrastPhase))
        throw new UsageError(`--phase must be one of ${CONTRAST_PHASES.join(', ')}, got '${p}'`);
      args.phase = p as ContrastPhase;
    } else if (a === '--domain') {
      const d = value();
      if (!PHANTOM_DOMAINS.includes(d as PhantomDomain))
        throw new UsageError(`--domain must be ${PHANTOM_DOMAINS.join(' or ')}, got '${d}'`);
      args.domain = d as PhantomDomain;
    } else if (a === '--label-map') args.labelMap = value();
    else if (a === '--metal') {
      const w = value();
      if (w !== 'always' && w !== 'never') throw new UsageError(`--metal must be always or never, got '${w}'`);
      args.metal = w === 'always';
    } else if (a === '--noise-hu') {
      const text = value();
      const n = Number(text);
      if (!text.trim() || !Number.isFinite(n) || n < 0 || n > 200)
        throw new UsageError(`--noise-hu needs a number from 0 to 200, got '${text}'`);
      args.noiseHu = n;
    } else throw new UsageError(`unknown ${a.startsWith('-') ? 'option' : 'argument'} '${argv[i]}' (see --help)`);
  }
  if (!args.out) throw new UsageError('missing --out DIR; see --help');
  if (args.labelMap && (args.dims || args.domain || args.phase))
    throw new UsageError(
      '--label-map sets the anatomy and field of view: and draws the phase: leave out --dims, --domain and --phase',
    );
  return args as Args;
}

interface ManifestCase {
  id: string;
  image: string;
  label: string;
  meta: PhantomMeta;
}

export async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (!args) {
    console.log(HELP);
    return 0;
  }
  const existing = await stat(args.out).catch(() => null);
  if (existing && !existing.isDirectory())
    throw new InputError(args.out, 'is a file, not a folder; --out needs a folder');
  await mkdir(args.out, { recursive: true });

  // Ctrl-C stops after the case being written, leaving only complete files and a manifest of them.
  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const manifest = {
    generator: 'deformux-phantom',
    generatorVersion: PHANTOM_GENERATOR_VERSION,
    synthetic: true,
    note: 'SYNTHETIC phantoms generated by DeformUX Annotator; not patient data.',
    schema: args.schema,
    labels: SCHEMA_LABELS[args.schema],
    dims: args.dims ?? DEFAULT_DIMS,
    spacingMm: args.spacingMm ?? (args.dims ? null : DEFAULT_SPACING_MM),
    cases: [] as ManifestCase[],
  };
  const labelMap = args.labelMap ? await readNifti(args.labelMap) : null;
  const started = performance.now();
  try {
    for (let n = 0; n < args.cases; n++) {
      if (abort.signal.aborted) {
        console.error(`deformux phantom: interrupted after ${n} of ${args.cases} cases`);
        break;
      }
      const t0 = performance.now();
      const seed = args.seed + n;
      const phantom = labelMap
        ? synthesizeFromLabelMap({
            labelMap,
            source: args.labelMap!,
            seed,
            schema: args.schema,
            ...(args.spacingMm ? { spacingMm: args.spacingMm } : {}),
            ...(args.noiseHu !== undefined ? { noiseSigmaHu: args.noiseHu } : {}),
            ...(args.metal !== undefined ? { metal: args.metal } : {}),
          })
        : generatePhantom({
            seed,
            schema: args.schema,
            dims: args.dims,
            spacingMm: args.spacingMm,
            domainShift: {
              ...(args.phase ? { contrastPhase: args.phase } : {}),
              ...(args.noiseHu !== undefined ? { noiseSigmaHu: args.noiseHu } : {}),
            },
            domain: args.domain,
            signal: abort.signal,
            ...(args.metal !== undefined ? { metal: args.metal } : {}),
          });
      const id = `case_${String(n).padStart(3, '0')}`;
      const image = `${id}_image.nii.gz`;
      const label = `${id}_label.nii.gz`;
      await writeNifti(join(args.out, image), phantom.image);
      await writeNifti(join(args.out, label), phantom.label);
      manifest.spacingMm = phantom.image.spacingMm;
      manifest.cases.push({ id, image, label, meta: phantom.meta });
      await writeFileAtomic(join(args.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      const lesions =
        phantom.meta.lesions.map((l) => `${l.kind} in ${l.organ} ${Math.round(l.radiusMm)} mm`).join('; ') ||
        'no lesions';
      console.log(
        `[${n + 1}/${args.cases}] ${id} seed ${seed}: ${lesions} (${((performance.now() - t0) / 1000).toFixed(2)} s)`,
      );
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Wrote ${manifest.cases.length} synthetic ${args.schema} phantom(s) to ${args.out} in ${seconds} s`);
  return abort.signal.aborted ? 130 : 0;
}
