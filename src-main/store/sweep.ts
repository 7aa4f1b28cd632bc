// Removes what an interrupted write leaves behind: temp files and folders, case folders with no database row.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { RAW_CACHE_DIR, rawCopyCaseId } from './raw-cache';

/** Only leftovers older than this are touched: a live writer (another process) may own newer ones. */
export const LEFTOVER_AGE_MS = 10 * 60 * 1000;

export interface SweepResult {
  removedTempFiles: string[];
  removedCaseFolders: string[];
  /** Label files whose version row never committed (the process died between file and INSERT). */
  removedLabelFiles: string[];
}

/** Names the store gives label files: cases/<id>/labels/vNNNN-<hex>.nii.gz. */
const LABEL_FILE = /^v\d{4,}-[0-9a-f]+\.nii\.gz$/;

async function olderThan(path: string, ageMs: number, nowMs: number): Promise<boolean> {
  try {
    return nowMs - (await fs.stat(path)).mtimeMs > ageMs;
  } catch {
    return false;
  }
}

/**
 * `knownCaseIds`: the ids in the cases table. Folders under cases/ that no row names were left by an
 * image write that never reached its INSERT; `.*.tmp` files by a write that never reached its rename.
 */
export async function sweepLeftovers(
  projectDir: string,
  knownCaseIds: ReadonlySet<string>,
  nowMs = Date.now(),
  /** Label files (relative to the project, '/'-separated) that a version row names; others are orphans. */
  knownLabelFiles?: ReadonlySet<string>,
): Promise<SweepResult> {
  const result: SweepResult = { removedTempFiles: [], removedCaseFolders: [], removedLabelFiles: [] };
  const casesDir = join(projectDir, 'cases');
  const entries = await fs.readdir(casesDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(casesDir, entry.name);
    if (!entry.isDirectory()) continue;
    if (!knownCaseIds.has(entry.name)) {
      if (await olderThan(path, LEFTOVER_AGE_MS, nowMs)) {
        await fs.rm(path, { recursive: true, force: true });
        result.removedCaseFolders.push(path);
      }
      continue;
    }
    for (const sub of [path, join(path, 'labels')]) {
      for (const name of await fs.readdir(sub).catch(() => [] as string[])) {
        const file = join(sub, name);
        if (name.startsWith('.') && name.endsWith('.tmp') && (await olderThan(file, LEFTOVER_AGE_MS, nowMs))) {
          await fs.rm(file, { force: true });
          result.removedTempFiles.push(file);
        } else if (
          knownLabelFiles &&
          sub !== path &&
          LABEL_FILE.test(name) &&
          !knownLabelFiles.has(`cases/${entry.name}/labels/${name}`) &&
          (await olderThan(file, LEFTOVER_AGE_MS, nowMs))
        ) {
          await fs.rm(file, { force: true });
          result.removedLabelFiles.push(file);
        }
      }
    }
  }
  // The raw image copies (cache/images/): a write cut short leaves its temp file; a copy of a case no row names is dead.
  const cacheDir = join(projectDir, RAW_CACHE_DIR);
  for (const name of await fs.readdir(cacheDir).catch(() => [] as string[])) {
    const file = join(cacheDir, name);
    const caseId = rawCopyCaseId(name);
    const temp = name.startsWith('.') && name.endsWith('.tmp');
    if ((temp || (caseId !== null && !knownCaseIds.has(caseId))) && (await olderThan(file, LEFTOVER_AGE_MS, nowMs))) {
      await fs.rm(file, { force: true });
      if (temp) result.removedTempFiles.push(file);
    }
  }
  // An export cut short leaves its hidden temp folder (exports/.<Dataset…>.<pid>.<hex>.tmp); published exports stay.
  const exportsDir = join(projectDir, 'exports');
  for (const entry of await fs.readdir(exportsDir, { withFileTypes: true }).catch(() => [])) {
    const path = join(exportsDir, entry.name);
    if (entry.name.startsWith('.') && entry.name.endsWith('.tmp') && (await olderThan(path, LEFTOVER_AGE_MS, nowMs))) {
      await fs.rm(path, { recursive: true, force: true });
      result.removedTempFiles.push(path);
    }
  }
  return result;
}
