// Playwright config for the browser tests: Debian Chromium, headless, against the web shell.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  // One Chromium at a time: the machines running this have few cores and swiftshader is CPU-bound.
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: 'list',
  // Failure traces and screenshots go outside the checkout.
  outputDir: join(tmpdir(), 'deformux-playwright-results'),
  use: {
    headless: true,
    // ~260 px views: the app shows a 2×2 grid beside a 240 px worklist.
    viewport: { width: 800, height: 660 },
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
  },
});
