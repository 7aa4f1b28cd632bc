#!/usr/bin/env node
// Entry of the `deformux` CLI: runs the TypeScript sources through tsx (no build step needed).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
