import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRepository } from '../../../src/features/audit/audit.repository.js';
import {
  checkpointHash,
  checkpointStatement,
  GENESIS_HASH,
} from '../../../src/features/audit/audit-chain.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

/**
 * AuditRepository.signCheckpoint on its own `pg` transaction: what it stores reads back exactly (dates in a
 * process that is not on UTC included), a checkpoint is signed once however many ask at once, and each links
 * to the one below it by number, not by text.
 */
describe('AuditRepository.signCheckpoint', () => {
  let db: TestDatabase;
  let repository: AuditRepository;
  const originalTimeZone = process.env.TZ;

  beforeAll(async () => {
    process.env.TZ = 'Asia/Kathmandu';
    db = await createTestDatabase();
    repository = new AuditRepository(db.prisma);
  });
  afterAll(async () => {
    if (originalTimeZone === undefined) delete process.env.TZ;
    else process.env.TZ = originalTimeZone;
    await db?.drop();
  });

  it('signs each checkpoint once, links it to the one below, and reads back what it stored', async () => {
    const chain = 'checkpoint-store';
    const signed: Buffer[] = [];
    const sign = async (statement: Buffer) => {
      signed.push(statement);
      return randomBytes(70);
    };
    const entry = (sequence: number) => ({ chain, sequence, hash: randomBytes(32) });
    const at = new Date('2026-03-29T01:30:07.123Z');

    const eight = await repository.signCheckpoint(entry(8), 4, at, sign);
    expect(eight!.link).toEqual({ every: 4, previousSequence: 0, previousHash: GENESIS_HASH });
    // ten at once for sequence 12: one signature, one row, the same answer for all
    const twelve = entry(12);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => repository.signCheckpoint(twelve, 4, at, sign)),
    );
    expect(signed).toHaveLength(2);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]!.link).toEqual({
      every: 4,
      previousSequence: 8,
      previousHash: checkpointHash(eight!),
    });
    // 12 sorts before 8 as text: the link of 16 must still be 12
    const sixteen = await repository.signCheckpoint(entry(16), 4, at, sign);
    expect(sixteen!.link!.previousSequence).toBe(12);
    expect(sixteen!.link!.previousHash).toEqual(checkpointHash(answers[0]!));
    // what was signed is the statement of what is stored, date exact
    const stored = await repository.checkpoints(chain, 100);
    expect(stored).toEqual([eight, answers[0], sixteen]);
    expect(stored.map((checkpoint) => checkpoint.at.toISOString())).toEqual(Array(3).fill(at.toISOString()));
    expect(signed[2]).toEqual(checkpointStatement({ ...sixteen! }));
    const row = await db.prisma.auditCheckpoint.findUniqueOrThrow({
      where: { chain_sequence: { chain, sequence: 16n } },
    });
    expect(row.at.toISOString()).toBe(at.toISOString());
  });

  it('an unsigned chain stores nothing', async () => {
    expect(
      await repository.signCheckpoint(
        { chain: 'service', sequence: 4, hash: randomBytes(32) },
        4,
        new Date(),
        async () => null,
      ),
    ).toBeNull();
    expect(await repository.checkpoints('service', 100)).toEqual([]);
  });
});
