/**
 * sdk/src/schema.ts is generated from openapi/openapi.json (`npm run generate` in sdk/); this fails when the
 * checked-in types lag behind the document. openapi/openapi.json itself is checked by test/e2e/openapi.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = path.join(root, 'sdk/node_modules/openapi-typescript/bin/cli.js');
const scratch = await mkdtemp(path.join(tmpdir(), 'opentsb-sdk-schema-'));

describe('sdk/src/schema.ts', () => {
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('is what openapi-typescript generates from openapi/openapi.json (run `npm run generate` in sdk/)', async () => {
    expect(existsSync(cli), 'the SDK toolchain is missing: run `npm ci --prefix sdk`').toBe(true);
    const target = path.join(scratch, 'schema.ts');
    // the same command line as sdk/package.json "generate", from the sdk folder
    await promisify(execFile)(process.execPath, [cli, '../openapi/openapi.json', '--output', target], {
      cwd: path.join(root, 'sdk'),
    });
    const committed = await readFile(path.join(root, 'sdk/src/schema.ts'), 'utf8');
    expect(committed === (await readFile(target, 'utf8')), 'sdk/src/schema.ts is stale').toBe(true);
  });
});
