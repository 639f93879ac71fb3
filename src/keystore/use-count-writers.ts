/**
 * The statement that adds a batch of key uses to `Key.useCount`: one UPDATE, committed when it resolves.
 * Off the hot path: uses made while serving an HTTP request are counted in the audit entry's statement
 * (`UseCounter.deferInto`); this one serves the rest (work that outlives its answer, direct HSM use).
 */
import type { PrismaClient } from '../generated/prisma/client.js';

/** Adds `counts[i]` to the use count of the key `ids[i]`; committed when it resolves. */
export type AddUseCounts = (ids: readonly string[], counts: readonly number[]) => Promise<unknown>;

/**
 * The rows are locked in the order of their id first (`locked`: a CTE with FOR UPDATE is not folded into
 * the UPDATE), so two processes adding to the same keys never wait for each other in a circle (deadlock),
 * whatever plan each batch gets.
 */
const ADD_USE_COUNTS = `
  WITH v AS (SELECT unnest($1::uuid[]) AS id, unnest($2::bigint[]) AS n),
  locked AS (SELECT k.id, v.n FROM "Key" AS k JOIN v ON k.id = v.id ORDER BY k.id FOR UPDATE OF k)
  UPDATE "Key" AS k SET "useCount" = k."useCount" + locked.n FROM locked WHERE k.id = locked.id`;

export function addUseCountsThroughPrisma(prisma: PrismaClient): AddUseCounts {
  return (ids, counts) => prisma.$executeRawUnsafe(ADD_USE_COUNTS, ids, counts);
}
