import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient } from '../../../src/db/prisma.js';
import { TsbError } from '../../../src/errors.js';
import { AuditRepository } from '../../../src/features/audit/audit.repository.js';
import { AuditService, attestationCheckpointSigner } from '../../../src/features/audit/audit.service.js';
import {
  type AuditRecord,
  checkpointStatement,
  encodeEntry,
  GENESIS_HASH,
  SERVICE_CHAIN,
} from '../../../src/features/audit/audit-chain.js';
import { AuditLog } from '../../../src/features/audit/audit-log.js';
import { AuditWriter } from '../../../src/features/audit/audit-writer.js';
import type { Partition, PrismaClient } from '../../../src/generated/prisma/client.js';
import { SoftHsm } from '../../../src/hsm/soft-hsm.js';
import { toBytes } from '../../../src/lib/encoding.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let db: TestDatabase;
let second: PrismaClient;
let hsm: SoftHsm;
let partition: Partition;

beforeAll(async () => {
  db = await createTestDatabase();
  // a second Prisma client for the second "process" (each appender also has its own pg pool)
  second = createPrismaClient(db.url);
  hsm = new SoftHsm({ prisma: db.prisma, masterKey: randomBytes(32), keyCacheSize: 10 });
  partition = await hsm.partitions.create('audited');
});
afterAll(async () => {
  await Promise.all(writers.map((writer) => writer.close()));
  await hsm?.close();
  await second?.$disconnect();
  await db?.drop();
});

function record(chain: string, n: number): AuditRecord {
  return {
    chain,
    partitionId: chain === SERVICE_CHAIN ? null : chain,
    at: new Date(),
    credentialId: `apiKey:${n}`,
    roles: ['keyOperation'],
    action: 'POST /v1/synchronousSign',
    keyLabel: `key-${n}`,
    requestId: null,
    outcome: 'success',
    statusCode: 200,
    errorCode: null,
  };
}

const writers: AuditWriter[] = [];

/** An AuditLog as one process has it (its own pg pool and Prisma client), counting its flushes per chain. */
function appender(prisma: PrismaClient, checkpointEvery = 256, databaseUrl = db.url) {
  const writer = new AuditWriter(databaseUrl);
  writers.push(writer);
  const transactions = { count: 0 };
  const append = writer.append.bind(writer);
  writer.append = (chain, records) => {
    transactions.count += 1;
    return append(chain, records);
  };
  const errors: unknown[] = [];
  const log = new AuditLog({
    writer,
    repository: new AuditRepository(prisma),
    signer: attestationCheckpointSigner(hsm),
    clock: hsm.clock,
    checkpointEvery,
    log: { error: (details) => errors.push(details) },
  });
  return { log, transactions, errors };
}

const entriesOf = (chain: string) =>
  db.prisma.auditEntry.findMany({ where: { chain }, orderBy: { sequence: 'asc' } });

describe('AuditLog (group commit on PostgreSQL)', () => {
  it('lets two processes append to one chain at once: no gap, one valid chain, signed checkpoints', async () => {
    const a = appender(db.prisma, 100);
    const b = appender(second, 100);
    const appends: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      appends.push(a.log.append(record(partition.id, i)), b.log.append(record(partition.id, 1000 + i)));
      if (i % 25 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(appends);
    // checkpoints are signed after the callers were answered: wait for the flushes to finish
    await Promise.all([a.log.close(), b.log.close()]);
    expect([...a.errors, ...b.errors]).toEqual([]);

    const rows = await entriesOf(partition.id);
    expect(rows.map((row) => Number(row.sequence))).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(Buffer.from(rows[0]!.prevHash)).toEqual(GENESIS_HASH);
    const head = await db.prisma.auditHead.findUniqueOrThrow({ where: { chain: partition.id } });
    expect(Number(head.sequence)).toBe(600);
    expect(Buffer.from(head.hash)).toEqual(Buffer.from(rows[599]!.hash));
    // group commit: far fewer transactions than entries
    expect(a.transactions.count + b.transactions.count).toBeLessThan(100);
    const checkpoints = await db.prisma.auditCheckpoint.findMany({ where: { chain: partition.id } });
    expect(checkpoints.map((c) => Number(c.sequence)).sort((x, y) => x - y)).toEqual([
      100, 200, 300, 400, 500, 600,
    ]);

    const service = new AuditService(
      new AuditRepository(db.prisma),
      attestationCheckpointSigner(hsm),
      hsm.clock,
      100,
    );
    let text = '';
    for await (const chunk of await service.export(partition)) text += chunk;
    const report = await service.verify(partition, text);
    expect(report).toMatchObject({
      valid: true,
      entries: 600,
      checkpoints: 6,
      coveredThrough: 600,
      problems: [],
    });
  });

  it('verifies a chain upgraded in place: version-1 checkpoints stored before, linked ones after', async () => {
    const upgraded = await hsm.partitions.create('upgraded');
    const chain = upgraded.id;
    const old = appender(db.prisma, 4);
    for (let i = 0; i < 8; i++) await old.log.append(record(chain, i));
    await old.log.close();
    // what the previous version stored: checkpoints 4 and 8 signed over the version-1 statement, no link
    await db.prisma.auditCheckpoint.deleteMany({ where: { chain } });
    const rows = await entriesOf(chain);
    for (const sequence of [4, 8]) {
      const hash = Buffer.from(rows[sequence - 1]!.hash);
      const at = new Date();
      const signature = await hsm.signWithAttestationKey(
        upgraded,
        checkpointStatement({ chain, sequence, hash, at }),
      );
      await db.prisma.auditCheckpoint.create({
        data: { chain, sequence: BigInt(sequence), hash: toBytes(hash), at, signature: toBytes(signature) },
      });
    }
    const now = appender(db.prisma, 4);
    for (let i = 8; i < 14; i++) await now.log.append(record(chain, i));
    await now.log.close();
    expect(now.errors).toEqual([]);

    const service = new AuditService(
      new AuditRepository(db.prisma),
      attestationCheckpointSigner(hsm),
      hsm.clock,
      4,
    );
    const exported = async () => {
      let text = '';
      for await (const chunk of await service.export(upgraded)) text += chunk;
      return text;
    };
    const text = await exported();
    const checkpoints = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((line) => line.type === 'checkpoint');
    expect(checkpoints.map((c) => [c.sequence, c.version ?? 1, c.previousSequence])).toEqual([
      [4, 1, undefined],
      [8, 1, undefined],
      [12, 2, 8],
      [14, 2, 12],
    ]);
    const report = await service.verify(upgraded, text);
    expect(report).toMatchObject({ valid: true, coveredThrough: 14, problems: [] });
    expect(report.notes.join(' ')).toContain('version 1');

    // the linked checkpoint still shows a version-1 checkpoint deleted after the upgrade
    await db.prisma.auditCheckpoint.delete({ where: { chain_sequence: { chain, sequence: 8n } } });
    expect((await service.verify(upgraded, await exported())).problems[0]).toMatchObject({
      sequence: 8,
      kind: 'missing-checkpoint',
    });
  });

  it('stores every field exactly as it was hashed, whatever characters the text holds', async () => {
    const chain = (await hsm.partitions.create('awkward')).id;
    const { log } = appender(db.prisma);
    const awkward = [
      'quote " backslash \\ slash / \\u0041 not an escape',
      'line\nbreak\ttab\r\u0001\u001f control',
      'ümlaut 鍵 🔑 emoji',
      '{"looks":["like","json"]}, with a comma',
      'null',
    ];
    const records: AuditRecord[] = awkward.map((text, n) => ({
      ...record(chain, n),
      credentialId: `jwt:${text}`,
      keyLabel: text,
      requestId: n % 2 === 0 ? text : null,
      errorCode: n % 2 === 0 ? null : 4711,
      statusCode: n % 2 === 0 ? 200 : 400,
      outcome: n % 2 === 0 ? 'success' : 'failure',
      roles: n === 4 ? [] : ['approver', 'keyOperation'],
    }));
    const summary: AuditRecord = {
      ...record(chain, 9),
      credentialId: null,
      roles: [],
      keyLabel: null,
      outcome: 'failure',
      statusCode: 401,
      errorCode: 1,
      at: new Date('2026-12-06T10:00:00.123Z'),
      summary: { count: 17, firstAt: new Date('2026-12-06T09:59:00.007Z'), clientAddress: '2001:db8::7' },
    };
    await Promise.all([...records, summary].map((r) => log.append(r)));

    const rows = await entriesOf(chain);
    expect(rows).toHaveLength(records.length + 1);
    let prevHash = GENESIS_HASH;
    for (const [i, row] of rows.entries()) {
      const written = i < records.length ? records[i]! : summary;
      expect(row).toMatchObject({
        credentialId: written.credentialId,
        keyLabel: written.keyLabel,
        requestId: written.requestId,
        roles: written.roles,
        statusCode: written.statusCode,
        errorCode: written.errorCode,
        outcome: written.outcome,
        at: written.at,
        count: written.summary?.count ?? null,
        firstAt: written.summary?.firstAt ?? null,
        clientAddress: written.summary?.clientAddress ?? null,
      });
      const stored = {
        ...written,
        outcome: row.outcome,
        sequence: Number(row.sequence),
        prevHash: Buffer.from(row.prevHash),
      };
      // the hash recomputed from the stored fields (SHA-256 by node:crypto over the documented encoding)
      const recomputed = createHash('sha256').update(stored.prevHash).update(encodeEntry(stored)).digest();
      expect(stored.prevHash).toEqual(prevHash);
      expect(Buffer.from(row.hash)).toEqual(recomputed);
      prevHash = recomputed;
    }
  });

  it('a lone record waits for one transaction, not for a timer', async () => {
    const { log, transactions } = appender(db.prisma);
    const started = performance.now();
    await log.append(record(partition.id, 1));
    expect(transactions.count).toBe(1);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('keeps the service chain unsigned', async () => {
    const { log } = appender(db.prisma, 1);
    await Promise.all([log.append(record(SERVICE_CHAIN, 1)), log.append(record(SERVICE_CHAIN, 2))]);
    expect(await db.prisma.auditCheckpoint.count({ where: { chain: SERVICE_CHAIN } })).toBe(0);
    expect((await entriesOf(SERVICE_CHAIN)).map((row) => Number(row.sequence))).toEqual([1, 2]);
  });

  it('refuses a whole batch when its transaction fails, and leaves nothing half-written', async () => {
    const chain = (await hsm.partitions.create('conflicted')).id;
    const { log } = appender(db.prisma);
    await log.append(record(chain, 0));
    // a row in the way of the second entry of the next batch: its multi-row INSERT fails
    await db.prisma.auditEntry.create({
      data: {
        ...record(chain, 99),
        sequence: 3n,
        prevHash: new Uint8Array(32),
        hash: new Uint8Array(32),
      },
    });
    const batch = [1, 2, 3].map((n) => log.append(record(chain, n)));
    const results = await Promise.allSettled(batch);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as TsbError;
      expect(reason).toBeInstanceOf(TsbError);
      expect(reason).toMatchObject({ statusCode: 503, errorCode: 2 });
      expect(reason.message).toContain('audit log');
    }
    expect((await entriesOf(chain)).map((row) => [Number(row.sequence), row.credentialId])).toEqual([
      [1, 'apiKey:0'],
      [3, 'apiKey:99'],
    ]);
    expect(Number((await db.prisma.auditHead.findUniqueOrThrow({ where: { chain } })).sequence)).toBe(1);
    await db.prisma.auditEntry.delete({ where: { chain_sequence: { chain, sequence: 3n } } });
    await log.append(record(chain, 4));
    expect((await entriesOf(chain)).map((row) => Number(row.sequence))).toEqual([1, 2]);
  });

  it('overlaps flushes under load (their statements in flight together) and still writes one gapless chain', async () => {
    const chain = (await hsm.partitions.create('overlapping')).id;
    const { log, errors } = appender(db.prisma, 1000);
    const writer = writers[writers.length - 1]!;
    let inFlight = 0;
    let mostInFlight = 0;
    const append = writer.append.bind(writer);
    writer.append = async (...args) => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      try {
        return await append(...args);
      } finally {
        inFlight -= 1;
      }
    };
    const appends: Promise<void>[] = [];
    for (let burst = 0; burst < 6; burst++) {
      for (let i = 0; i < 40; i++) appends.push(log.append(record(chain, burst * 40 + i)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(appends);
    await log.close();
    expect(errors).toEqual([]);
    expect(mostInFlight).toBeGreaterThan(1);
    const rows = await entriesOf(chain);
    expect(rows.map((row) => Number(row.sequence))).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
    // in order, and each linked to the one before
    expect(rows.map((row) => row.keyLabel)).toEqual(Array.from({ length: 240 }, (_, i) => `key-${i}`));
    for (let i = 1; i < rows.length; i++)
      expect(Buffer.from(rows[i]!.prevHash)).toEqual(Buffer.from(rows[i - 1]!.hash));
  });

  it('a batch linked after one that failed is written after the real head (locked path), and answered', async () => {
    const chain = (await hsm.partitions.create('after-a-failure')).id;
    const { log } = appender(db.prisma, 1000);
    await log.append(record(chain, 0));
    await log.close();
    // PostgreSQL refuses this batch (partitionId is no uuid) after the next batch was linked after it
    const refused = log.append({ ...record(chain, 1), partitionId: 'not-a-uuid' });
    refused.catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    const later = Array.from({ length: 20 }, (_, i) => log.append(record(chain, 2 + i)));
    await expect(refused).rejects.toMatchObject({ kind: 'SERVICE_UNAVAILABLE' });
    await Promise.all(later);
    await log.close();
    const rows = await entriesOf(chain);
    expect(rows.map((row) => Number(row.sequence))).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(rows.map((row) => row.keyLabel)).toEqual([
      'key-0',
      ...Array.from({ length: 20 }, (_, i) => `key-${2 + i}`),
    ]);
    for (let i = 1; i < rows.length; i++)
      expect(Buffer.from(rows[i]!.prevHash)).toEqual(Buffer.from(rows[i - 1]!.hash));
  });

  it('rejects with 503 when the database cannot be reached', async () => {
    const { log } = appender(db.prisma, 256, 'postgresql://postgres@127.0.0.1:1/nowhere');
    await expect(log.append(record(partition.id, 1))).rejects.toMatchObject({
      kind: 'SERVICE_UNAVAILABLE',
      statusCode: 503,
    });
  });
});
