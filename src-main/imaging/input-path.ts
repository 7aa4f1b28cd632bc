// Refuses inputs that are not regular files or folders (FIFOs, sockets, devices, /proc files) before
// anything opens them: opening a FIFO for reading blocks a libuv thread until a writer appears, and
// enough of those freeze every file operation of the process.
import { constants, promises as fs } from 'node:fs';
import type { Stats } from 'node:fs';
import { sep } from 'node:path';
import { InputError } from './volume';

/** Kernel pseudo-file systems: their "regular" files are generated on read and never CT. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function underPseudoRoot(real: string): boolean {
  if (process.platform === 'win32') return false;
  return PSEUDO_ROOTS.some((root) => real === root || real.startsWith(root + sep));
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * 'file' or 'dir' for a path that may be read as CT input; an InputError naming the path for
 * anything else (missing, FIFO, socket, device, a symlink to one, or a file under /proc, /sys, /dev).
 * Only metadata is read: nothing is opened.
 */
export async function checkInputPath(path: string): Promise<'file' | 'dir'> {
  let real: string;
  let stat: Stats;
  try {
    real = await fs.realpath(path);
    stat = await fs.stat(real);
  } catch (err) {
    throw new InputError(path, `does not exist or cannot be read (${codeOf(err)})`);
  }
  if (underPseudoRoot(real))
    throw new InputError(path, `resolves to ${real}, a system pseudo-file, not a CT file or folder`);
  if (stat.isDirectory()) return 'dir';
  if (stat.isFile()) return 'file';
  throw new InputError(path, `is ${kindOf(stat)}, not a regular file or folder; refusing to read it`);
}

/**
 * Opens a regular file for reading. O_NONBLOCK makes the open itself return at once even for a FIFO,
 * and fstat on the open descriptor (not the path) decides, so a file swapped after a check cannot slip
 * through. Callers close the handle.
 */
export async function openRegularFile(path: string): Promise<fs.FileHandle> {
  const flags = process.platform === 'win32' ? constants.O_RDONLY : constants.O_RDONLY | constants.O_NONBLOCK;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, flags);
  } catch (err) {
    throw new InputError(path, `cannot be opened (${codeOf(err)})`);
  }
  let stat: Stats;
  try {
    stat = await handle.stat();
  } catch (err) {
    await handle.close();
    throw new InputError(path, `cannot be read (${codeOf(err)})`);
  }
  if (!stat.isFile()) {
    await handle.close();
    throw new InputError(path, `is ${kindOf(stat)}, not a regular file; refusing to read it`);
  }
  return handle;
}

/** The whole content of a regular file (refusing FIFOs and devices as openRegularFile does). */
export async function readRegularFile(path: string): Promise<Buffer> {
  const handle = await openRegularFile(path);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
