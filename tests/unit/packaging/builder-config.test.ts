// Packaging config content (electron-builder) and the fuse hook run on a fake Electron binary.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';

const REPO = resolve(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);

interface BuilderConfig {
  asar: boolean;
  asarUnpack: string[];
  files: string[];
  afterPack: (context: unknown) => Promise<void>;
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
}
const config = require(join(REPO, 'electron-builder.config.cjs')) as BuilderConfig;
const fusesHook = require(join(REPO, 'scripts/electron-fuses.cjs')) as {
  FUSE_SETTINGS: Record<string, boolean>;
  electronBinaryPath: (context: unknown) => string;
};

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('electron-builder configuration', () => {
  it('targets AppImage + deb, NSIS and dmg, packs into asar', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.asar).toBe(true);
  });

  it('ships the built app and the native addon, unpacked from asar', () => {
    expect(config.files).toEqual(expect.arrayContaining(['out/**/*', 'package.json', 'native/build/Release/*.node']));
    expect(config.asarUnpack).toContain('native/build/Release/*.node');
    expect(config.asarUnpack.some((p) => p.includes('better-sqlite3'))).toBe(true);
  });

  it('flips fuses after packing: RunAsNode, NODE_OPTIONS, inspect off; asar integrity and asar-only on', () => {
    expect(config.afterPack).toBeTypeOf('function');
    expect(fusesHook.FUSE_SETTINGS).toMatchObject({
      RunAsNode: false,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
    });
  });

  it('type-checks against electron-builder and @electron/fuses types (JSDoc, checkJs)', () => {
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
    const args = [
      '--allowJs',
      '--checkJs',
      '--noEmit',
      '--skipLibCheck',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
    ];
    args.push('--target', 'es2022', '--types', 'node', 'electron-builder.config.cjs', 'scripts/electron-fuses.cjs');
    const result = spawnSync(process.execPath, [tsc, ...args], { cwd: REPO, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('finds the Electron binary electron-builder wrote on each platform', () => {
    const appInfo = { productFilename: 'DeformUX Annotator', sanitizedName: 'DeformUX Annotator' };
    const at = (electronPlatformName: string, executableName?: string) =>
      fusesHook.electronBinaryPath({ appOutDir: '/o', electronPlatformName, packager: { executableName, appInfo } });
    expect(at('linux', 'deformux-annotator')).toBe(join('/o', 'deformux-annotator'));
    expect(at('linux')).toBe(join('/o', 'deformux annotator'));
    expect(at('win32')).toBe(join('/o', 'DeformUX Annotator.exe'));
    expect(at('darwin')).toBe(join('/o', 'DeformUX Annotator.app'));
  });

  it('writes those fuses into a (fake) Linux Electron binary', async () => {
    const t = tempDir('fuses');
    cleanups.push(t.cleanup);
    // A stand-in binary: junk, the fuse sentinel, wire version 1, 9 fuses all enabled ('1'), junk.
    const sentinel = Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX');
    const wireAt = 1000 + sentinel.length + 2;
    const binary = Buffer.concat([
      Buffer.alloc(1000, 7),
      sentinel,
      Buffer.from([1, 9]),
      Buffer.from('111111111'),
      Buffer.alloc(500, 7),
    ]);
    const exe = join(t.dir, 'deformux-annotator');
    writeFileSync(exe, binary);
    await config.afterPack({
      appOutDir: t.dir,
      electronPlatformName: 'linux',
      packager: {
        executableName: 'deformux-annotator',
        appInfo: { productFilename: 'DeformUX Annotator', sanitizedName: 'DeformUX Annotator' },
      },
    });
    const wire = readFileSync(exe)
      .subarray(wireAt, wireAt + 9)
      .toString('latin1');
    // Index order of FuseV1Options: RunAsNode, CookieEncryption, NodeOptions, Inspect, AsarIntegrity,
    // OnlyLoadAppFromAsar, BrowserV8Snapshot, GrantFileProtocolExtraPrivileges, WasmTrapHandlers.
    expect(wire[0]).toBe('0');
    expect(wire[2]).toBe('0');
    expect(wire[3]).toBe('0');
    expect(wire[4]).toBe('1');
    expect(wire[5]).toBe('1');
    expect(wire[7]).toBe('0');
    expect(readFileSync(exe).length).toBe(binary.length);
  });
});
