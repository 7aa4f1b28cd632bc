// Labels between a case and the PACS: the case's label goes up as a DICOM SEG (STOW-RS) with the model
// that made it in ContentDescription; SEGs already on the PACS for the case's series (a colleague's)
// come down as label versions of the case.
import { userInfo } from 'node:os';
import { LABEL_SCHEMAS } from '../domain/label-schemas';
import { encodeDicomSeg } from '../export/dicom/seg';
import { readDicomSeg } from '../export/dicom/seg-read';
import { compareLabels, type LabelComparison } from '../labels/metrics';
import { InputError, type Volume } from '../imaging/volume';
import { StoreRequestError } from '../store/errors';
import { getModel } from '../store/model-rows';
import type { ProjectStore } from '../store/project';
import type { DicomwebClient } from './client';
import { DicomwebError } from './http';

const STORED_KEY = (caseId: string): string => `dicomweb.stored.${caseId}`;
const SEEN_SEG_KEY = (sopUid: string): string => `dicomweb.seg.${sopUid}`;

function getSetting<T>(store: ProjectStore, key: string): T | null {
  const row = store.database.prepare('SELECT value FROM settings WHERE key = ?').get(key) as
    { value: string } | undefined;
  return row ? (JSON.parse(row.value) as T) : null;
}
function setSetting(store: ProjectStore, key: string, value: unknown): void {
  store.database
    .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
    .run(key, JSON.stringify(value));
}

export interface StoredSeg {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  version: number;
  contentDescription: string;
  storedAt: string;
}

/** The SEG last stored for a case, if any (the worklist's 'stored' state). */
export function storedSegOf(store: ProjectStore, caseId: string): StoredSeg | null {
  return getSetting<StoredSeg>(store, STORED_KEY(caseId));
}

/** The model behind a label version: its own, else the nearest ancestor's (an edited pre-label). */
function modelBehind(store: ProjectStore, caseId: string, version: number): string | null {
  const versions = store.listLabelVersions(caseId);
  for (let v = versions.find((x) => x.version === version); v;) {
    if (v.modelId) return v.modelId;
    const parent = v.parentVersion;
    v = parent === null ? undefined : versions.find((x) => x.version === parent);
  }
  return null;
}

/** Stores a case's label (the submitted version, else the latest) as a DICOM SEG on the server. */
export async function storeCaseSeg(
  store: ProjectStore,
  client: DicomwebClient,
  caseId: string,
  opts: { version?: number; signal?: AbortSignal } = {},
): Promise<StoredSeg> {
  const source = store.dicomSource(caseId);
  if (!source)
    throw new DicomwebError(`case ${caseId} did not come from DICOM: it has no series to reference in a SEG.`);
  const versions = store.listLabelVersions(caseId);
  const chosen =
    opts.version !== undefined
      ? versions.find((v) => v.version === opts.version)
      : ([...versions].reverse().find((v) => v.submitted) ?? versions[versions.length - 1]);
  if (!chosen)
    throw new DicomwebError(
      `case ${caseId} has ${opts.version !== undefined ? `no label version ${opts.version}` : 'no label yet'}.`,
    );
  const [label, image] = await Promise.all([store.loadLabel(caseId, chosen.version), store.loadImage(caseId)]);
  if (!label.data.some((v) => v !== 0))
    throw new StoreRequestError(
      `case ${caseId}: label version ${chosen.version} is empty; there is no segmentation to store.`,
    );
  const schema = LABEL_SCHEMAS[store.info().schema.name];
  const model = modelBehind(store, caseId, chosen.version);
  const edited = chosen.kind === 'edit';
  const modelVersion = model ? getModel(store, model)?.version : undefined;
  const modelName = model ? `${model}${modelVersion ? ` v${modelVersion}` : ''}` : '';
  const contentDescription = model
    ? `${edited ? 'Corrected pre-label' : 'Pre-label'} by ${modelName}`
    : `${schema.title} label (manual)`;
  const { bytes, summary } = encodeDicomSeg(label, image, source, {
    schema,
    algorithmType: model ? (edited ? 'SEMIAUTOMATIC' : 'AUTOMATIC') : 'MANUAL',
    ...(model ? { algorithmName: modelName } : {}),
    contentDescription,
    contentCreatorName: chosen.editor ?? userInfo().username,
    seriesDescription: `DeformUX ${schema.title} SEG v${chosen.version}`,
  });
  const result = await client.store([bytes], { studyUid: source.studyInstanceUid, signal: opts.signal });
  if (!result.stored.some((s) => s.sopInstanceUid === summary.sopInstanceUid))
    throw new DicomwebError(`the server did not confirm storing SEG ${summary.sopInstanceUid}.`);
  const stored: StoredSeg = {
    sopInstanceUid: summary.sopInstanceUid,
    seriesInstanceUid: summary.seriesInstanceUid,
    version: chosen.version,
    contentDescription,
    storedAt: new Date().toISOString(),
  };
  setSetting(store, STORED_KEY(caseId), stored);
  // Our own SEG must not come back as a colleague's version.
  setSetting(store, SEEN_SEG_KEY(summary.sopInstanceUid), { caseId, version: chosen.version, own: true });
  return stored;
}

export interface RemoteSegVersion {
  sopInstanceUid: string;
  version: number;
  creator: string;
  contentDescription: string;
  /** Against the label that was the case's latest before this one arrived (null when there was none). */
  comparison: LabelComparison | null;
}

/**
 * Brings the SEGs on the server that reference the case's series in as label versions ('import',
 * editor = the SEG's content creator). A SEG already brought in (or stored from here) is skipped.
 */
export async function importRemoteSegs(
  store: ProjectStore,
  client: DicomwebClient,
  caseId: string,
  opts: { signal?: AbortSignal; onSkipped?: (message: string) => void } = {},
): Promise<RemoteSegVersion[]> {
  const source = store.dicomSource(caseId);
  if (!source) return [];
  const header = store.caseHeader(caseId);
  const schema = LABEL_SCHEMAS[store.info().schema.name];
  const segSeries = await client.searchSeries(source.studyInstanceUid, { modality: 'SEG' }, opts.signal);
  const added: RemoteSegVersion[] = [];
  for (const series of segSeries) {
    if (series.modality && series.modality !== 'SEG') continue;
    const instances: Buffer[] = [];
    await client.retrieveSeries(source.studyInstanceUid, series.seriesInstanceUid, (b) => void instances.push(b), {
      signal: opts.signal,
    });
    for (const bytes of instances) {
      const what = `SEG in series ${series.seriesInstanceUid}`;
      let seg;
      try {
        seg = readDicomSeg(bytes, what, header, schema);
      } catch (err) {
        // A SEG of another grid or schema is not this case's label: say so and go on with the rest.
        if (!(err instanceof InputError)) throw err;
        opts.onSkipped?.(err.message);
        continue;
      }
      if (!seg.referencedSeriesUids.includes(source.seriesInstanceUid)) continue;
      if (getSetting(store, SEEN_SEG_KEY(seg.sopInstanceUid))) continue;
      const versions = store.listLabelVersions(caseId);
      const latest = versions[versions.length - 1];
      const before = latest ? await store.loadLabel(caseId, latest.version) : null;
      const summary = await store.addLabelVersion(
        caseId,
        {
          dims: header.dims,
          spacingMm: header.spacingMm,
          originMm: header.originMm,
          direction: header.direction as Volume['direction'],
          data: seg.labels,
          modality: 'SEG',
          description: seg.contentDescription || seg.seriesDescription,
          source: what,
        },
        { kind: 'import', editor: seg.contentCreatorName || undefined, parentVersion: null },
      );
      setSetting(store, SEEN_SEG_KEY(seg.sopInstanceUid), { caseId, version: summary.version, own: false });
      added.push({
        sopInstanceUid: seg.sopInstanceUid,
        version: summary.version,
        creator: seg.contentCreatorName,
        contentDescription: seg.contentDescription,
        comparison: before
          ? compareLabels(
              before.data,
              seg.labels,
              schema.classes.map((c) => c.value),
            )
          : null,
      });
    }
  }
  return added;
}
