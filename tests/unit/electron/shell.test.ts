// Electron shell's pure parts: window options, sender check, navigation, CSP, the preload's verbs.
import { describe, expect, it } from 'vitest';
import { IPC_BINARY_CHANNEL, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from '../../../src-main/api/contract';
import { APP_ENTRY_URL, isAllowedNavigation, isAppUrl } from '../../../src-main/electron/app-protocol';
import { CSP_DIRECTIVES, contentSecurityPolicy } from '../../../src-main/electron/csp';
import { createPreloadApi } from '../../../src-main/electron/preload-api';
import type { PreloadIpc } from '../../../src-main/electron/preload-api';
import { isTrustedSender } from '../../../src-main/electron/sender';
import { mainWindowOptions } from '../../../src-main/electron/window-options';

describe('main window options', () => {
  it('sets isolation, sandbox and no Node explicitly', () => {
    const prefs = mainWindowOptions('/app/out/preload/index.cjs').webPreferences!;
    expect(prefs).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });
});

describe('sender check', () => {
  const ours = new Set([3]);
  const app = (url: string) => isAppUrl(url);
  it('accepts only our window, top frame, showing the app', () => {
    expect(isTrustedSender({ webContentsId: 3, frameUrl: APP_ENTRY_URL, isMainFrame: true }, ours, app)).toBe(true);
    expect(isTrustedSender({ webContentsId: 4, frameUrl: APP_ENTRY_URL, isMainFrame: true }, ours, app)).toBe(false);
    expect(isTrustedSender({ webContentsId: 3, frameUrl: APP_ENTRY_URL, isMainFrame: false }, ours, app)).toBe(false);
    expect(isTrustedSender({ webContentsId: 3, frameUrl: 'https://evil.example/', isMainFrame: true }, ours, app)).toBe(
      false,
    );
    expect(isTrustedSender({ webContentsId: 3, frameUrl: 'file:///etc/passwd', isMainFrame: true }, ours, app)).toBe(
      false,
    );
    expect(isTrustedSender({ webContentsId: 3, frameUrl: '', isMainFrame: true }, ours, app)).toBe(false);
  });
});

describe('navigation', () => {
  it('stays inside app:// (and the dev server only when given)', () => {
    expect(isAllowedNavigation('app://deformux/index.html#case=1')).toBe(true);
    expect(isAllowedNavigation('app://other/index.html')).toBe(false);
    expect(isAllowedNavigation('https://example.com/')).toBe(false);
    expect(isAllowedNavigation('file:///tmp/x.html')).toBe(false);
    expect(isAllowedNavigation('not a url')).toBe(false);
    expect(isAllowedNavigation('http://localhost:5173/x', 'http://localhost:5173/')).toBe(true);
    expect(isAllowedNavigation('http://localhost:5174/x', 'http://localhost:5173/')).toBe(false);
  });
});

describe('content security policy', () => {
  it('allows only our own code, wasm, and no framing, plugins or remote loads', () => {
    const csp = contentSecurityPolicy();
    const parsed = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(parsed['default-src']).toEqual(["'none'"]);
    expect(parsed['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(parsed['object-src']).toEqual(["'none'"]);
    expect(parsed['frame-ancestors']).toEqual(["'none'"]);
    for (const sources of Object.values(CSP_DIRECTIVES)) {
      for (const s of sources) expect(s, 'no remote or eval sources').not.toMatch(/^(https?:|\*|'unsafe-eval')/);
    }
    expect(parsed['script-src']).not.toContain("'unsafe-inline'");
  });
});

describe('preload verbs', () => {
  function fakeIpc(reply: (channel: string, args: unknown[]) => unknown) {
    const calls: [string, unknown[]][] = [];
    const listeners = new Map<string, ((e: unknown, p: unknown) => void)[]>();
    const ipc: PreloadIpc = {
      invoke: async (channel, ...args) => {
        calls.push([channel, args]);
        return reply(channel, args);
      },
      on: (channel, l) => listeners.set(channel, [...(listeners.get(channel) ?? []), l]),
      removeListener: (channel, l) =>
        listeners.set(
          channel,
          (listeners.get(channel) ?? []).filter((x) => x !== l),
        ),
    };
    return { ipc, calls, listeners };
  }

  it('sends calls on the call channel and unwraps results and errors', async () => {
    const { ipc, calls } = fakeIpc((_c, args) =>
      args[0] === 'cases.list' ? { ok: true, value: [] } : { ok: false, status: 404, error: 'no case with id x' },
    );
    const api = createPreloadApi(ipc);
    expect(await api.call('cases.list', {})).toEqual([]);
    await expect(api.call('cases.open', { caseId: 'x' })).rejects.toThrow('no case with id x');
    expect(calls.map(([c, a]) => [c, a[0]])).toEqual([
      [IPC_CALL_CHANNEL, 'cases.list'],
      [IPC_CALL_CHANNEL, 'cases.open'],
    ]);
    await expect(api.call('shell.exec' as never, {} as never)).rejects.toThrow(/unknown API call/);
    expect(calls).toHaveLength(2);
  });

  it('returns binary payloads as an exact ArrayBuffer', async () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 9]);
    const { ipc, calls } = fakeIpc(() => ({ ok: true, value: backing.subarray(2, 6) }));
    const buf = await createPreloadApi(ipc).binary('cases.volumeData', { caseId: 'a' });
    expect(calls[0][0]).toBe(IPC_BINARY_CHANNEL);
    expect(Array.from(new Uint8Array(buf))).toEqual([1, 2, 3, 4]);
  });

  it('passes event payloads without the IPC event object, and unsubscribes', () => {
    const { ipc, listeners } = fakeIpc(() => undefined);
    const seen: unknown[] = [];
    const off = createPreloadApi(ipc).onEvent((e) => seen.push(e));
    const payload = { name: 'cases.changed', payload: { caseIds: ['a'] } };
    listeners.get(IPC_EVENT_CHANNEL)![0]({ sender: 'secret' }, payload);
    expect(seen).toEqual([payload]);
    off();
    expect(listeners.get(IPC_EVENT_CHANNEL)).toEqual([]);
  });
});
