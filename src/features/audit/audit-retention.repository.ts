/**
 * The statements of the audit log's retention (audit-retention.ts): which entry each chain may be pruned to,
 * the prune statements, and the deletion of what they prune. Deletions take rows no other pass holds.
 */
import type pg from 'pg';
import { sqlPoolOf } from '../../db/prisma.js';
import { execute, queryRows, type Statement, timestampParam } from '../../db/sql.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { checkpointOfRow, toEntry } from './audit.repository.js';
import { type AuditCheckpoint, type AuditEntry, type AuditPrune, SERVICE_CHAIN } from './audit-chain.js';

/** How many entries of the unsigned service chain one pass looks at beyond its prune point. */
export const SERVICE_CHAIN_LOOKAHEAD = 10_000;

/**
 * Per signed chain, its newest checkpoint signed before the cutoff, when that is beyond the chain's prune point:
 * one descent of the (chain, at) index per chain, however many checkpoints the retention keeps.
 */
const DUE_CHECKPOINTS: Statement = {
  name: 'opentsb-audit-retention-due-checkpoints',
  text: `
    SELECT c."chain", c."sequence"::text, c."hash", c."at", c."signature", c."every", c."previousSequence"::text,
      c."previousHash"
    FROM "AuditHead" h
    CROSS JOIN LATERAL (
      SELECT * FROM "AuditCheckpoint" WHERE "chain" = h."chain" AND "at" < $1::timestamp(3)
      ORDER BY "at" DESC LIMIT 1
    ) AS c
    LEFT JOIN "AuditPrune" p ON p."chain" = c."chain"
    WHERE h."chain" <> '${SERVICE_CHAIN}' AND c."sequence" > COALESCE(p."sequence", 0)`,
};

const DATABASE_NOW: Statement = { name: 'opentsb-audit-retention-now', text: 'SELECT now()' };

/** The service chain has no checkpoints: its newest entry before the cutoff, among the next entries to prune. */
const DUE_SERVICE_SEQUENCE: Statement = {
  name: 'opentsb-audit-retention-due-service-sequence',
  text: `
    SELECT "sequence"::text FROM (
      SELECT * FROM "AuditEntry" WHERE "chain" = '${SERVICE_CHAIN}'
        AND "sequence" > COALESCE((SELECT "sequence" FROM "AuditPrune" WHERE "chain" = '${SERVICE_CHAIN}'), 0)
      ORDER BY "sequence" LIMIT ${SERVICE_CHAIN_LOOKAHEAD}
    ) AS next WHERE "at" < $1::timestamp(3) ORDER BY "sequence" DESC LIMIT 1`,
};

/** A chain's prune point moves forward only (two workers may sign the same one: either statement is valid). */
const PRUNE_UPSERT: Statement = {
  name: 'opentsb-audit-retention-prune-upsert',
  text: `
    INSERT INTO "AuditPrune" ("chain", "sequence", "hash", "checkpointHash", "at", "signature")
    VALUES ($1, $2::bigint, $3::bytea, $4::bytea, $5::timestamp(3), $6::bytea)
    ON CONFLICT ("chain") DO UPDATE SET "sequence" = EXCLUDED."sequence", "hash" = EXCLUDED."hash",
      "checkpointHash" = EXCLUDED."checkpointHash", "at" = EXCLUDED."at", "signature" = EXCLUDED."signature"
    WHERE "AuditPrune"."sequence" < EXCLUDED."sequence"`,
};

/** Rows of `table` below the prune point of a statement signed before $1, at most $2 (by the primary key). */
const deleteBelowPrunePoint = (table: 'AuditEntry' | 'AuditCheckpoint'): Statement => ({
  name: `opentsb-audit-retention-delete-${table}`,
  text: `
    DELETE FROM "${table}" t USING (
      SELECT d."chain", d."sequence" FROM "AuditPrune" p CROSS JOIN LATERAL (
        SELECT "chain", "sequence" FROM "${table}" WHERE "chain" = p."chain" AND "sequence" < p."sequence"
        ORDER BY "sequence" LIMIT $2 FOR UPDATE SKIP LOCKED
      ) AS d
      WHERE p."at" < $1::timestamp(3)
      LIMIT $2
    ) AS due WHERE t."chain" = due."chain" AND t."sequence" = due."sequence"`,
});
const DELETE_ENTRIES = deleteBelowPrunePoint('AuditEntry');
const DELETE_CHECKPOINTS = deleteBelowPrunePoint('AuditCheckpoint');

export class AuditRetentionRepository {
  private readonly pool: pg.Pool;

  constructor(private readonly prisma: PrismaClient) {
    this.pool = sqlPoolOf(prisma);
  }

  /** The database server's clock. */
  async databaseNow(): Promise<Date> {
    const [row] = await queryRows(this.pool, DATABASE_NOW, []);
    return row![0] as Date;
  }

  /** Per signed chain, the checkpoint it may be pruned to: the newest signed before `cutoff`, beyond its prune point. */
  async dueCheckpoints(cutoff: Date): Promise<AuditCheckpoint[]> {
    return (await queryRows(this.pool, DUE_CHECKPOINTS, [timestampParam(cutoff)])).map(checkpointOfRow);
  }

  async entry(chain: string, sequence: number): Promise<AuditEntry | null> {
    const row = await this.prisma.auditEntry.findUnique({
      where: { chain_sequence: { chain, sequence: BigInt(sequence) } },
    });
    return row ? toEntry(row) : null;
  }

  /** The service chain's entry it may be pruned to, or null. */
  async dueServiceEntry(cutoff: Date): Promise<AuditEntry | null> {
    const [row] = await queryRows(this.pool, DUE_SERVICE_SEQUENCE, [timestampParam(cutoff)]);
    return row ? this.entry(SERVICE_CHAIN, Number(row[0])) : null;
  }

  /** Stores the statement unless the chain was pruned as far or further already; whether it was stored. */
  async savePrune(prune: AuditPrune): Promise<boolean> {
    const changed = await execute(this.pool, PRUNE_UPSERT, [
      prune.chain,
      String(prune.sequence),
      prune.hash,
      prune.checkpointHash,
      timestampParam(prune.at),
      prune.signature,
    ]);
    return changed > 0;
  }

  /** Deletes up to `limit` entries and up to `limit` checkpoints pruned by statements signed before `signedBefore`. */
  async deletePruned(signedBefore: Date, limit: number): Promise<{ entries: number; checkpoints: number }> {
    const values = [timestampParam(signedBefore), limit];
    const entries = await execute(this.pool, DELETE_ENTRIES, values);
    const checkpoints = await execute(this.pool, DELETE_CHECKPOINTS, values);
    return { entries, checkpoints };
  }
}
