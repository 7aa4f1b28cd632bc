// A raw copy of large case images under <project>/cache/images/, so opening a case reads its voxels
// (and a single slice for the viewer's preview) straight from disk instead of inflating the whole
// .nii.gz each time. The copy is named after the image file's inode, size and modification time: a
// rewritten image gets a new name, so a stale copy is never read. Copies are written atomically, the
// least recently used go when the folder grows past its budget, and the folder can be deleted at any
// time (it is rebuilt on the next open).
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { VolumeHeader } from '../domain/cases';
import { sliceShape, type SliceAxis } from '../imaging/slice';
import type { Volume, VoxelArray } from '../imaging/volume';
import { writeFileAtomic } from '../util/atomic';
import { voxelBytesLE } from './storage';

export const RAW_CACHE_DIR = join('cache', 'images');
/** Smaller images inflate in a few milliseconds: not worth a second copy on disk. */
export const RAW_CACHE_MIN_BYTES = 8 * 1024 * 1024;
/** Room the copies may take in a project (a 512×512×300 CT is 150 MiB). */
export const RAW_CACHE_BUDGET_BYTES = 8 * 1024 ** 3;

const MAGIC = 'DXRAW1\0\0';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** A copy's name: <caseId>.<inode>-<size>-<mtime ns>.raw (all base 36). */
const COPY_NAME = /^([A-Za-z0-9_-]{1,64})\.[0-9a-z]+-[0-9a-z]+-[0-9a-z]+\.raw$/;

export interface RawCacheOptions {
  minBytes?: number;
  budgetBytes?: number;
}

/** What the copy's header records: the volume as the NIfTI reader gave it, less the voxels. */
type CopyHeader = Omit<Volume, 'data'> & { dataType: VolumeHeader['dataType'] };

function bytesPerVoxel(dataType: VolumeHeader['dataType']): number {
  return dataType === 'int16' ? 2 : dataType === 'float32' ? 4 : 1;
}

function dataTypeOf(data: VoxelArray): VolumeHeader['dataType'] | null {
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Uint8Array) return 'uint8';
  return null;
}

function allocate(dataType: VolumeHeader['dataType'], n: number): Int16Array | Float32Array | Uint8Array {
  return dataType === 'int16' ? new Int16Array(n) : dataType === 'float32' ? new Float32Array(n) : new Uint8Array(n);
}

/** Reads exactly `into.length` bytes at `position`; false when the file ends first. */
async function readExactly(handle: FileHandle, into: Uint8Array, position: number): Promise<boolean> {
  let got = 0;
  while (got < into.length) {
    const { bytesRead } = await handle.read(into, got, into.length - got, position + got);
    if (bytesRead === 0) return false;
    got += bytesRead;
  }
  return true;
}

/** An open copy whose header matched the case: where its voxels start. */
interface OpenCopy {
  handle: FileHandle;
  header: CopyHeader;
  dataOffset: number;
}

export class RawImageCache {
  readonly dir: string;
  readonly minBytes: number;
  readonly budgetBytes: number;
  readonly #pending = new Set<Promise<void>>();

  constructor(projectDir: string, opts: RawCacheOptions = {}) {
    this.dir = join(projectDir, RAW_CACHE_DIR);
    this.minBytes = opts.minBytes ?? RAW_CACHE_MIN_BYTES;
    this.budgetBytes = opts.budgetBytes ?? RAW_CACHE_BUDGET_BYTES;
  }

  /** Whether an image of this size gets a copy. */
  wants(header: Pick<VolumeHeader, 'dims' | 'dataType'>): boolean {
    return (
      LITTLE_ENDIAN &&
      header.dims[0] * header.dims[1] * header.dims[2] * bytesPerVoxel(header.dataType) >= this.minBytes
    );
  }

  /**
   * The name of the copy that matches the image file as it is now, or null when the file cannot be
   * looked at (then nothing is cached). Take it before reading the image, so a copy written from that
   * read is never filed under a newer version of the file.
   */
  async keyOf(caseId: string, imageFile: string): Promise<string | null> {
    try {
      const st = await fs.stat(imageFile, { bigint: true });
      if (!st.isFile()) return null;
      return `${caseId}.${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}.raw`;
    } catch {
      return null;
    }
  }

  async #open(key: string, header: Pick<VolumeHeader, 'dims' | 'dataType'>): Promise<OpenCopy | null> {
    let handle: FileHandle;
    try {
      handle = await fs.open(join(this.dir, key), 'r');
    } catch {
      return null;
    }
    try {
      const head = new Uint8Array(12);
      if (!(await readExactly(handle, head, 0)) || Buffer.from(head.subarray(0, 8)).toString('latin1') !== MAGIC)
        throw new Error('not a raw copy');
      const jsonBytes = new DataView(head.buffer).getUint32(8, true);
      if (jsonBytes > 64 * 1024) throw new Error('header too long');
      const json = new Uint8Array(jsonBytes);
      if (!(await readExactly(handle, json, 12))) throw new Error('truncated header');
      const copy = JSON.parse(Buffer.from(json).toString('utf8')) as CopyHeader;
      const dataOffset = Math.ceil((12 + jsonBytes) / 8) * 8;
      const n = header.dims[0] * header.dims[1] * header.dims[2];
      const { size } = await handle.stat();
      if (
        copy.dataType !== header.dataType ||
        copy.dims?.join() !== header.dims.join() ||
        size !== dataOffset + n * bytesPerVoxel(header.dataType)
      )
        throw new Error('does not match the case');
      return { handle, header: copy, dataOffset };
    } catch {
      await handle.close().catch(() => undefined);
      return null;
    }
  }

  /** Marks a copy as used now (the budget removes the least recently used first). */
  async #touch(key: string): Promise<void> {
    const now = new Date();
    await fs.utimes(join(this.dir, key), now, now).catch(() => undefined);
  }

  /** The whole image from its copy, or null when there is no valid copy for `key`. */
  async read(key: string, header: Pick<VolumeHeader, 'dims' | 'dataType'>): Promise<Volume | null> {
    const copy = await this.#open(key, header);
    if (!copy) return null;
    try {
      const n = header.dims[0] * header.dims[1] * header.dims[2];
      const data = allocate(header.dataType, n);
      if (!(await readExactly(copy.handle, new Uint8Array(data.buffer), copy.dataOffset))) return null;
      await this.#touch(key);
      const h = copy.header;
      return {
        data,
        dims: h.dims,
        spacingMm: h.spacingMm,
        originMm: h.originMm,
        direction: h.direction,
        modality: h.modality,
        description: h.description,
        source: h.source,
      };
    } finally {
      await copy.handle.close().catch(() => undefined);
    }
  }

  /**
   * One slice read straight from the copy (layout of imaging/slice), without reading the rest: an
   * axial slice is one read, a slice along j one read per k. Null without a valid copy, and for
   * axis 0, whose voxels are spread over the whole file (read the volume instead).
   */
  async readSlice(
    key: string,
    header: Pick<VolumeHeader, 'dims' | 'dataType'>,
    axis: SliceAxis,
    index: number,
  ): Promise<VoxelArray | null> {
    if (axis === 0) return null;
    const copy = await this.#open(key, header);
    if (!copy) return null;
    try {
      const [ni, nj] = header.dims;
      const bpv = bytesPerVoxel(header.dataType);
      const { width, height } = sliceShape(header.dims, axis);
      const out = allocate(header.dataType, width * height);
      const bytes = new Uint8Array(out.buffer);
      if (axis === 2) {
        if (!(await readExactly(copy.handle, bytes, copy.dataOffset + index * ni * nj * bpv))) return null;
      } else {
        const row = ni * bpv;
        for (let k = 0; k < height; k++) {
          const at = copy.dataOffset + (k * nj + index) * row;
          if (!(await readExactly(copy.handle, bytes.subarray(k * row, (k + 1) * row), at))) return null;
        }
      }
      await this.#touch(key);
      return out;
    } finally {
      await copy.handle.close().catch(() => undefined);
    }
  }

  /**
   * Writes the copy (atomically: a reader sees the whole copy or none), drops the case's older copies
   * and trims the folder to its budget. Images too small for a copy are skipped.
   */
  async write(caseId: string, key: string, volume: Volume): Promise<void> {
    const dataType = dataTypeOf(volume.data);
    if (!dataType || !this.wants({ dims: volume.dims, dataType })) return;
    const header: CopyHeader = {
      dims: volume.dims,
      dataType,
      spacingMm: volume.spacingMm,
      originMm: volume.originMm,
      direction: volume.direction,
      modality: volume.modality,
      description: volume.description,
      source: volume.source,
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const head = Buffer.alloc(Math.ceil((12 + json.length) / 8) * 8);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(json.length, 8);
    json.copy(head, 12);
    await fs.mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, key), [head, voxelBytesLE(volume.data)]);
    for (const name of await fs.readdir(this.dir)) {
      if (name !== key && COPY_NAME.exec(name)?.[1] === caseId)
        await fs.rm(join(this.dir, name), { force: true }).catch(() => undefined);
    }
    await this.#trim(key);
  }

  /** `write` in the background: its errors only cost the cache. `settled()` waits for it. */
  store(caseId: string, key: string, volume: Volume): void {
    const write = this.write(caseId, key, volume).catch(() => undefined);
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  /** Removes the least recently used copies (never `keep`) until the folder fits the budget. */
  async #trim(keep: string): Promise<void> {
    const copies: { name: string; size: number; used: number }[] = [];
    for (const name of await fs.readdir(this.dir)) {
      if (!COPY_NAME.test(name)) continue;
      const st = await fs.stat(join(this.dir, name)).catch(() => null);
      if (st) copies.push({ name, size: st.size, used: st.mtimeMs });
    }
    let total = copies.reduce((s, c) => s + c.size, 0);
    copies.sort((a, b) => a.used - b.used);
    for (const c of copies) {
      if (total <= this.budgetBytes) break;
      if (c.name === keep) continue;
      await fs.rm(join(this.dir, c.name), { force: true }).catch(() => undefined);
      total -= c.size;
    }
  }

  /** Waits for the copies being written (tests, benchmarks and shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/** The case id a file of the cache folder belongs to (null for anything else). */
export function rawCopyCaseId(name: string): string | null {
  return COPY_NAME.exec(name)?.[1] ?? null;
}
