// Removes patient and site identifiers from model descriptions and training records before a model
// leaves the machine: case references become opaque hashes; names, IDs, UIDs, dates and paths go.
import { createHmac } from 'node:crypto';
import type { ProjectStore } from '../store/project';

export interface ScrubContext {
  /** Literal identifier → what replaces it (case ids map to opaque hashes, the rest to a marker). */
  literals: Map<string, string>;
}

export const REMOVED = '[removed]';

/** An opaque, per-export case reference: the same case gives the same hash within one file only. */
export function opaqueCaseRef(caseId: string, salt: Buffer): string {
  return `case-${createHmac('sha256', salt).update(caseId).digest('hex').slice(0, 12)}`;
}

/** Everything in the project that could identify a patient or a site, with its replacement. */
export function scrubContextOf(store: ProjectStore, salt: Buffer): ScrubContext {
  const literals = new Map<string, string>();
  const add = (value: string | undefined | null, replacement: string): void => {
    const v = (value ?? '').trim();
    // Very short values ("M", "1") would shred ordinary words; those are not identifying on their own.
    if (v.length >= 3 && !literals.has(v)) literals.set(v, replacement);
  };
  add(store.dir, '[path removed]');
  for (const c of store.listCases()) {
    add(c.id, opaqueCaseRef(c.id, salt));
    add(c.name, REMOVED);
    add(c.source, REMOVED);
    const src = store.dicomSource(c.id);
    if (!src) continue;
    for (const v of [
      src.patientName,
      src.patientName?.replace(/\^/g, ' '),
      src.patientId,
      src.accessionNumber,
      src.studyId,
      src.referringPhysicianName,
      src.studyDescription,
      src.studyInstanceUid,
      src.seriesInstanceUid,
      src.frameOfReferenceUid,
    ])
      add(v, REMOVED);
  }
  return { literals };
}

/** Keys whose values are local file system locations. */
const PATH_KEYS = /^(dir|folder|path|file|outDir|dataDir|baseModelDir|source)$/i;
const ISO_DATE = /\b\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b/g;
const DICOM_DATE = /\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b/g;
const DICOM_UID = /\b\d+(?:\.\d+){4,}\b/g;
const POSIX_PATH = /(^|[\s(=:'"])\/[^\s,;'"()]+/g;
const WINDOWS_PATH = /\b[A-Za-z]:\\[^\s,;'"()]+/g;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Scrubs one string: known identifiers first (longest first), then generic UIDs, dates and paths. */
export function scrubString(text: string, ctx: ScrubContext): string {
  let out = text;
  const keys = [...ctx.literals.keys()].sort((a, b) => b.length - a.length);
  for (const k of keys) if (out.includes(k)) out = out.replace(new RegExp(escapeRegExp(k), 'g'), ctx.literals.get(k)!);
  return out
    .replace(DICOM_UID, '[uid removed]')
    .replace(ISO_DATE, '[date removed]')
    .replace(DICOM_DATE, '[date removed]')
    .replace(POSIX_PATH, (_m, lead: string) => `${lead}[path removed]`)
    .replace(WINDOWS_PATH, '[path removed]');
}

/** A deep copy of a JSON value with every string scrubbed and path-valued keys emptied. */
export function scrubJson(value: unknown, ctx: ScrubContext, key = ''): unknown {
  if (typeof value === 'string') return PATH_KEYS.test(key) ? '[path removed]' : scrubString(value, ctx);
  if (Array.isArray(value)) return value.map((v) => scrubJson(v, ctx, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[scrubString(k, ctx)] = scrubJson(v, ctx, k);
    return out;
  }
  return value;
}
