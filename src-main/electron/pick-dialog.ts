// The Electron open dialog behind 'system.pickPaths': its options per kind (pure, unit-tested) and the
// call itself. NIfTI files can be picked several at once; a DICOM series is picked as its folder.
import type { OpenDialogOptions } from 'electron';

export function openDialogOptions(kind: 'files' | 'folder'): OpenDialogOptions {
  if (kind === 'folder')
    return { title: 'Import a DICOM folder', buttonLabel: 'Import', properties: ['openDirectory'] };
  return {
    title: 'Import NIfTI files',
    buttonLabel: 'Import',
    properties: ['openFile', 'multiSelections'],
    filters: [
      { name: 'NIfTI', extensions: ['nii', 'gz'] },
      { name: 'All files', extensions: ['*'] },
    ],
  };
}

/** The part of Electron's dialog used (its showOpenDialog with or without a parent window). */
export interface OpenDialog {
  showOpenDialog(options: OpenDialogOptions): Promise<{ canceled: boolean; filePaths: string[] }>;
}

/** Shows the dialog; the chosen paths, or none when cancelled. */
export async function pickWithDialog(dialog: OpenDialog, kind: 'files' | 'folder'): Promise<string[]> {
  const r = await dialog.showOpenDialog(openDialogOptions(kind));
  return r.canceled ? [] : r.filePaths;
}
