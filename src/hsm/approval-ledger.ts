/**
 * Pre-signed approvals are spent once: each approved challenge is recorded for its key in
 * `ConsumedApproval` (primary key keyId + SHA-256 of the challenge bytes) in the same PostgreSQL
 * transaction that counts the key use and, for a key change, writes it. Two requests presenting the same
 * approval, in one process or in two, cannot both commit: the second finds the row and is refused with
 * nothing changed.
 */
import { APPROVAL_WINDOW_LIMITS } from '../config.js';
import { TsbError } from '../errors.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

/** The approvals a request presented and the gate accepted, to be spent with the operation. */
export interface ApprovalSpend {
  keyId: string;
  /** each distinct approved challenge once, with where it was presented (for the refusal message) */
  challenges: { digest: Buffer; where: string }[];
}

export type LedgerTransaction = Prisma.TransactionClient;

/**
 * How long a spent approval is remembered: longer than the widest approval freshness window a process may be
 * given, so the gate refuses its challenge as too old before its record goes, with a day to spare for a process
 * clock behind the database's.
 */
export const SPENT_APPROVAL_RETENTION_SECONDS =
  APPROVAL_WINDOW_LIMITS.pastSeconds + APPROVAL_WINDOW_LIMITS.futureSeconds + 86_400;

export class ApprovalLedger {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Deletes up to `limit` records of approvals spent more than SPENT_APPROVAL_RETENTION_SECONDS ago (by the
   * database's clock, which stamped them), oldest first; answers how many. Records another deletion holds are
   * skipped.
   */
  forgetExpired(limit: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM "ConsumedApproval" WHERE ("keyId", "challengeDigest") IN (
        SELECT "keyId", "challengeDigest" FROM "ConsumedApproval"
        WHERE "consumedAt" < now() - make_interval(secs => ${SPENT_APPROVAL_RETENTION_SECONDS})
        ORDER BY "consumedAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)`;
  }

  /**
   * Records the approvals as used, counts one use of the key when `countUse`, and runs `alongside` in the
   * same transaction. Throws MISSING_APPROVAL (nothing recorded, counted or written) when any of them was
   * used already; errors of `alongside` roll everything back too.
   */
  async spend<T = undefined>(
    spend: ApprovalSpend,
    options: { countUse: boolean },
    alongside?: (tx: LedgerTransaction) => Promise<T>,
  ): Promise<T | undefined> {
    const digests = spend.challenges.map((challenge) => challenge.digest.toString('hex'));
    return this.prisma.$transaction(async (tx) => {
      const recorded = await tx.$queryRaw<{ digest: string }[]>`
        INSERT INTO "ConsumedApproval" ("keyId", "challengeDigest")
        SELECT ${spend.keyId}::uuid, decode(d, 'hex') FROM unnest(${digests}::text[]) AS d
        ON CONFLICT DO NOTHING
        RETURNING encode("challengeDigest", 'hex') AS digest`;
      const fresh = new Set(recorded.map((row) => row.digest));
      const used = spend.challenges.find((challenge) => !fresh.has(challenge.digest.toString('hex')));
      if (used) {
        throw new TsbError(
          'MISSING_APPROVAL',
          `${used.where}: this approval was used already; an approval authorizes one operation, once`,
        );
      }
      if (options.countUse) {
        await tx.$executeRaw`UPDATE "Key" SET "useCount" = "useCount" + 1 WHERE "id" = ${spend.keyId}::uuid`;
      }
      return alongside ? alongside(tx) : undefined;
    });
  }
}
