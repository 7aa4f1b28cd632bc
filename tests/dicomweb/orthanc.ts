// Starts a real Orthanc (Debian `orthanc` + `orthanc-dicomweb`) on a free loopback port with a temp
// storage folder, for the DICOMweb tests; each test file starts its own and stops it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ORTHANC_BIN = ['/usr/sbin/Orthanc', '/usr/bin/Orthanc'].find((p) => existsSync(p)) ?? null;
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
export const HAS_ORTHANC = ORTHANC_BIN !== null && existsSync(DICOMWEB_PLUGIN);

export interface RunningOrthanc {
  port: number;
  /** The DICOMweb service root. */
  dicomweb: string;
  /** Orthanc's own REST root (for checks the tests make behind the client's back). */
  rest: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startOrthanc(opts: { users?: Record<string, string> } = {}): Promise<RunningOrthanc> {
  if (!ORTHANC_BIN) throw new Error('Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)');
  const dir = mkdtempSync(join(tmpdir(), 'deformux-orthanc-'));
  const port = await freePort();
  const config = {
    Name: 'deformux-test',
    HttpPort: port,
    DicomServerEnabled: false,
    RemoteAccessAllowed: false,
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    AuthenticationEnabled: Boolean(opts.users),
    RegisteredUsers: opts.users ?? {},
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  };
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config));
  const proc: ChildProcess = spawn(ORTHANC_BIN, [join(dir, 'orthanc.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const rest = `http://127.0.0.1:${port}`;
  const auth = opts.users ? Object.entries(opts.users)[0] : null;
  const headers: Record<string, string> = auth
    ? { authorization: `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}` }
    : {};
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`Orthanc exited (${proc.exitCode}): ${log}`);
    try {
      const r = await fetch(`${rest}/system`, { headers });
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`Orthanc did not answer on port ${port} within 20 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    dicomweb: `${rest}/dicom-web`,
    rest,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Uploads Part 10 files through Orthanc's REST API (not DICOMweb: the client under test is not the oracle). */
export async function uploadToOrthanc(
  rest: string,
  files: Uint8Array[],
  headers: Record<string, string> = {},
): Promise<void> {
  for (const f of files) {
    const r = await fetch(`${rest}/instances`, { method: 'POST', body: f, headers });
    if (!r.ok) throw new Error(`Orthanc refused an upload: HTTP ${r.status} ${await r.text()}`);
  }
}

export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
export const HAS_PYDICOM = spawnSync(PYTHON, ['-c', 'import pydicom']).status === 0;
