// Starts the real web shell (`node scripts/web.mjs`) on a fresh synthetic demo project for a test
// file, and reads the one line it prints to learn its URL and token.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const SERVING_LINE = /^Serving DeformUX Annotator at (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))$/m;

export interface WebShell {
  /** The printed URL, with ?token=. */
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

export interface WebShellOptions {
  /** Phantom size of the demo project (small keeps the tests fast). */
  demoDims: [number, number, number];
  demoCases: number;
  startTimeoutMs?: number;
}

export async function startWebShell(opts: WebShellOptions): Promise<WebShell> {
  // For debugging against a shell you already run: DEFORMUX_WEB_URL='http://127.0.0.1:PORT/?token=…'.
  const existing = process.env.DEFORMUX_WEB_URL;
  if (existing) {
    const u = new URL(existing);
    return { url: existing, origin: u.origin, token: u.searchParams.get('token') ?? '', close: async () => {} };
  }
  if (!existsSync(join(REPO_ROOT, 'out/renderer/index.html'))) {
    throw new Error('out/renderer/index.html is missing: build the renderer first (npm run build).');
  }
  const projectDir = join(mkdtempSync(join(tmpdir(), 'deformux-browser-')), 'project');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      'scripts/web.mjs',
      '--port',
      '0',
      '--project',
      projectDir,
      '--demo-cases',
      String(opts.demoCases),
      '--demo-dims',
      opts.demoDims.join(','),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Recent projects go beside the test's project, not into the user's config folder.
      env: { ...process.env, DEFORMUX_RECENT_FILE: join(projectDir, '..', 'recent-projects.json') },
    },
  );
  let output = '';
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(resolve(projectDir, '..'), { recursive: true, force: true });
  };
  try {
    const match = await new Promise<RegExpMatchArray>((resolveLine, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`web shell printed no URL within ${opts.startTimeoutMs ?? 60_000} ms:\n${output}`)),
        opts.startTimeoutMs ?? 60_000,
      );
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const m = SERVING_LINE.exec(output);
        if (m) {
          clearTimeout(timer);
          resolveLine(m);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`web shell exited with code ${code} before serving:\n${output}`));
      });
    });
    return { url: match[1], origin: `http://127.0.0.1:${match[2]}`, token: match[3], close: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
