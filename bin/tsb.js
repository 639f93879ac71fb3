#!/usr/bin/env node
// The `tsb` command: runs the TypeScript CLI (src/cli/tsb.ts) through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/tsb.ts');
process.exitCode = await main(process.argv.slice(2));
