// The import browser's grouping of a folder's series: by patient, then study, as PACS viewers list
// them, with the study date made readable. Pure, so it is unit-tested.
import type { SeriesChoice } from '../../../src-main/api/contract';

export interface StudyGroup {
  key: string;
  /** "Name (ID)" or what of it there is; "Unknown patient" when neither. */
  patient: string;
  /** "2026-01-01 · CT ABDOMEN" or what of it there is. */
  study: string;
  series: SeriesChoice[];
}

/** DICOM DA (YYYYMMDD) as YYYY-MM-DD; anything else as it is. */
export function formatDicomDate(da: string | undefined): string {
  const d = (da ?? '').trim();
  return /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d;
}

export function groupSeries(series: SeriesChoice[]): StudyGroup[] {
  const groups = new Map<string, StudyGroup>();
  for (const s of series) {
    const key = `${s.patientId ?? ''}\u0000${s.studyUid ?? ''}`;
    let g = groups.get(key);
    if (!g) {
      const name = (s.patientName ?? '').trim();
      const id = (s.patientId ?? '').trim();
      const patient = name && id ? `${name} (${id})` : name || id || 'Unknown patient';
      const study = [formatDicomDate(s.studyDate), (s.studyDescription ?? '').trim()].filter(Boolean).join(' · ');
      g = { key, patient, study: study || 'Study without date or description', series: [] };
      groups.set(key, g);
    }
    g.series.push(s);
  }
  return [...groups.values()];
}
