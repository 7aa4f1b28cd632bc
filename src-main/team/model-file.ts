// One signed file per shared model: the model folder (config, scrubbed model.json, weights), its
// metrics and its parents, with the SHA-256 of every file in a manifest signed by the exporting
// project's Ed25519 key. Import checks the signature and every hash before anything is written.
//
// Layout: "DFXMODEL1\n", u32 LE manifest length, manifest (JSON, UTF-8), u32 LE signature length,
// signature, then the files' bytes in manifest order.
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  createPrivateKey,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { userInfo } from 'node:os';
import type { ModelInfo } from '../domain/models';
import { modelIdOfFolder } from '../jobs/finetune-plan';
import { getModel, registerModel } from '../store/model-rows';
import type { ProjectStore } from '../store/project';
import { writeFileAtomic } from '../util/atomic';
import { scrubContextOf, scrubJson, scrubString } from './scrub';

const MAGIC = Buffer.from('DFXMODEL1\n');
export const MODEL_FILE_EXTENSION = '.dfxmodel';
/** The files of a model folder that travel (checkpoints and optimizer state stay home). */
const SHARED_FILES = ['config.json', 'model.json', 'weights.safetensors'];
const MAX_MANIFEST_BYTES = 4 << 20;

export class ModelFileError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelFileError';
  }
}

interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface ModelManifest {
  format: 'deformux-shared-model';
  version: 1;
  model: { id: string; schema: string; version: number; metrics: Record<string, number>; training: unknown };
  /** The model's ancestors, nearest first (ids, versions, metrics). */
  parents: { id: string; version: number; metrics: Record<string, number> }[];
  /** Who shared it: a label the exporter chose (default: the OS user name), and the signing key. */
  origin: { label: string; keyFingerprint: string; publicKey: string };
  files: ManifestFile[];
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** The project's signing key (made on first export; private, mode 0600). */
async function signingKey(store: ProjectStore): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const file = join(store.dir, 'keys', 'model-signing-key.pem');
  if (existsSync(file)) {
    const privateKey = createPrivateKey(await fs.readFile(file));
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await fs.mkdir(join(store.dir, 'keys'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  await fs.chmod(file, 0o600);
  return { privateKey, publicKey };
}

const fingerprintOf = (publicKeyDer: Buffer): string => sha256(publicKeyDer).slice(0, 16);

function parentsOf(store: ProjectStore, model: ModelInfo): ModelManifest['parents'] {
  const out: ModelManifest['parents'] = [];
  const seen = new Set<string>([model.id]);
  for (let p = model.parentId ? getModel(store, model.parentId) : null; p && !seen.has(p.id);) {
    seen.add(p.id);
    out.push({ id: p.id, version: p.version, metrics: p.metrics });
    p = p.parentId ? getModel(store, p.parentId) : null;
  }
  return out;
}

/** Writes model `modelId` of the project as one signed file at `outFile`; returns its manifest. */
export async function exportModelFile(
  store: ProjectStore,
  modelId: string,
  outFile: string,
  opts: { label?: string } = {},
): Promise<ModelManifest> {
  const model = getModel(store, modelId);
  if (!model) throw new ModelFileError(outFile, `the project has no model '${modelId}' to export`);
  const ctx = scrubContextOf(store, randomBytes(32));
  const blobs: Buffer[] = [];
  const files: ManifestFile[] = [];
  for (const name of SHARED_FILES) {
    const path = join(model.folder, name);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(path);
    } catch (err) {
      throw new ModelFileError(path, `cannot be read for export (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    if (name === 'model.json')
      bytes = Buffer.from(`${JSON.stringify(scrubJson(JSON.parse(bytes.toString('utf8')), ctx), null, 2)}\n`);
    blobs.push(bytes);
    files.push({ name, bytes: bytes.length, sha256: sha256(bytes) });
  }
  const { privateKey, publicKey } = await signingKey(store);
  const publicDer = publicKey.export({ type: 'spki', format: 'der' });
  const manifest: ModelManifest = {
    format: 'deformux-shared-model',
    version: 1,
    model: {
      id: scrubString(model.id, ctx),
      schema: model.schema,
      version: model.version,
      metrics: model.metrics,
      training: scrubJson(model.training, ctx),
    },
    parents: parentsOf(store, model).map((p) => ({ ...p, id: scrubString(p.id, ctx) })),
    origin: {
      label: scrubString(opts.label ?? userInfo().username, ctx),
      keyFingerprint: fingerprintOf(publicDer),
      publicKey: publicDer.toString('base64'),
    },
    files,
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const signature = sign(null, manifestBytes, privateKey);
  await writeFileAtomic(
    outFile,
    Buffer.concat([MAGIC, u32(manifestBytes.length), manifestBytes, u32(signature.length), signature, ...blobs]),
  );
  return manifest;
}

/** Parses and checks a model file: signature over the manifest, then size and SHA-256 of every file. */
export async function readModelFile(file: string): Promise<{ manifest: ModelManifest; blobs: Map<string, Buffer> }> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    throw new ModelFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (data.length < MAGIC.length + 8 || !data.subarray(0, MAGIC.length).equals(MAGIC))
    throw new ModelFileError(file, 'is not a DeformUX shared model file');
  let at = MAGIC.length;
  const take = (n: number, what: string): Buffer => {
    if (n < 0 || at + n > data.length) throw new ModelFileError(file, `is truncated (in the ${what})`);
    const b = data.subarray(at, at + n);
    at += n;
    return b;
  };
  const manifestLength = take(4, 'header').readUInt32LE();
  if (manifestLength > MAX_MANIFEST_BYTES) throw new ModelFileError(file, 'has an implausibly large manifest');
  const manifestBytes = take(manifestLength, 'manifest');
  const signature = take(take(4, 'header').readUInt32LE(), 'signature');
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as ModelManifest;
  } catch {
    throw new ModelFileError(file, 'has a manifest that is not JSON');
  }
  if (manifest.format !== 'deformux-shared-model' || !Array.isArray(manifest.files) || !manifest.origin?.publicKey)
    throw new ModelFileError(file, 'has a manifest of an unknown format');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(manifest.origin.publicKey, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new ModelFileError(file, 'carries an unreadable signing key');
  }
  if (!verify(null, manifestBytes, publicKey, signature))
    throw new ModelFileError(file, 'the signature does not match its manifest (altered or damaged)');
  if (fingerprintOf(Buffer.from(manifest.origin.publicKey, 'base64')) !== manifest.origin.keyFingerprint)
    throw new ModelFileError(file, 'the key fingerprint does not match its key');
  const blobs = new Map<string, Buffer>();
  for (const f of manifest.files) {
    if (!SHARED_FILES.includes(f.name))
      throw new ModelFileError(file, `lists an unexpected member '${String(f.name).slice(0, 60)}'`);
    const bytes = take(f.bytes, f.name);
    if (sha256(bytes) !== f.sha256)
      throw new ModelFileError(file, `${f.name} does not match its SHA-256 (altered or damaged)`);
    blobs.set(f.name, bytes);
  }
  if (at !== data.length)
    throw new ModelFileError(file, `has ${data.length - at} unexpected bytes after its last member`);
  for (const name of SHARED_FILES) if (!blobs.has(name)) throw new ModelFileError(file, `has no ${name}`);
  return { manifest, blobs };
}

/**
 * Imports a checked model file into the project's models/ folder (written whole, then renamed) and
 * registers it as a candidate whose note says where it came from.
 */
export async function importModelFile(store: ProjectStore, file: string): Promise<ModelInfo> {
  const { manifest, blobs } = await readModelFile(file);
  const schema = store.info().schema.name;
  if (manifest.model.schema !== schema)
    throw new ModelFileError(file, `holds a ${manifest.model.schema} model; this project's schema is ${schema}`);
  const contentHash = sha256(Buffer.from(manifest.files.map((f) => f.sha256).join('')));
  const folder = join(
    store.dir,
    'models',
    `${schema}-shared-${manifest.origin.keyFingerprint.slice(0, 8)}-${contentHash.slice(0, 8)}`,
  );
  const from = `shared by ${manifest.origin.label} (key ${manifest.origin.keyFingerprint}) from ${basename(file)}`;
  if (!existsSync(join(folder, 'model.json'))) {
    const temp = `${folder}.partial-${randomBytes(4).toString('hex')}`;
    await fs.mkdir(temp, { recursive: true });
    try {
      for (const [name, bytes] of blobs) await writeFileAtomic(join(temp, name), bytes);
      await fs.rename(temp, folder);
    } catch (err) {
      await fs.rm(temp, { recursive: true, force: true });
      throw err;
    }
  }
  const id = modelIdOfFolder(folder);
  const parent = manifest.parents[0];
  return registerModel(store, {
    id,
    schema,
    folder,
    parentId: parent && getModel(store, parent.id) ? parent.id : null,
    metrics: manifest.model.metrics,
    status: 'candidate',
    note: from,
    training: {
      sharedFrom: {
        label: manifest.origin.label,
        keyFingerprint: manifest.origin.keyFingerprint,
        file: basename(file),
      },
      originalId: manifest.model.id,
      originalVersion: manifest.model.version,
      parents: manifest.parents,
      record: manifest.model.training,
    },
  });
}
