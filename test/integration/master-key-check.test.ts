/**
 * The master key of a process must be the database's: checked against the value stored at the first start,
 * or (a database from before that value) against a partition key; development keys are made only for a
 * database that holds nothing sealed yet.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandPartitions } from '../../src/command-services.js';
import { MasterKeyError, openMasterKey } from '../../src/keystore/master-key.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opentsb-mk-'));
  dirs.push(dir);
  return dir;
};
const open = (masterKey: Buffer | null, dataDir = scratch()) =>
  openMasterKey({ masterKey, dataDir }, db.prisma, 'test');

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  await db.prisma.partition.deleteMany();
  await db.prisma.masterKeyCheck.deleteMany();
});
afterAll(async () => {
  await db?.drop();
});

describe('the master key check', () => {
  it('stores the check value at the first start, then accepts that key and refuses any other', async () => {
    const key = randomBytes(32);
    expect((await open(key)).events).toEqual(['check value stored']);
    const stored = await db.prisma.masterKeyCheck.findFirstOrThrow();
    expect(Buffer.from(stored.sealed).includes(key)).toBe(false);
    expect((await open(key)).events).toEqual([]);
    const refused = await open(randomBytes(32)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MasterKeyError);
    expect((refused as Error).message).toMatch(/TSB_MASTER_KEY \/ TSB_MASTER_KEY_FILE is not the master key/);
  });

  it('verifies a database from before the check value by a partition key, then stores the value', async () => {
    const key = randomBytes(32);
    await commandPartitions(db.prisma, key).create('older');
    await expect(open(randomBytes(32))).rejects.toThrow(MasterKeyError);
    expect(await db.prisma.masterKeyCheck.count()).toBe(0);
    expect((await open(key)).events).toEqual(['check value stored']);
    await expect(open(randomBytes(32))).rejects.toThrow(/is not the master key the database test/);
  });

  it('creates a development key for an empty database, readable only by its owner, and reuses it', async () => {
    const dataDir = path.join(scratch(), 'nested', 'data');
    const first = await open(null, dataDir);
    expect(first.development).toBe(true);
    expect(first.events).toEqual(['development key created', 'check value stored']);
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(first.file!, 'utf8').trim(), 'base64').equals(first.key)).toBe(true);
    const again = await open(null, dataDir);
    expect(again.key.equals(first.key)).toBe(true);
    expect(again.events).toEqual([]);
  });

  it('creates no development key for a database in use: another data folder gets a clear error', async () => {
    const serviceDir = scratch();
    const service = await open(null, serviceDir);
    await commandPartitions(db.prisma, service.key).create('in-use');
    const elsewhere = scratch();
    const refused = await open(null, elsewhere).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MasterKeyError);
    expect((refused as Error).message).toContain(`TSB_DATA_DIR (${elsewhere}) holds no master.key`);
    expect((refused as Error).message).toContain('no new development key was created');
    expect(() => statSync(path.join(elsewhere, 'master.key'))).toThrow();
  });

  it("refuses another data folder's development key", async () => {
    await open(null, scratch());
    await expect(open(null, scratch())).rejects.toThrow(MasterKeyError);
    const other = scratch();
    writeFileSync(path.join(other, 'master.key'), `${randomBytes(32).toString('base64')}\n`);
    await expect(open(null, other)).rejects.toThrow(
      /development master key .*master\.key .* is not the master key/,
    );
  });

  it('refuses a damaged development key file instead of replacing it', async () => {
    const dataDir = scratch();
    writeFileSync(path.join(dataDir, 'master.key'), 'not a key');
    await expect(open(null, dataDir)).rejects.toThrow(/32-byte/);
  });
});
