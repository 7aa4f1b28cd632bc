// The Electron main process against a stand-in `electron` module: IPC sender check, app:// serving.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC_BINARY_CHANNEL, IPC_CALL_CHANNEL } from '../../../src-main/api/contract';
import { ProjectStore } from '../../../src-main/store/project';
import { huPattern, makeVolume, tempDir } from '../helpers';

type Listener = (...args: unknown[]) => unknown;
const fake = vi.hoisted(() => ({
  ipc: new Map<string, (...args: unknown[]) => unknown>(),
  protocolHandler: undefined as undefined | ((req: Request) => Promise<Response>),
  windows: [] as {
    options: unknown;
    webContents: { id: number; events: Map<string, Listener>; openHandler?: Listener; sent: unknown[] };
  }[],
  userData: '',
}));

vi.mock('electron', () => {
  class BrowserWindow {
    webContents: {
      id: number;
      events: Map<string, Listener>;
      openHandler?: Listener;
      sent: unknown[];
      on: unknown;
      setWindowOpenHandler: unknown;
      send: unknown;
    };
    constructor(readonly options: unknown) {
      const events = new Map<string, Listener>();
      const wc = {
        id: 7,
        events,
        sent: [] as unknown[],
        openHandler: undefined as Listener | undefined,
        on: (name: string, fn: Listener) => events.set(name, fn),
        setWindowOpenHandler: (fn: Listener) => (wc.openHandler = fn),
        send: (...args: unknown[]) => wc.sent.push(args),
      };
      this.webContents = wc;
      fake.windows.push(this as never);
    }
    static getAllWindows() {
      return fake.windows;
    }
    on() {}
    once() {}
    loadURL() {
      return Promise.resolve();
    }
  }
  return {
    BrowserWindow,
    app: {
      isPackaged: true,
      on: () => undefined,
      quit: () => undefined,
      getPath: () => fake.userData,
      requestSingleInstanceLock: () => true,
      whenReady: () => Promise.resolve(),
    },
    dialog: { showErrorBox: (title: string, message: string) => console.error(title, message) },
    ipcMain: { handle: (channel: string, fn: Listener) => fake.ipc.set(channel, fn) },
    protocol: {
      registerSchemesAsPrivileged: () => undefined,
      handle: (_scheme: string, fn: (req: Request) => Promise<Response>) => (fake.protocolHandler = fn),
    },
    net: {
      fetch: async (url: string) =>
        new Response(await readFile(fileURLToPath(url)), { headers: { 'content-type': 'text/html' } }),
    },
    session: {
      defaultSession: { setPermissionRequestHandler: () => undefined, setPermissionCheckHandler: () => undefined },
    },
  };
});

let t: ReturnType<typeof tempDir>;
let caseId: string;

beforeAll(async () => {
  t = tempDir('electron-main');
  fake.userData = t.dir;
  const store = ProjectStore.create(join(t.dir, 'proj'), { schema: 'kidney' });
  caseId = (await store.addCase(makeVolume([4, 3, 2], huPattern))).id;
  store.close();
  process.env.DEFORMUX_PROJECT = join(t.dir, 'proj');
  await import('../../../src-main/electron/main');
  for (let n = 0; n < 200 && fake.windows.length === 0; n++) await new Promise((r) => setTimeout(r, 10));
});

afterAll(() => {
  delete process.env.DEFORMUX_PROJECT;
  t?.cleanup();
});

const event = (id: number, url: string, isMainFrame = true) => ({
  sender: { id },
  senderFrame: { url, parent: isMainFrame ? null : {} },
});

describe('Electron main process', () => {
  it('opens one sandboxed window on app://', () => {
    expect(fake.windows).toHaveLength(1);
    expect(fake.windows[0].options).toMatchObject({
      webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false },
    });
  });

  it('answers API calls from its own window and drops all others', async () => {
    const call = fake.ipc.get(IPC_CALL_CHANNEL)!;
    const ok = (await call(event(7, 'app://deformux/index.html'), 'cases.list', {})) as {
      ok: boolean;
      value: { id: string }[];
    };
    expect(ok.ok).toBe(true);
    expect(ok.value.map((c) => c.id)).toEqual([caseId]);
    for (const e of [
      event(8, 'app://deformux/index.html'),
      event(7, 'https://evil.example/'),
      event(7, 'app://deformux/index.html', false),
    ]) {
      expect(await call(e, 'cases.list', {})).toMatchObject({ ok: false, status: 403 });
    }
    expect(await call(event(7, 'app://deformux/index.html'), 'cases.open', { caseId: 'nope' })).toMatchObject({
      ok: false,
      status: 404,
    });
  });

  it('sends voxels as bytes over the binary channel', async () => {
    const binary = fake.ipc.get(IPC_BINARY_CHANNEL)!;
    const reply = (await binary(event(7, 'app://deformux/index.html'), 'cases.volumeData', { caseId })) as {
      ok: true;
      value: Uint8Array;
    };
    expect(reply.value.byteLength).toBe(4 * 3 * 2 * 2);
    const view = new DataView(reply.value.buffer, reply.value.byteOffset, reply.value.byteLength);
    expect(view.getInt16(2 * (3 + 4 * (2 + 3 * 1)), true)).toBe(huPattern(3, 2, 1));
  });

  it('denies pop-ups and navigation away from the app', () => {
    const wc = fake.windows[0].webContents;
    expect(wc.openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    let prevented = false;
    wc.events.get('will-navigate')!({ preventDefault: () => (prevented = true) }, 'https://example.com/');
    expect(prevented).toBe(true);
  });

  it('serves app:// from the renderer folder with the CSP, refusing escapes', async () => {
    const handler = fake.protocolHandler!;
    const outside = await handler(new Request('app://deformux/..%2f..%2fpackage.json'));
    expect(outside.status).toBe(403);
    const missing = await handler(new Request('app://deformux/assets/none.js'));
    expect(missing.status).toBe(404);
  });
});
