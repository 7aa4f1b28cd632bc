// A small worker-thread pool that runs the WebAssembly codecs (JPEG 2000, JPEG-LS, JPEG baseline) in parallel.
//
// The worker is plain CommonJS given as a string (eval), requiring only the codec packages by absolute
// path: it needs no TypeScript loader, so it runs the same under tsx, vitest and the Electron main process.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export type WasmCodec = 'openjpeg' | 'charls' | 'libjpeg';

export interface DecodedFrame {
  width: number;
  height: number;
  componentCount: number;
  bytes: Uint8Array;
}

const CODECS: Record<WasmCodec, { module: string; className: string }> = {
  openjpeg: { module: '@cornerstonejs/codec-openjpeg/decodewasmjs', className: 'J2KDecoder' },
  charls: { module: '@cornerstonejs/codec-charls/decodewasmjs', className: 'JpegLSDecoder' },
  libjpeg: { module: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', className: 'JPEGDecoder' },
};

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// A fresh options object per load: the factory builds the module on it, and a reload into the same
// object fails ("Cannot register public name ... twice").
const quiet = () => ({ print() {}, printErr() {} });
const loaded = {};
function decoderClass(codec) {
  if (!loaded[codec]) {
    const spec = workerData.codecs[codec];
    loaded[codec] = require(spec.path)(quiet()).then((m) => m[spec.className]);
  }
  return loaded[codec];
}
parentPort.on('message', async ({ id, codec, encoded }) => {
  let decoder;
  try {
    const Decoder = await decoderClass(codec);
    decoder = new Decoder();
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const fi = decoder.getFrameInfo();
    const bytes = decoder.getDecodedBuffer().slice();
    parentPort.postMessage({ id, width: fi.width, height: fi.height, componentCount: fi.componentCount, bytes }, [bytes.buffer]);
  } catch (err) {
    loaded[codec] = undefined; // a WebAssembly trap may leave the module broken: reload next time
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  } finally {
    try { if (decoder) decoder.delete(); } catch { loaded[codec] = undefined; }
  }
});
`;

interface Pending {
  resolve: (f: DecodedFrame) => void;
  reject: (e: Error) => void;
}

/** Thrown for a frame the codec rejected (corrupt data), as opposed to a pool failure. */
export class CodecError extends Error {}

export class DecodePool {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly owner = new Map<number, number>();
  private readonly load: number[] = [];
  private nextId = 0;
  private broken: Error | null = null;

  constructor(size: number) {
    this.size = size;
    const require = createRequire(import.meta.url);
    const codecs: Record<string, { path: string; className: string }> = {};
    for (const [name, spec] of Object.entries(CODECS))
      codecs[name] = { path: require.resolve(spec.module), className: spec.className };
    for (let w = 0; w < size; w++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { codecs } });
      worker.unref(); // never keeps the process alive
      worker.on('message', (m: { id: number; error?: string } & Partial<DecodedFrame>) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        this.load[this.owner.get(m.id) ?? 0]--;
        this.owner.delete(m.id);
        if (m.error !== undefined) p.reject(new CodecError(m.error));
        else p.resolve({ width: m.width!, height: m.height!, componentCount: m.componentCount!, bytes: m.bytes! });
      });
      worker.on('error', (err) => this.fail(err));
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  private fail(err: Error): void {
    this.broken = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Decodes one frame on the least busy worker. Rejects with CodecError for bad data. */
  decode(codec: WasmCodec, encoded: Uint8Array): Promise<DecodedFrame> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[w]) w = i;
    this.load[w]++;
    this.owner.set(id, w);
    return new Promise<DecodedFrame>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[w].postMessage({ id, codec, encoded });
    });
  }

  async close(): Promise<void> {
    this.fail(new Error('decode pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Worker count to use by default: all cores but one (the main thread reads and parses), at most 8. */
export function defaultWorkerCount(): number {
  return Math.max(0, Math.min(8, availableParallelism() - 1));
}
