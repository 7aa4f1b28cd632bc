#!/usr/bin/env node
// `npm run web -- --port 0 --project DIR`: runs the web shell's TypeScript through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/web/cli.ts');
process.exitCode = await main(process.argv.slice(2));
