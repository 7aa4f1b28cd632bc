#!/usr/bin/env node
// `npm start`: Electron on the built app when its binary is installed, otherwise the web shell.
// Either way it opens the demo project (synthetic kidney CT phantoms), creating it on first start.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = join(root, '.demo-project');
// `--no-build` (tests, CI): never run the build here; everything else goes to the shell.
const noBuild = process.argv.includes('--no-build');
const passThrough = process.argv.slice(2).filter((a) => a !== '--no-build');
const hasProjectArg = passThrough.includes('--project');
const projectArgs = hasProjectArg ? [] : ['--project', demoDir];

/**
 * The Electron executable, or null when its binary was never downloaded. Reads the package's
 * path.txt instead of require('electron'), which would start a download attempt.
 */
function electronBinary() {
  let pkgDir;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || join(pkgDir, 'dist');
  const binary = join(distDir, relative);
  return relative && existsSync(binary) ? binary : null;
}

function build(what) {
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--config', 'electron.config.ts'],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (result.status !== 0) {
    console.error(`npm start: building ${what} failed (see above); fix it or run 'npm run build' to retry.`);
    return false;
  }
  return true;
}

const electron = electronBinary();
if (electron) {
  if (!existsSync(join(root, 'out/main/index.js')) && (noBuild || !build('the app'))) process.exit(1);
  const child = spawn(electron, [root, ...projectArgs, ...passThrough], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
} else {
  console.log(
    "Electron's binary is not installed on this machine, so DeformUX Annotator starts in the web shell: open the URL below in a browser.",
  );
  // The web shell can serve the API without a renderer, but a person wants to see the app.
  if (!noBuild && !existsSync(join(root, 'out/renderer/index.html'))) build('the renderer');
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src-main/web/cli.ts');
  process.exitCode = await main([...projectArgs, '--progress', ...passThrough]);
}
