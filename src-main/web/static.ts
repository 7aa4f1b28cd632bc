// Maps request paths to files inside the renderer folder, refusing anything that escapes it (by name or
// through a symlink) and anything that is not a regular file.
import { constants, promises as fs } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function isInside(rootAbs: string, file: string): boolean {
  const inside = relative(rootAbs, file);
  return !(inside === '' || inside.startsWith('..') || isAbsolute(inside) || inside.split(sep).includes('..'));
}

/** The path a URL names under `root`, by its string alone (no file system access); null when it would leave. */
function lexicalPathInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const rel = decoded.replace(/^\/+/, '');
  if (rel === '') return resolve(root, 'index.html');
  if (rel.split('/').some((part) => part === '..') || isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) return null;
  const rootAbs = resolve(root);
  const file = resolve(rootAbs, rel);
  return isInside(rootAbs, file) ? file : null;
}

/**
 * The real path of the file under `root` that a URL path names, or null when the path is malformed,
 * would leave `root` (`..`, encoded separators, NUL, absolute or drive paths, or a symlink whose
 * target lies outside), or names something other than a regular file or folder (FIFO, socket,
 * device). A path that does not exist is returned as named, so the caller answers 404. `/` names
 * index.html.
 */
export async function resolveInside(root: string, urlPath: string): Promise<string | null> {
  const file = lexicalPathInside(root, urlPath);
  if (!file) return null;
  let real: string;
  let rootReal: string;
  try {
    rootReal = await fs.realpath(root);
  } catch {
    return file; // no renderer build: the caller serves its placeholder or 404
  }
  try {
    real = await fs.realpath(file);
  } catch {
    return file;
  }
  if (!isInside(rootReal, real)) return null;
  const stat = await fs.stat(real).catch(() => null);
  if (!stat) return file;
  if (!stat.isFile() && !stat.isDirectory()) return null;
  return real;
}

/**
 * Reads a regular file without ever blocking on a FIFO or device that replaced it after the check:
 * O_NONBLOCK open, then fstat of the descriptor. Null for a FIFO, socket or device; throws for a folder.
 */
export async function readStaticFile(file: string): Promise<Buffer | null> {
  const flags = process.platform === 'win32' ? constants.O_RDONLY : constants.O_RDONLY | constants.O_NONBLOCK;
  const handle = await fs.open(file, flags);
  try {
    const stat = await handle.stat();
    // A folder is simply not a file here (404); a FIFO, socket or device is refused (null, 403).
    if (stat.isDirectory()) throw Object.assign(new Error(`${file} is a folder`), { code: 'EISDIR' });
    if (!stat.isFile()) return null;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
