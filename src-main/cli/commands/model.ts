// `deformux model export|import`: share a project's model with the team as one signed file.
import { UsageError } from '../index';
import { parseCliArgs } from '../args';
import { ProjectStore } from '../../store/project';
import { listModels } from '../../store/model-rows';
import { exportModelFile, importModelFile } from '../../team/model-file';

const HELP = `Usage: deformux model list --project DIR
       deformux model export --project DIR --model ID --out FILE.dfxmodel [--label TEXT]
       deformux model import FILE.dfxmodel --project DIR

  export   writes the model folder, its metrics and parents as one file signed with the project's
           key; case references become opaque hashes, names, IDs, UIDs, dates and paths are removed
  import   checks the signature and every file's SHA-256, then adds the model as a candidate
  --label  who shares it, as the receiving model list shows it (default: your user name)`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    { project: { type: 'string' }, model: { type: 'string' }, out: { type: 'string' }, label: { type: 'string' } },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [sub, file] = positionals;
  if (!values.project) throw new UsageError(`--project is required.\n${HELP}`);
  const store = ProjectStore.open(values.project as string);
  try {
    if (sub === 'list') {
      for (const m of listModels(store)) console.log(`${m.id}  v${m.version}  ${m.status}  ${m.note}`);
      return 0;
    }
    if (sub === 'export') {
      if (!values.model || !values.out) throw new UsageError(`export needs --model and --out.\n${HELP}`);
      const manifest = await exportModelFile(store, values.model as string, values.out as string, {
        label: values.label as string | undefined,
      });
      process.stderr.write(`signed with key ${manifest.origin.keyFingerprint}\n`);
      console.log(values.out);
      return 0;
    }
    if (sub === 'import') {
      if (!file) throw new UsageError(`import needs the model file.\n${HELP}`);
      const info = await importModelFile(store, file);
      process.stderr.write(`${info.note}\n`);
      console.log(info.id);
      return 0;
    }
    throw new UsageError(`unknown subcommand '${sub ?? ''}'.\n${HELP}`);
  } finally {
    store.close();
  }
}
