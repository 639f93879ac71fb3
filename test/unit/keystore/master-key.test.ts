import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveMasterKey } from '../../../src/keystore/master-key.js';

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opentsb-mk-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('resolveMasterKey', () => {
  it('uses the operator key as given', () => {
    const key = randomBytes(32);
    expect(resolveMasterKey(key, scratch())).toEqual({ key, development: false, file: null });
  });

  it('creates a development key once, readable only by its owner, and reuses it', () => {
    const dataDir = path.join(scratch(), 'nested', 'data');
    const first = resolveMasterKey(null, dataDir);
    expect(first.development).toBe(true);
    expect(first.key).toHaveLength(32);
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(first.file!, 'utf8').trim(), 'base64').equals(first.key)).toBe(true);
    expect(resolveMasterKey(null, dataDir).key.equals(first.key)).toBe(true);
  });

  it('refuses a damaged development key file instead of replacing it', () => {
    const dataDir = scratch();
    writeFileSync(path.join(dataDir, 'master.key'), 'not a key');
    expect(() => resolveMasterKey(null, dataDir)).toThrow(/32-byte/);
  });
});
