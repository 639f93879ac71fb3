import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlPoolOf } from '../../../src/db/prisma.js';
import {
  DUE_REQUESTS,
  type NewRequest,
  RequestsRepository,
  SETTLE_DECISIONS,
} from '../../../src/features/approvals/requests.repository.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { storedRequest } from '../../helpers/stored-requests.js';

const NOW = new Date('2026-03-29T02:00:00.000Z');
const STALE_BEFORE = new Date(NOW.getTime() - 30_000);
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);
const BYSTANDER_COPIES = 750;

interface PlanNode {
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows every table and index scan of a plan read, kept or filtered out, over all its loops. */
function rowsRead(node: PlanNode): number {
  const own =
    node['Relation Name'] !== undefined || node['Index Name'] !== undefined
      ? (node['Actual Rows'] +
          (node['Rows Removed by Filter'] ?? 0) +
          (node['Rows Removed by Index Recheck'] ?? 0)) *
        node['Actual Loops']
      : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child), 0);
}

/**
 * The sweep (the safety net for workflow jobs Redis lost) asks the database which open requests need a look.
 * It must find every kind of due request, and only those, and what it reads must follow what is due, not what
 * is open: a service with many requests waiting for approvers sweeps every few seconds in every worker.
 */
describe('RequestsRepository.dueRequests (the sweep)', () => {
  let db: TestDatabase;
  let repository: RequestsRepository;
  let pool: pg.Pool;
  let partitionId: string;
  let created = 0;
  const due: Record<string, string> = {};
  const notDue: Record<string, string> = {};

  const newRequest = async (expiresAt: Date | null = at(3600)): Promise<NewRequest> => {
    created += 1;
    // oldest first, one second apart, the first an hour ago
    const request = storedRequest(partitionId, {
      quorum: 2,
      fingerprints: ['aa'.repeat(32), 'bb'.repeat(32)],
      createdAt: at(-3600 + created),
      expiresAt,
    });
    await repository.create(request);
    return request;
  };
  const decide = (request: NewRequest, task: number, decidedAt: Date) =>
    repository.decide(request.tasks[task]!.id, {
      decision: 'APPROVED',
      signature: randomBytes(64),
      decidedAt,
    });
  /** What the engine does when a look leaves the request pending: what it read is settled (true: it read one). */
  const evaluated = async (request: NewRequest) => {
    const read = (await repository.find(request.id))!;
    await repository.settleRead(read.tasks);
    return read.tasks.some((task) => task.decisionSettled === false);
  };
  const approved = (request: NewRequest, executableAt: Date) =>
    repository.transition(request.id, 'PENDING', { status: 'APPROVED', executableAt });

  beforeAll(async () => {
    db = await createTestDatabase();
    repository = new RequestsRepository(db.prisma);
    pool = sqlPoolOf(db.prisma);
    partitionId = (
      await db.prisma.partition.create({
        data: {
          name: 'sweep',
          partitionKeySealed: randomBytes(8),
          attestationKeySealed: randomBytes(8),
          attestationPublicKey: randomBytes(8),
        },
      })
    ).id;

    const expired = await newRequest(at(-60));
    due.expired = expired.id;

    const timelockPassed = await newRequest();
    expect(await approved(timelockPassed, at(-1))).toBe(true);
    due.timelockPassed = timelockPassed.id;

    const staleClaim = await newRequest();
    expect(await repository.approveAndClaim(staleClaim.id, at(-600), at(-600))).toBe(true);
    due.staleClaim = staleClaim.id;

    const unevaluated = await newRequest();
    await decide(unevaluated, 0, at(-5));
    due.unevaluated = unevaluated.id;

    // decided, looked at, then decided again: the second decision has not been looked at
    const decidedAgain = await newRequest();
    await decide(decidedAgain, 0, at(-20));
    expect(await evaluated(decidedAgain)).toBe(true);
    await decide(decidedAgain, 1, at(-10));
    due.decidedAgain = decidedAgain.id;

    notDue.open = (await newRequest()).id;
    notDue.neverExpires = (await newRequest(null)).id;

    const lookedAt = await newRequest();
    await decide(lookedAt, 0, at(-5));
    expect(await evaluated(lookedAt)).toBe(true);
    notDue.lookedAt = lookedAt.id;

    const timelockWaiting = await newRequest();
    expect(await approved(timelockWaiting, at(3600))).toBe(true);
    notDue.timelockWaiting = timelockWaiting.id;

    // nothing to settle by status: every decided request is still pending (the looks settled what they read)
    expect(await repository.settleDecisions()).toBe(0);
    // many more open requests like the ones that wait (for approvers, for their expiry or for their timelock),
    // each a copy with its tasks under new ids
    await pool.query(
      `WITH copies AS (
         SELECT r."id" AS "original", gen_random_uuid() AS "id"
         FROM "SkaRequest" r, generate_series(1, $2::int) WHERE r."id" = ANY($1::uuid[])
       ), requests AS (
         INSERT INTO "SkaRequest"
         SELECT (jsonb_populate_record(r, jsonb_build_object('id', c."id"))).*
         FROM copies c JOIN "SkaRequest" r ON r."id" = c."original"
       )
       INSERT INTO "ApprovalTask"
       SELECT (jsonb_populate_record(t, jsonb_build_object('id', gen_random_uuid(), 'requestId', c."id"))).*
       FROM copies c JOIN "ApprovalTask" t ON t."requestId" = c."original"`,
      [Object.values(notDue), BYSTANDER_COPIES],
    );
    await pool.query('ANALYZE "ApprovalTask"');

    // a request being run now (its claim is live): as many as run at once, not as many as are open
    const liveClaim = await newRequest();
    expect(await repository.approveAndClaim(liveClaim.id, at(-600), at(-1))).toBe(true);
    notDue.liveClaim = liveClaim.id;
    await pool.query('ANALYZE "SkaRequest"');
  });
  afterAll(async () => db?.drop());

  it('finds every kind of due request, oldest first, and none that is not due', async () => {
    const found = await repository.dueRequests(NOW, STALE_BEFORE, 200);
    expect(found.map(({ id }) => id)).toEqual(Object.values(due));
    expect(Object.values(notDue).filter((id) => found.some((row) => row.id === id))).toEqual([]);
    // at most `limit`, the oldest
    expect((await repository.dueRequests(NOW, STALE_BEFORE, 2)).map(({ id }) => id)).toEqual([
      due.expired,
      due.timelockPassed,
    ]);
  });

  it('a request found due is not due once looked at, until a decision the look did not read', async () => {
    const request = await newRequest();
    const unsettled = async () =>
      (await repository.find(request.id))!.tasks.filter((task) => task.decisionSettled === false).length;
    const isDue = async () =>
      (await repository.dueRequests(NOW, STALE_BEFORE, 200)).some(({ id }) => id === request.id);

    await decide(request, 0, at(-3));
    expect(await isDue()).toBe(true);
    expect(await unsettled()).toBe(1);
    expect(await evaluated(request)).toBe(true);
    expect(await isDue()).toBe(false);
    expect(await unsettled()).toBe(0);

    // a decision whose time is before the look, committed after its read (a slow statement, another clock):
    // the look did not read it, so the sweep still asks about it
    await decide(request, 1, at(-4));
    expect(await isDue()).toBe(true);
    // once its request has left PENDING, a decision is settled whether or not a look read it
    expect(await repository.transition(request.id, 'PENDING', { status: 'CANCELLED' })).toBe(true);
    expect(await isDue()).toBe(false);
    expect(await repository.settleDecisions()).toBe(1);
    expect(await unsettled()).toBe(0);
  });

  it('an approval that approves its request by itself is settled as it is recorded', async () => {
    const request = await newRequest();
    const seen = await repository.decide(
      request.tasks[0]!.id,
      { decision: 'APPROVED', signature: randomBytes(64), decidedAt: at(-1) },
      { claimedAt: at(-1) },
    );
    expect(seen!.status).toBe('APPROVED');
    expect(seen!.tasks.find((task) => task.id === request.tasks[0]!.id)!.decisionSettled).toBe(true);
  });

  it('reads about as many rows as are due, not every open request', async () => {
    const open = await pool.query<{ count: string }>(
      `SELECT count(*) FROM "SkaRequest" WHERE "status" IN ('PENDING', 'APPROVED')`,
    );
    expect(Number(open.rows[0]!.count)).toBeGreaterThan(4 * BYSTANDER_COPIES);
    const explained = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${DUE_REQUESTS.text}`,
      [NOW.toISOString(), STALE_BEFORE.toISOString(), 200],
    );
    const plan = explained.rows[0]!['QUERY PLAN'][0].Plan;
    // each due row is read once from an index and once from the table; a few more for the index boundaries
    expect(rowsRead(plan)).toBeLessThanOrEqual(4 * Object.keys(due).length + 10);

    // settling reads the unsettled decisions only: the ones still due, and one just made
    const request = await newRequest();
    await decide(request, 0, at(-1));
    expect(await repository.transition(request.id, 'PENDING', { status: 'CANCELLED' })).toBe(true);
    const settling = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${SETTLE_DECISIONS.text}`,
    );
    expect(rowsRead(settling.rows[0]!['QUERY PLAN'][0].Plan)).toBeLessThanOrEqual(20);
    expect(await repository.settleDecisions()).toBe(0);
  });

  it('two sweeps settling at once each settle a decision once, without waiting for each other', async () => {
    const ended: NewRequest[] = [];
    for (let i = 0; i < 40; i++) ended.push(await newRequest());
    for (const request of ended) await decide(request, 0, at(-1));
    for (const request of ended)
      expect(await repository.transition(request.id, 'PENDING', { status: 'CANCELLED' })).toBe(true);
    const counts = await Promise.all([repository.settleDecisions(), repository.settleDecisions()]);
    expect(counts[0]! + counts[1]!).toBe(ended.length);
    expect(await repository.settleDecisions()).toBe(0);
  });
});
