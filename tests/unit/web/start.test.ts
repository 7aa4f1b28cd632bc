// `npm start` without Electron's binary: one line saying so, then the web shell on the project.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';

const REPO = resolve(import.meta.dirname, '../../..');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Same rule as start.mjs: the package's path.txt names a binary that exists. */
function electronInstalled(): boolean {
  const pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(pkgDir, 'path.txt');
  return existsSync(pathFile) && existsSync(join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim()));
}

describe('npm start', () => {
  it.skipIf(electronInstalled())('falls back to the web shell, saying so in one line', async () => {
    const t = tempDir('start');
    cleanups.push(t.cleanup);
    const child = spawn(
      process.execPath,
      ['scripts/start.mjs', '--no-build', '--project', join(t.dir, 'p'), '--demo-cases', '0', '--port', '0'],
      { cwd: REPO },
    );
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('Serving')) res();
      });
      child.on('exit', (code) => rej(new Error(`start exited with ${code}: ${stdout}`)));
    });
    await new Promise((r) => setTimeout(r, 50));
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/Electron's binary is not installed .* web shell/);
    expect(lines[1]).toMatch(/^Serving DeformUX Annotator at http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+$/);
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
