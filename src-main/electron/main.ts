// Electron main process: opens the project, serves the renderer on app://, answers IPC from our window.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow, app, dialog, ipcMain, net, protocol, session } from 'electron';
import type { IpcMainInvokeEvent } from 'electron';
import { IPC_BINARY_CHANNEL, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, IPC_UPLOAD_CHANNEL } from '../api/contract';
import type { ApiBinaryMethod, ApiMethod, ApiUploadMethod } from '../api/contract';
import { ApiRequestError, apiErrorOf } from '../api/errors';
import { ProjectHost } from '../api/project-host';
import { pickWithDialog } from './pick-dialog';
import { keychainSecretStore } from './dicomweb-secrets';
import type { ApiHandlers } from '../api/handlers';
import { openProjectOrDemo } from '../demo/open';
import type { ProjectStore } from '../store/project';
import { contentTypeOf, resolveInside } from '../web/static';
import { APP_ENTRY_URL, APP_SCHEME, isAllowedNavigation, isAppUrl } from './app-protocol';
import { contentSecurityPolicy } from './csp';
import { ipcBytes } from './ipc-envelope';
import type { IpcResult } from './ipc-envelope';
import { isTrustedSender } from './sender';
import { mainWindowOptions } from './window-options';

const rendererDir = join(import.meta.dirname, '../renderer');
const preloadPath = join(import.meta.dirname, '../preload/index.cjs');
// electron-vite dev sets this; a packaged app never loads anything but app://.
const devServerUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const ourWindows = new Set<number>();

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

function projectDirFromArgs(argv: string[]): string | undefined {
  const at = argv.indexOf('--project');
  return at >= 0 ? argv[at + 1] : process.env.DEFORMUX_PROJECT;
}

function openProject(): Promise<ProjectStore> {
  return openProjectOrDemo(projectDirFromArgs(process.argv) ?? join(app.getPath('userData'), 'demo-project'));
}

function serveAppProtocol(): void {
  const csp = contentSecurityPolicy();
  protocol.handle(APP_SCHEME, async (request) => {
    const file = await resolveInside(rendererDir, new URL(request.url).pathname);
    if (!file) return new Response('Forbidden', { status: 403 });
    let response: Response;
    try {
      response = await net.fetch(pathToFileURL(file).toString());
    } catch {
      return new Response('Not found', { status: 404 });
    }
    const headers = new Headers(response.headers);
    // Our own type table: wasm must be application/wasm for streaming compilation, scripts JS.
    headers.set('Content-Type', contentTypeOf(file));
    headers.set('Content-Security-Policy', csp);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}

function senderOk(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return isTrustedSender(
    {
      webContentsId: event.sender.id,
      frameUrl: frame?.url ?? '',
      isMainFrame: frame !== null && frame.parent === null,
    },
    ourWindows,
    (url) => isAppUrl(url, devServerUrl),
  );
}

async function answer<T>(run: () => Promise<T>): Promise<IpcResult<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    const { status, message } = apiErrorOf(err);
    if (status === 500) console.error(err);
    return { ok: false, status, error: message };
  }
}

function wireIpc(handlers: ApiHandlers): void {
  const dropped = { ok: false, status: 403, error: 'Refused: this window may not use the DeformUX API.' } as const;
  ipcMain.handle(IPC_CALL_CHANNEL, (event, method: unknown, req: unknown) =>
    senderOk(event) ? answer(() => handlers.call(String(method) as ApiMethod, req)) : dropped,
  );
  ipcMain.handle(IPC_BINARY_CHANNEL, (event, method: unknown, req: unknown) =>
    senderOk(event) ? answer(() => handlers.binary(String(method) as ApiBinaryMethod, req)) : dropped,
  );
  ipcMain.handle(IPC_UPLOAD_CHANNEL, (event, method: unknown, req: unknown, data: unknown) =>
    senderOk(event)
      ? answer(async () => {
          const bytes = ipcBytes(data);
          if (!bytes) throw new ApiRequestError(400, `${String(method)}: the upload data must be an ArrayBuffer.`);
          return handlers.upload(String(method) as ApiUploadMethod, req, bytes);
        })
      : dropped,
  );
  handlers.onEvent((apiEvent) => {
    for (const win of BrowserWindow.getAllWindows())
      if (ourWindows.has(win.webContents.id)) win.webContents.send(IPC_EVENT_CHANNEL, apiEvent);
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow(mainWindowOptions(preloadPath));
  const id = win.webContents.id;
  ourWindows.add(id);
  win.on('closed', () => ourWindows.delete(id));
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, devServerUrl)) event.preventDefault();
  });
  win.webContents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url, devServerUrl)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.once('ready-to-show', () => win.show());
  void win.loadURL(devServerUrl ?? APP_ENTRY_URL);
  return win;
}

app.on('web-contents-created', (_event, contents) => {
  // No <webview>, no pop-ups, from any webContents that might ever appear.
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => app.quit());

// One instance per user: two would write the same project database and content files.
if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', () => {
  const win = BrowserWindow.getAllWindows()[0];
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

void app.whenReady().then(async () => {
  // The app needs no camera, microphone, notifications or geolocation.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  serveAppProtocol();
  let store: ProjectStore;
  try {
    store = await openProject();
  } catch (err) {
    // A missing or damaged project is the user's to fix: say which and why, then leave.
    dialog.showErrorBox('DeformUX Annotator cannot open the project', err instanceof Error ? err.message : String(err));
    app.quit();
    return;
  }
  // The host switches projects from the app's Projects menu; IPC always reaches the open one.
  const host = new ProjectHost(store, {
    secrets: keychainSecretStore(),
    // The import buttons open the system dialog, attached to the app's window when it has focus.
    pickPaths: (kind) =>
      pickWithDialog(
        {
          showOpenDialog: (o) => {
            const win = BrowserWindow.getFocusedWindow();
            return win ? dialog.showOpenDialog(win, o) : dialog.showOpenDialog(o);
          },
        },
        kind,
      ),
  });
  const handlers = host.handlers;
  // On quit, a running fine-tune pauses at its next step with a checkpoint (it resumes next session)
  // before the database closes; quitting waits for that, once.
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    void host.close().finally(() => app.quit());
  });
  wireIpc(handlers);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});
