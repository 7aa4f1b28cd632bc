// Unit, imaging, native-kernel and engine tests (browser tests run under Playwright instead).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/browser/**', 'node_modules/**'],
    // Native addons (our kernels, better-sqlite3) are safest in child processes, not worker threads.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
