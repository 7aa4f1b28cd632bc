// Where DICOMweb credentials come from outside Electron: the environment or a credentials file the
// user keeps (never the project's SQLite file, never a log line).
import { promises as fs } from 'node:fs';
import type { DicomwebAuth } from './http';
import { DicomwebError } from './http';

export const TOKEN_ENV = 'DEFORMUX_DICOMWEB_TOKEN';
export const USER_ENV = 'DEFORMUX_DICOMWEB_USER';
export const PASSWORD_ENV = 'DEFORMUX_DICOMWEB_PASSWORD';

/**
 * Reads a credentials file: JSON `{"token": "..."}` or `{"username": "...", "password": "..."}`.
 * The message on a bad file names the file and what is wrong, never its content.
 */
export async function readCredentialsFile(file: string): Promise<DicomwebAuth> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new DicomwebError(
      `${file}: the credentials file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DicomwebError(
      `${file}: the credentials file is not JSON (expected {"token": ...} or {"username": ..., "password": ...}).`,
    );
  }
  const o = (parsed ?? {}) as Record<string, unknown>;
  if (typeof o.token === 'string' && o.token) return { kind: 'bearer', token: o.token };
  if (typeof o.username === 'string' && o.username && typeof o.password === 'string')
    return { kind: 'basic', username: o.username, password: o.password };
  throw new DicomwebError(`${file}: the credentials file needs "token", or "username" and "password".`);
}

/** Credentials for the CLI: a file when given, else the environment, else those in the URL (if any). */
export async function resolveCliAuth(
  env: NodeJS.ProcessEnv,
  credentialsFile: string | undefined,
  fromUrl: DicomwebAuth | undefined,
): Promise<DicomwebAuth | undefined> {
  if (credentialsFile) return readCredentialsFile(credentialsFile);
  if (env[TOKEN_ENV]) return { kind: 'bearer', token: env[TOKEN_ENV] };
  if (env[USER_ENV]) return { kind: 'basic', username: env[USER_ENV], password: env[PASSWORD_ENV] ?? '' };
  return fromUrl;
}
