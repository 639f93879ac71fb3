#!/usr/bin/env node
// The `tsb` command: the TypeScript CLI (src/cli/tsb.ts) through tsx, or its build (dist/cli/tsb.js)
// where the sources are not shipped (the Docker image).
import { existsSync } from 'node:fs';

const fromSources = existsSync(new URL('../src/cli/tsb.ts', import.meta.url));
if (fromSources) (await import('tsx/esm/api')).register();
const { main } = await import(fromSources ? '../src/cli/tsb.ts' : '../dist/cli/tsb.js');
process.exitCode = await main(process.argv.slice(2));
