/**
 * Approves requests whose quorum is complete and claims each for the executor that found it complete,
 * several in one statement (`db/statement-batch.ts`): under load, the approvals that complete in one turn of
 * the event loop cost PostgreSQL one statement and one commit instead of one each. Each request moves only from
 * PENDING (compare-and-set), so of executors racing for one request exactly one gets it.
 */
import type pg from 'pg';
import { queryRows, type Statement, timestampParam } from '../../db/sql.js';
import { StatementBatch } from '../../db/statement-batch.js';

export interface ExecutionClaim {
  requestId: string;
  /** when the timelock lets it run */
  executableAt: Date;
  /** the claim: the executor stores its result on condition of it */
  claimedAt: Date;
}

/** The request rows are locked in the order of their id, so that no two writers wait for each other in a circle. */
const APPROVE_AND_CLAIM: Statement = {
  name: 'opentsb-approve-and-claim',
  text: `
    WITH input AS (
      SELECT * FROM unnest($1::uuid[], $2::timestamp(3)[], $3::timestamp(3)[]) AS i(id, executable_at, claimed_at)
    ), locked AS (
      SELECT r."id", i.executable_at, i.claimed_at
      FROM "SkaRequest" AS r JOIN input AS i ON r."id" = i.id
      WHERE r."status" = 'PENDING'
      ORDER BY r."id"
      FOR UPDATE OF r
    )
    UPDATE "SkaRequest" AS r
    SET "status" = 'APPROVED', "executableAt" = l.executable_at, "executionClaimedAt" = l.claimed_at,
      "updatedAt" = $4::timestamp(3)
    FROM locked AS l
    WHERE r."id" = l."id" AND r."status" = 'PENDING'
    RETURNING r."id"::text`,
};

export class ExecutionClaims {
  private readonly batch = new StatementBatch((claims: readonly ExecutionClaim[]) => this.claimAll(claims));

  constructor(private readonly pool: pg.Pool) {}

  /** Approves the request and claims it; false when it was not PENDING any more (another executor has it, or it ended). */
  claim(claim: ExecutionClaim): Promise<boolean> {
    return this.batch.submit(claim);
  }

  private async claimAll(claims: readonly ExecutionClaim[]): Promise<boolean[]> {
    // a request claimed twice in one batch goes to its first caller
    const first = new Map<string, ExecutionClaim>();
    for (const claim of claims) {
      const id = claim.requestId.toLowerCase();
      if (!first.has(id)) first.set(id, claim);
    }
    const unique = [...first.values()];
    const rows = await queryRows(this.pool, APPROVE_AND_CLAIM, [
      unique.map((claim) => claim.requestId),
      unique.map((claim) => timestampParam(claim.executableAt)),
      unique.map((claim) => timestampParam(claim.claimedAt)),
      timestampParam(new Date()),
    ]);
    const claimed = new Set(rows.map((row) => row[0] as string));
    return claims.map((claim) => {
      const id = claim.requestId.toLowerCase();
      return first.get(id) === claim && claimed.has(id);
    });
  }
}
