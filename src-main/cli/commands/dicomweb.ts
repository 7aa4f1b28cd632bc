// `deformux dicomweb`: search a PACS (QIDO-RS), import a series into a project (WADO-RS), store a
// case's label back as a DICOM SEG (STOW-RS), and bring colleagues' SEGs in as label versions.
import { UsageError } from '../index';
import { parseCliArgs, type CliValues } from '../args';
import { clientForUrl } from '../../dicomweb/connect';
import { importRemoteSeries } from '../../dicomweb/import';
import { importRemoteSegs, storeCaseSeg } from '../../dicomweb/seg-sync';
import { ProjectStore } from '../../store/project';

const CONNECTION = `  --credentials FILE  JSON {"token": ...} or {"username": ..., "password": ...}; without it the
                      token in DEFORMUX_DICOMWEB_TOKEN (or DEFORMUX_DICOMWEB_USER/_PASSWORD) is used
  --ca FILE           PEM file of an extra certificate authority (a hospital's own CA)
  --timeout S         seconds without an answer before giving up (default 30)`;

const HELP = `Usage: deformux dicomweb studies URL [--patient ID] [--name N] [--accession A] [--date D[-D]] [--modality CT] [--json]
       deformux dicomweb series URL --study UID [--json]
       deformux dicomweb import URL --study UID [--series UID] --project DIR
       deformux dicomweb store-seg URL --project DIR --case ID [--version N]
       deformux dicomweb pull-segs URL --project DIR --case ID [--json]

  URL                 the DICOMweb service root, e.g. http://127.0.0.1:8042/dicom-web
  studies             lists matching studies (QIDO-RS)
  series              lists a study's series with their instance counts
  import              retrieves a series (the study's only CT series without --series) into the
                      project and prints the case id; a series already imported is not fetched again
  store-seg           stores the case's label (submitted version, else latest) as a DICOM SEG and
                      prints its SOPInstanceUID
  pull-segs           brings SEGs on the server for the case's series in as label versions
${CONNECTION}`;

const OPTIONS = {
  patient: { type: 'string' },
  name: { type: 'string' },
  accession: { type: 'string' },
  date: { type: 'string' },
  modality: { type: 'string' },
  study: { type: 'string' },
  series: { type: 'string' },
  project: { type: 'string' },
  case: { type: 'string' },
  version: { type: 'string' },
  json: { type: 'boolean' },
  credentials: { type: 'string' },
  ca: { type: 'string' },
  timeout: { type: 'string' },
} as const;

function need(values: CliValues, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || !v) throw new UsageError(`--${name} is required.\n${HELP}`);
  return v;
}

function progress(): (fraction: number, message: string) => void {
  let lastQuarter = -1;
  return (f, msg) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${String(Math.floor(f * 100)).padStart(3)}% ${msg}`.padEnd(80));
    else if (Math.floor(f * 4) !== lastQuarter) {
      lastQuarter = Math.floor(f * 4);
      process.stderr.write(`${String(Math.floor(f * 100)).padStart(3)}% ${msg}\n`);
    }
  };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(argv, OPTIONS, HELP, true);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [sub, url, ...extra] = positionals;
  if (!sub || !url || extra.length) throw new UsageError(`give a subcommand and the server URL.\n${HELP}`);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds.`);
  const client = await clientForUrl(url, {
    credentialsFile: values.credentials as string | undefined,
    caFile: values.ca as string | undefined,
    timeoutSeconds: timeout,
  });
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('cancelled (Ctrl+C)'));
  process.once('SIGINT', onSigint);
  try {
    const signal = controller.signal;
    if (sub === 'studies') {
      const studies = await client.searchStudies(
        {
          patientId: values.patient as string | undefined,
          patientName: values.name as string | undefined,
          accessionNumber: values.accession as string | undefined,
          studyDate: values.date as string | undefined,
          modality: values.modality as string | undefined,
        },
        signal,
      );
      if (values.json) console.log(JSON.stringify(studies));
      else
        for (const s of studies)
          console.log(
            `${s.studyInstanceUid}  ${s.patientId || '-'}  ${s.studyDate || '-'}  ${s.modalities.join('/') || '-'}  ${s.seriesCount ?? '?'} series  ${s.description}`,
          );
      return 0;
    }
    if (sub === 'series') {
      const series = await client.searchSeries(need(values, 'study'), {}, signal);
      if (values.json) console.log(JSON.stringify(series));
      else
        for (const s of series)
          console.log(`${s.seriesInstanceUid}  ${s.modality}  ${s.instanceCount ?? '?'} instances  ${s.description}`);
      return 0;
    }
    const store = ProjectStore.open(need(values, 'project'));
    try {
      if (sub === 'import') {
        const r = await importRemoteSeries(store, client, need(values, 'study'), values.series as string | undefined, {
          signal,
          onProgress: progress(),
        });
        const how = r.from === 'server' ? `retrieved ${r.instances} images` : `already in the project (${r.from})`;
        process.stderr.write(`${r.case.name}: ${how}\n`);
        console.log(r.case.id);
        return 0;
      }
      if (sub === 'store-seg') {
        const version = values.version === undefined ? undefined : Number(values.version);
        if (version !== undefined && !Number.isInteger(version))
          throw new UsageError('--version must be a whole number.');
        const stored = await storeCaseSeg(store, client, need(values, 'case'), { version, signal });
        process.stderr.write(`stored label version ${stored.version} as a DICOM SEG (${stored.contentDescription})\n`);
        console.log(stored.sopInstanceUid);
        return 0;
      }
      if (sub === 'pull-segs') {
        const added = await importRemoteSegs(store, client, need(values, 'case'), { signal });
        if (values.json) console.log(JSON.stringify(added));
        else
          for (const a of added)
            console.log(
              `version ${a.version} from ${a.creator || 'unknown'} (${a.contentDescription}): ${a.comparison ? `${a.comparison.changedVoxels} voxels differ, mean Dice ${a.comparison.meanDice?.toFixed(3) ?? '-'}` : 'first label of the case'}`,
            );
        return 0;
      }
      throw new UsageError(`unknown subcommand '${sub}'.\n${HELP}`);
    } finally {
      store.close();
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}
