/**
 * The migration 20261206221842_sweep_due_indexes: decisions stored before it are settled unless the sweep would
 * still ask about them, so that its new question (a decision no evaluation has looked at, among the unsettled
 * ones) finds exactly what the old one (a probe of every pending request's tasks) found.
 */
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { deployMigrations } from '../../../src/db/migrations.js';
import { DUE_REQUESTS } from '../../../src/features/approvals/requests.repository.js';
import { testDatabaseUrl, withAdminClient } from '../../helpers/db.js';

const MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../prisma/migrations',
);
const MIGRATION = '20261206221842_sweep_due_indexes';
const database = `t_sweep_mig_${process.pid}_${Date.now().toString(36)}`;
let before: string | undefined;

afterAll(async () => {
  await withAdminClient((client) =>
    client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`),
  );
  if (before) await rm(before, { recursive: true, force: true });
});

describe(`migration ${MIGRATION}`, () => {
  it('settles the stored decisions the sweep would not ask about, and the sweep finds what it found before', async () => {
    await withAdminClient((client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`));
    const url = testDatabaseUrl(database);
    // the history up to the migration before this one
    before = await mkdtemp(path.join(tmpdir(), 'opentsb-migrations-'));
    for (const entry of await readdir(MIGRATIONS_DIR)) {
      if (entry < MIGRATION || entry === 'migration_lock.toml')
        await cp(path.join(MIGRATIONS_DIR, entry), path.join(before, entry), { recursive: true });
    }
    expect(await deployMigrations(url, before)).not.toContain(MIGRATION);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const partitionId = randomUUID();
      await client.query(
        `INSERT INTO "Partition" ("id", "name", "partitionKeySealed", "attestationKeySealed", "attestationPublicKey")
         VALUES ($1, 'legacy', '\\x00', '\\x00', '\\x00')`,
        [partitionId],
      );
      const request = async (
        status: string,
        evaluatedAt: string | null,
        decisions: (string | null)[],
      ): Promise<string> => {
        const id = randomUUID();
        await client.query(
          `INSERT INTO "SkaRequest" ("id", "partitionId", "keyId", "keyLabel", "operation", "status", "body", "rule",
             "ruleDigest", "payloadDigest", "challenge", "createdBy", "createdAt", "expiresAt", "evaluatedAt",
             "updatedAt")
           VALUES ($1, $2, $3, 'k', 'SIGN', $4, '{}', '{}', '\\x00', '\\x00', '\\x00', 'c', '2026-03-29 01:00:00',
             '2026-03-29 03:00:00', $5, '2026-03-29 01:00:00')`,
          [id, partitionId, randomUUID(), status, evaluatedAt],
        );
        for (const [index, decidedAt] of decisions.entries()) {
          await client.query(
            `INSERT INTO "ApprovalTask" ("id", "requestId", "partitionId", "fingerprint", "approverPublicKey",
               "decision", "decidedAt", "createdAt", "lastFetchedAt")
             VALUES ($1, $2, $3, $4, '\\x00', $5, $6, '2026-03-29 01:00:00', '2026-03-29 01:00:00')`,
            [randomUUID(), id, partitionId, `f${index}`, decidedAt ? 'APPROVED' : null, decidedAt],
          );
        }
        return id;
      };
      const unevaluated = await request('PENDING', null, ['2026-03-29 01:10:00', null]);
      const evaluated = await request('PENDING', '2026-03-29 01:30:00', [
        '2026-03-29 01:20:00',
        '2026-03-29 01:25:00',
      ]);
      const decidedSinceLook = await request('PENDING', '2026-03-29 01:12:00', [
        '2026-03-29 01:11:00',
        '2026-03-29 01:40:00',
      ]);
      const undecided = await request('PENDING', null, [null, null]);
      const executed = await request('EXECUTED', null, ['2026-03-29 01:05:00']);

      // this migration, then any that came after it
      expect((await deployMigrations(url, MIGRATIONS_DIR))[0]).toBe(MIGRATION);

      const stored = await client.query<{ requestId: string; decisionSettled: boolean | null }>(
        `SELECT "requestId", "decisionSettled" FROM "ApprovalTask" ORDER BY "requestId", "fingerprint"`,
      );
      const settled = (id: string) =>
        stored.rows.filter((row) => row.requestId === id).map((row) => row.decisionSettled);
      expect(settled(unevaluated)).toEqual([false, null]);
      expect(settled(evaluated)).toEqual([true, true]);
      expect(settled(decidedSinceLook)).toEqual([true, false]);
      expect(settled(undecided)).toEqual([null, null]);
      expect(settled(executed)).toEqual([true]);
      const due = await client.query<{ id: string }>(DUE_REQUESTS.text, [
        '2026-03-29T02:00:00.000Z',
        '2026-03-29T01:59:30.000Z',
        200,
      ]);
      expect(due.rows.map(({ id }) => id).sort()).toEqual([unevaluated, decidedSinceLook].sort());
    } finally {
      await client.end();
    }
  });
});
