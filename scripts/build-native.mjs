#!/usr/bin/env node
// Builds the native kernel addon (native/) with node-gyp against the installed Node headers, then the
// optional CUDA library with nvcc when one is found. Runs as `postinstall`; `--force` rebuilds even when
// the addon is newer than its sources. A failed CUDA build only warns; a failed addon build warns loudly
// on postinstall (the engine then falls back to slow pure-JS kernels) and fails with --force.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const releaseDir = join(nativeDir, 'build', 'Release');
const addonPath = join(releaseDir, 'deformux_native.node');
const cudaLibPath = join(releaseDir, 'libdeformux_cuda.so');
const force = process.argv.includes('--force');
const noCuda = process.argv.includes('--no-cuda') || process.env.DEFORMUX_CUDA === '0';

function log(msg) {
  console.log(`[build-native] ${msg}`);
}

function loud(msg) {
  const bar = '*'.repeat(96);
  console.warn(`\n${bar}\n* ${msg.split('\n').join('\n* ')}\n${bar}\n`);
}

function newestMtime(dir, exts) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'build' && entry.name !== 'harness') newest = Math.max(newest, newestMtime(p, exts));
    } else if (exts.some((e) => entry.name.endsWith(e))) {
      newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

function upToDate(target, exts) {
  if (!existsSync(target)) return false;
  return (
    statSync(target).mtimeMs >= Math.max(newestMtime(nativeDir, exts), statSync(join(nativeDir, 'binding.gyp')).mtimeMs)
  );
}

/** node-gyp: the one npm runs scripts with, else the project's, else the copy bundled with npm. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  return candidates.find((p) => p && existsSync(p)) ?? null;
}

/** The Node headers already on this machine (avoids a download): <prefix>/include/node. */
function findNodeDir() {
  for (const prefix of [resolve(dirname(process.execPath), '..'), '/usr', '/usr/local']) {
    if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  }
  return null;
}

function buildAddon() {
  if (!force && upToDate(addonPath, ['.cc', '.h', '.inc', '.gyp'])) {
    log(`addon up to date (${addonPath})`);
    return true;
  }
  const gyp = findNodeGyp();
  if (!gyp) {
    loud(
      'deformux: node-gyp was not found, so the native kernels were not built.\nInstall node-gyp (npm i -g node-gyp) and run: npm run build:native',
    );
    return false;
  }
  const nodedir = findNodeDir();
  const args = [gyp, 'rebuild', '--directory', nativeDir, '-j', 'max'];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  log(`node ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
  const t0 = Date.now();
  const res = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (res.status !== 0) {
    loud(
      `deformux: building the native kernels failed (node-gyp exit ${res.status}).\nThe engine will fall back to pure-JS kernels (hundreds of times slower).\nFix the compiler error above and run: npm run build:native`,
    );
    return false;
  }
  log(`addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

function findNvcc() {
  const candidates = [];
  if (process.env.CUDA_HOME) candidates.push(join(process.env.CUDA_HOME, 'bin', 'nvcc'));
  if (process.env.CUDA_PATH) candidates.push(join(process.env.CUDA_PATH, 'bin', 'nvcc'));
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(join(dir, 'nvcc'));
  candidates.push('/usr/local/cuda/bin/nvcc');
  return candidates.find((p) => existsSync(p)) ?? null;
}

function buildCuda() {
  if (noCuda) {
    log('CUDA build skipped (--no-cuda or DEFORMUX_CUDA=0)');
    return;
  }
  if (process.platform !== 'linux') {
    log('CUDA build skipped (only set up for Linux)');
    return;
  }
  const nvcc = findNvcc();
  if (!nvcc) {
    log('nvcc not found: CUDA kernels not built (the CPU kernels are unaffected)');
    return;
  }
  if (!force && upToDate(cudaLibPath, ['.cu', '.cuh', 'cuda_api.h'])) {
    log(`CUDA library up to date (${cudaLibPath})`);
    return;
  }
  mkdirSync(releaseDir, { recursive: true });
  const cudaDir = join(nativeDir, 'cuda');
  const sources = readdirSync(cudaDir)
    .filter((f) => f.endsWith('.cu'))
    .map((f) => join(cudaDir, f));
  // sm_80 and sm_90 machine code plus compute_80 PTX, which the driver compiles for newer GPUs.
  const args = [
    '-O3',
    '-std=c++17',
    '-shared',
    '-Xcompiler',
    '-fPIC',
    '--cudart',
    'static',
    '-gencode',
    'arch=compute_80,code=sm_80',
    '-gencode',
    'arch=compute_90,code=sm_90',
    '-gencode',
    'arch=compute_80,code=compute_80',
    '-o',
    cudaLibPath,
    ...sources,
  ];
  log(`${nvcc} ${args.join(' ')}`);
  const t0 = Date.now();
  const res = spawnSync(nvcc, args, { stdio: 'inherit', cwd: root });
  if (res.status !== 0) {
    console.warn(
      `[build-native] WARNING: the CUDA build failed (nvcc exit ${res.status}); the CPU addon is unaffected and CUDA stays unavailable.`,
    );
    return;
  }
  log(`CUDA library built in ${((Date.now() - t0) / 1000).toFixed(1)} s (loaded only where a GPU is present)`);
}

const ok = buildAddon();
if (ok) buildCuda();
if (!ok && force) process.exitCode = 1;
