// electron-builder afterPack hook: flips Electron's fuses in the packed binary (@electron/fuses).
// @ts-check
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: electron-builder loads this config with require(). */
'use strict';
const path = require('node:path');

/**
 * The fuse wire we ship. Off: running the binary as plain Node, NODE_OPTIONS, --inspect flags.
 * On: asar integrity validation and loading the app only from app.asar (no loose folder swap).
 * file:// gets no extra privileges because the renderer is served from app:// instead.
 */
const FUSE_SETTINGS = Object.freeze({
  RunAsNode: false,
  EnableCookieEncryption: true,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  GrantFileProtocolExtraPrivileges: false,
});

/** Path of the Electron executable inside electron-builder's output folder for a platform. */
function electronBinaryPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  const productFilename = packager.appInfo.productFilename;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas')
    return path.join(appOutDir, `${productFilename}.app`);
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${productFilename}.exe`);
  return path.join(appOutDir, packager.executableName);
}

/** @electron/fuses config from FUSE_SETTINGS (option names → FuseV1Options indices). */
function fuseConfig(fuses, electronPlatformName) {
  const config = {
    version: fuses.FuseVersion.V1,
    // Flipping fuses breaks the ad-hoc signature of macOS arm64 binaries: re-sign ad hoc.
    resetAdHocDarwinSignature: electronPlatformName === 'darwin' || electronPlatformName === 'mas',
  };
  for (const [name, value] of Object.entries(FUSE_SETTINGS)) {
    const index = fuses.FuseV1Options[name];
    if (index === undefined) throw new Error(`@electron/fuses has no fuse named ${name}`);
    config[index] = value;
  }
  return config;
}

async function afterPack(context) {
  // @electron/fuses 2 is ESM-only.
  const fuses = await import('@electron/fuses');
  await fuses.flipFuses(electronBinaryPath(context), fuseConfig(fuses, context.electronPlatformName));
}

module.exports = { FUSE_SETTINGS, electronBinaryPath, fuseConfig, afterPack };
