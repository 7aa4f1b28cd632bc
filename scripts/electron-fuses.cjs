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

/**
 * Path of the Electron executable inside electron-builder's output folder for a platform.
 * On Linux only the LinuxPackager has `executableName` (default: the lower-cased sanitized name).
 * @param {{ appOutDir: string; electronPlatformName: string; packager: { executableName?: string; appInfo: { productFilename: string; sanitizedName: string } } }} context
 */
function electronBinaryPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  const productFilename = packager.appInfo.productFilename;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas')
    return path.join(appOutDir, `${productFilename}.app`);
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${productFilename}.exe`);
  return path.join(appOutDir, packager.executableName ?? packager.appInfo.sanitizedName.toLowerCase());
}

/**
 * @electron/fuses config from FUSE_SETTINGS (option names → FuseV1Options indices).
 * @param {typeof import('@electron/fuses')} fuses
 * @param {string} electronPlatformName
 * @returns {import('@electron/fuses').FuseConfig}
 */
function fuseConfig(fuses, electronPlatformName) {
  /** @type {Record<string, unknown>} */
  const config = {
    version: fuses.FuseVersion.V1,
    // Flipping fuses breaks the ad-hoc signature of macOS arm64 binaries: re-sign ad hoc.
    resetAdHocDarwinSignature: electronPlatformName === 'darwin' || electronPlatformName === 'mas',
  };
  for (const [name, value] of Object.entries(FUSE_SETTINGS)) {
    const index = fuses.FuseV1Options[/** @type {keyof typeof fuses.FuseV1Options} */ (name)];
    if (index === undefined) throw new Error(`@electron/fuses has no fuse named ${name}`);
    config[index] = value;
  }
  return /** @type {import('@electron/fuses').FuseConfig} */ (config);
}

/** @param {import('electron-builder').AfterPackContext} context */
async function afterPack(context) {
  // @electron/fuses 2 is ESM-only.
  const fuses = await import('@electron/fuses');
  const packager =
    /** @type {{ executableName?: string; appInfo: { productFilename: string; sanitizedName: string } }} */ (
      /** @type {unknown} */ (context.packager)
    );
  const binary = electronBinaryPath({
    appOutDir: context.appOutDir,
    electronPlatformName: context.electronPlatformName,
    packager,
  });
  await fuses.flipFuses(binary, fuseConfig(fuses, context.electronPlatformName));
}

module.exports = { FUSE_SETTINGS, electronBinaryPath, fuseConfig, afterPack };
