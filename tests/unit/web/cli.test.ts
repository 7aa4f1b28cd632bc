// `node scripts/web.mjs`: exactly one stdout line with the URL, argument errors, an empty project.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openProjectOrDemo } from '../../../src-main/demo/open';
import { parseWebArgs } from '../../../src-main/web/cli';
import { tempDir } from '../helpers';

const REPO = resolve(import.meta.dirname, '../../..');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('web shell command line', () => {
  it('parses --port, --project and demo options, refusing bad values', () => {
    const args = parseWebArgs([
      '--port',
      '0',
      '--project',
      'x',
      '--demo-cases',
      '2',
      '--demo-dims',
      '64,64,32',
      '--demo-spacing',
      '6,6,10',
    ]);
    expect(args).toMatchObject({
      port: 0,
      projectDir: resolve('x'),
      demoCases: 2,
      demoDims: [64, 64, 32],
      demoSpacingMm: [6, 6, 10],
    });
    expect(() => parseWebArgs(['--demo-spacing', '0,1,1'])).toThrow(/--demo-spacing/);
    expect(() => parseWebArgs(['--port', '70000'])).toThrow(/--port must be a whole number from 0 to 65535/);
    expect(() => parseWebArgs(['--port'])).toThrow(/--port needs a value/);
    expect(() => parseWebArgs(['--demo-dims', '1,2'])).toThrow(/--demo-dims/);
    expect(() => parseWebArgs(['--frobnicate', '1'])).toThrow(/unknown option '--frobnicate'/);
    expect(parseWebArgs(['--schema', 'pancreas'])).toMatchObject({ schema: 'pancreas' });
    expect(() => parseWebArgs(['--schema', 'liver'])).toThrow(/--schema must be kidney or pancreas, not 'liver'/);
  });

  it('--schema makes a new project of that schema and refuses an existing project of the other', async () => {
    const t = tempDir('webschema');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'p');
    const created = await openProjectOrDemo(dir, { schema: 'pancreas', demoCases: 1, demoDims: [24, 24, 12] });
    expect(created.info().schema.name).toBe('pancreas');
    expect(created.info().name).toBe('Demo (synthetic pancreas CT)');
    expect(created.listCases().map((c) => c.name)).toEqual(['Synthetic pancreas 01 (seed 1)']);
    created.close();
    await expect(openProjectOrDemo(dir, { schema: 'kidney', demoCases: 1 })).rejects.toThrow(
      /is a pancreas project; --schema kidney chooses the schema of a new project only/,
    );
    const empty = await openProjectOrDemo(join(t.dir, 'q'), { schema: 'pancreas', demoCases: 0 });
    expect(empty.info().schema.name).toBe('pancreas');
    empty.close();
  });

  it('prints exactly one line with the URL, then serves until stopped', async () => {
    const t = tempDir('webcli');
    cleanups.push(t.cleanup);
    const child = spawn(
      process.execPath,
      ['scripts/web.mjs', '--port', '0', '--project', join(t.dir, 'p'), '--demo-cases', '0'],
      { cwd: REPO },
    );
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    const url = await new Promise<string>((res, rej) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('\n')) res(stdout.trim().replace('Serving DeformUX Annotator at ', ''));
      });
      child.on('exit', (code) => rej(new Error(`web shell exited with ${code}`)));
    });
    expect(stdout).toMatch(/^Serving DeformUX Annotator at http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+\n$/);
    const token = new URL(url).searchParams.get('token')!;
    const reply = await fetch(new URL('/api/project.info', url), {
      method: 'POST',
      headers: { 'x-deformux-token': token },
      body: '{}',
    });
    expect(await reply.json()).toMatchObject({ caseCount: 0, schema: { name: 'kidney' } });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('says clearly when the port is taken', async () => {
    const t = tempDir('webcli-port');
    cleanups.push(t.cleanup);
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', () => res()));
    cleanups.push(() => blocker.close());
    const port = (blocker.address() as AddressInfo).port;
    const child = spawn(
      process.execPath,
      ['scripts/web.mjs', '--port', String(port), '--project', join(t.dir, 'p'), '--demo-cases', '0'],
      {
        cwd: REPO,
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await new Promise<number | null>((res) => child.on('exit', res))).toBe(2);
    expect(stderr.trim()).toBe(
      `deformux web: port ${port} on 127.0.0.1 is in use by another program; pick another or use --port 0.`,
    );
  });

  it('refuses a non-empty folder that is not a project', async () => {
    const child = spawn(process.execPath, ['scripts/web.mjs', '--port', '0', '--project', join(REPO, 'src-main')], {
      cwd: REPO,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    expect(code).toBe(2);
    expect(stderr).toMatch(/src-main: is not a DeformUX project and not empty/);
  });
});
