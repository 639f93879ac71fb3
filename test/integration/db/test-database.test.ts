import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, withAdminClient } from '../../helpers/db.js';

function partition(name: string) {
  return {
    name,
    partitionKeySealed: Buffer.from('sealed-partition-key'),
    attestationKeySealed: Buffer.from('sealed-attestation-key'),
    attestationPublicKey: Buffer.from([0x04, 0x01, 0x02, 0x03]),
  };
}

let a: TestDatabase;
let b: TestDatabase;

beforeAll(async () => {
  [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([a?.drop(), b?.drop()]);
});

describe('createTestDatabase', () => {
  it('gives a migrated database where a Partition can be created and read back', async () => {
    const created = await a.prisma.partition.create({ data: partition('alpha') });
    const read = await a.prisma.partition.findUniqueOrThrow({ where: { name: 'alpha' } });
    expect(read.id).toBe(created.id);
    expect(Buffer.from(read.partitionKeySealed).toString()).toBe('sealed-partition-key');
    expect(Buffer.from(read.attestationPublicKey)).toEqual(Buffer.from([0x04, 0x01, 0x02, 0x03]));
    expect(read.allowKeyImport).toBe(true);
    expect(read.allowKeyExport).toBe(false);
  });

  it('isolates databases from each other', async () => {
    await b.prisma.partition.create({ data: partition('beta') });
    expect(await a.prisma.partition.findUnique({ where: { name: 'beta' } })).toBeNull();
    expect(await b.prisma.partition.findUnique({ where: { name: 'alpha' } })).toBeNull();
    expect(a.url).not.toBe(b.url);
  });

  it('drop() removes the database, and may be called twice', async () => {
    const c = await createTestDatabase();
    expect(await c.prisma.partition.count()).toBe(0);
    await c.drop();
    await c.drop();
    const rows = await withAdminClient((client) =>
      client.query('SELECT 1 FROM pg_database WHERE datname = $1', [c.name]),
    );
    expect(rows.rowCount).toBe(0);
  });
});
