// The main window's options: the renderer is sandboxed, isolated and without Node (pure; unit-tested).
import type { BrowserWindowConstructorOptions } from 'electron';

export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'DeformUX Annotator',
    backgroundColor: '#111318',
    show: false,
    webPreferences: {
      preload: preloadPath,
      // Set explicitly, not left to defaults that changed across Electron versions.
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}
