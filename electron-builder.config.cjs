// Packaging (electron-builder): Linux AppImage + deb, Windows NSIS, macOS dmg; asar; fuses after pack.
// @ts-check
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: electron-builder loads this config with require(). */
'use strict';
const { afterPack } = require('./scripts/electron-fuses.cjs');

/** @type {import('electron-builder').Configuration} */
const config = {
  appId: 'org.deformux.annotator',
  productName: 'DeformUX Annotator',
  copyright: 'Copyright © DeformUX Annotator contributors',
  directories: { output: 'dist', buildResources: 'resources/build' },
  files: [
    'out/**/*',
    'package.json',
    'resources/**/*',
    // Starter models live outside the archive (extraResources): the engine worker reads them with plain fs.
    '!resources/models/**',
    'native/build/Release/*.node',
    // tfjs-core + cpu in one file (scripts/build-tfjs.mjs): the engine starts 0.65 s faster than with all of tfjs,
    // which it falls back to when this is missing (packaging has not been run where this was written).
    'node_modules/.deformux/tfjs-core-cpu.{cjs,json}',
    '!**/*.{map,ts,tsx,md}',
    '!**/{test,tests,__tests__}/**',
  ],
  extraResources: [{ from: 'resources/models', to: 'models' }],
  asar: true,
  // Native addons cannot be loaded from inside an archive: keep them as real files.
  asarUnpack: ['native/build/Release/*.node', '**/node_modules/better-sqlite3/build/Release/*.node'],
  npmRebuild: true,
  afterPack,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science;MedicalSoftware',
    maintainer: 'DeformUX Annotator contributors',
    synopsis: 'Offline kidney/pancreas CT annotator with a local DeformUX-Net',
  },
  deb: { depends: ['libnss3', 'libgtk-3-0', 'libxss1', 'libasound2'] },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  mac: { target: ['dmg'], category: 'public.app-category.medical', hardenedRuntime: true },
  dmg: { sign: false },
};

module.exports = config;
