// The Electron import dialog's options and result handling (Electron itself cannot run here).
import { describe, expect, it } from 'vitest';
import { openDialogOptions, pickWithDialog } from '../../../src-main/electron/pick-dialog';

describe('import dialog', () => {
  it('picks several NIfTI files, or one DICOM folder', () => {
    const files = openDialogOptions('files');
    expect(files.properties).toEqual(['openFile', 'multiSelections']);
    expect(files.filters?.[0]).toEqual({ name: 'NIfTI', extensions: ['nii', 'gz'] });
    expect(openDialogOptions('folder').properties).toEqual(['openDirectory']);
  });

  it('returns the chosen paths, and none when cancelled', async () => {
    const chosen = { showOpenDialog: async () => ({ canceled: false, filePaths: ['/d/series'] }) };
    expect(await pickWithDialog(chosen, 'folder')).toEqual(['/d/series']);
    const cancelled = { showOpenDialog: async () => ({ canceled: true, filePaths: ['/ignored'] }) };
    expect(await pickWithDialog(cancelled, 'files')).toEqual([]);
  });
});
