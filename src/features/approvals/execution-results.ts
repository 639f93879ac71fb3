/**
 * Stores the results of claimed executions, several in one statement. Each result is stored on condition of
 * its claim (compare-and-set), and the key uses of the stored ones are added to `Key.useCount` in the same
 * statement, so a workflow use is counted exactly when its result is stored, as before. The statement also
 * notifies the processes waiting for these executions (`request-endings.ts`), at its commit.
 *
 * Why batched: every approval flow of a key used to increment that key's row on its own, and concurrent
 * completions then waited for each other's row lock; measured here (16 in flight, one key), a completion cost
 * PostgreSQL ≈ 500 µs of CPU against ≈ 150 µs without the increment, and capped completions at ≈ 1,000/s.
 * Batched (`db/statement-batch.ts`: group commit, a lone completion waits for nothing), the key row is updated
 * once per batch.
 */
import type pg from 'pg';
import { queryRows, type Statement, timestampParam } from '../../db/sql.js';
import { StatementBatch } from '../../db/statement-batch.js';
import { notifyEnded } from './request-endings.js';

export interface ExecutionResult {
  requestId: string;
  /** the claim the result is stored on */
  claimedAt: Date;
  result: string | null;
  executedAt: Date;
  /** the key whose use this execution was; null for operations that are no key use (block, unblock, modify) */
  usedKeyId: string | null;
}

/**
 * The key rows are locked in the order of their id (as the audit statement and `use-count-writers.ts` do), after
 * the request rows, so no two writers wait for each other in a circle.
 */
const STORE_RESULTS: Statement = {
  name: 'opentsb-store-execution-results',
  text: `
    WITH input AS (
      SELECT * FROM unnest($1::uuid[], $2::timestamp(3)[], $3::text[], $4::timestamp(3)[], $5::uuid[])
        WITH ORDINALITY AS i(id, claimed_at, result, executed_at, key_id, n)
    ), done AS (
      UPDATE "SkaRequest" AS r
      SET "status" = 'EXECUTED', "result" = i.result, "executedAt" = i.executed_at, "updatedAt" = $6::timestamp(3)
      FROM input AS i
      WHERE r."id" = i.id AND r."status" = 'APPROVED' AND r."executionClaimedAt" = i.claimed_at
      RETURNING r."id", i.key_id, i.n
    ), uses AS (
      SELECT key_id, count(*)::bigint AS n FROM done WHERE key_id IS NOT NULL GROUP BY key_id
    ), locked AS (
      SELECT k."id", uses.n FROM "Key" AS k JOIN uses ON k."id" = uses.key_id ORDER BY k."id" FOR UPDATE OF k
    ), used AS (
      UPDATE "Key" AS k SET "useCount" = k."useCount" + locked.n FROM locked WHERE k."id" = locked."id"
    )
    SELECT n::int, ${notifyEnded('"id"')} FROM done`,
};

export class ExecutionResults {
  private readonly batch = new StatementBatch((results: readonly ExecutionResult[]) =>
    this.storeAll(results),
  );

  constructor(private readonly pool: pg.Pool) {}

  /** Stores the result on condition of its claim; false when the claim was no longer this executor's. */
  store(result: ExecutionResult): Promise<boolean> {
    return this.batch.submit(result);
  }

  private async storeAll(results: readonly ExecutionResult[]): Promise<boolean[]> {
    const rows = await queryRows(this.pool, STORE_RESULTS, [
      results.map((result) => result.requestId),
      results.map((result) => timestampParam(result.claimedAt)),
      results.map((result) => result.result),
      results.map((result) => timestampParam(result.executedAt)),
      results.map((result) => result.usedKeyId),
      timestampParam(new Date()),
    ]);
    // each stored row names the input (1-based) it was stored from: of several results of one request in a
    // batch, the one whose claim held is the one stored, and only its caller is told so
    const stored = new Set(rows.map((row) => row[0] as number));
    return results.map((_, index) => stored.has(index + 1));
  }
}
