import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sqlPoolOf } from '../../../src/db/prisma.js';
import {
  type NewRequest,
  type NewTask,
  RequestsRepository,
} from '../../../src/features/approvals/requests.repository.js';
import type { Partition } from '../../../src/generated/prisma/client.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

/**
 * The workflow's prepared statements (src/db/sql.ts) against Prisma's view of the same rows: every column
 * comes back as Prisma reads it, dates exact to the millisecond in a process whose time zone is not UTC
 * (Prisma stores UTC in `timestamp(3)`; `pg` alone would read and write local time), and each status
 * change is a compare-and-set.
 */
describe('RequestsRepository (prepared statements)', () => {
  let db: TestDatabase;
  let repository: RequestsRepository;
  let partition: Partition;
  const originalTimeZone = process.env.TZ;

  beforeAll(async () => {
    // UTC+05:45: a time zone offset that no rounding to hours hides
    process.env.TZ = 'Asia/Kathmandu';
    db = await createTestDatabase();
    repository = new RequestsRepository(db.prisma);
    partition = await db.prisma.partition.create({
      data: {
        name: 'repository',
        partitionKeySealed: randomBytes(8),
        attestationKeySealed: randomBytes(8),
        attestationPublicKey: randomBytes(8),
      },
    });
  });
  afterAll(async () => {
    if (originalTimeZone === undefined) delete process.env.TZ;
    else process.env.TZ = originalTimeZone;
    await db?.drop();
  });

  /** Bytes as hex and dates as ISO strings, so that Buffer and Uint8Array compare equal. */
  const plain = (value: unknown): unknown => {
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
    return value;
  };

  const newRequest = (overrides: Partial<NewRequest> = {}): NewRequest => ({
    id: randomUUID(),
    partitionId: partition.id,
    keyId: randomUUID(),
    keyLabel: 'key',
    operation: 'SIGN',
    body: { payload: 'cGF5bG9hZA==', nested: { list: [1, 'two', null] } },
    passwordSealed: randomBytes(40),
    metaData: 'bWV0YQ==',
    metaDataSignature: null,
    rule: { tokens: [{ groups: [{ quorum: 1 }] }] },
    ruleDigest: randomBytes(32),
    payloadDigest: randomBytes(32),
    challenge: randomBytes(100),
    createdBy: 'credential-1',
    createdAt: new Date('2026-03-29T01:30:07.000Z'),
    expiresAt: new Date('2026-03-29T01:40:07.123Z'),
    tasks: [
      {
        id: randomUUID(),
        fingerprint: 'aa'.repeat(32),
        approverPublicKey: randomBytes(44),
        approverCertificate: null,
        approverName: null,
      },
      {
        id: randomUUID(),
        fingerprint: 'bb'.repeat(32),
        approverPublicKey: randomBytes(91),
        approverCertificate: randomBytes(300),
        approverName: 'Bob "the approver", \\ 1',
      },
    ],
    ...overrides,
  });

  const prismaView = (id: string) =>
    db.prisma.skaRequest.findUniqueOrThrow({
      where: { id },
      include: { tasks: { orderBy: { fingerprint: 'asc' } } },
    });

  it('runs in a time zone other than UTC', () => {
    expect(new Date('2026-03-29T01:30:07.000Z').getTimezoneOffset()).toBe(-345);
  });

  it('stores a request with its tasks and reads it back as Prisma does, dates exact', async () => {
    const request = newRequest();
    await repository.create(request);
    const found = await repository.find(request.id);
    expect(found).not.toBeNull();
    expect(plain(found)).toEqual(plain(await prismaView(request.id)));
    expect(found!.createdAt.toISOString()).toBe('2026-03-29T01:30:07.000Z');
    expect(found!.expiresAt!.toISOString()).toBe('2026-03-29T01:40:07.123Z');
    expect(found!.body).toEqual(request.body);
    expect(found!.tasks.map((task) => task.approverName)).toEqual([null, 'Bob "the approver", \\ 1']);
    expect(Buffer.from(found!.tasks[1]!.approverCertificate!)).toEqual(request.tasks[1]!.approverCertificate);
    expect(plain(await repository.findInPartition(partition.id, request.id))).toEqual(plain(found));
    expect(await repository.findInPartition(randomUUID(), request.id)).toBeNull();
    expect(await repository.find(randomUUID())).toBeNull();

    const task = request.tasks[0]!;
    const withRequest = await repository.findTask(partition.id, task.id);
    const { tasks: _tasks, ...requestRow } = found!;
    expect(plain(withRequest)).toEqual(plain({ ...found!.tasks[0], request: requestRow }));
    expect(plain(await repository.findTaskById(task.id))).toEqual(plain(withRequest));
    expect(await repository.findTask(randomUUID(), task.id)).toBeNull();
  });

  it('moves a request by compare-and-set, and runs it once under its claim', async () => {
    const request = newRequest();
    await repository.create(request);
    const claimedAt = new Date('2026-03-29T01:35:00.456Z');
    const approved = {
      status: 'APPROVED' as const,
      executableAt: new Date('2026-03-29T01:34:00.001Z'),
      executionClaimedAt: claimedAt,
    };
    expect(await repository.transition(request.id, 'APPROVED', approved)).toBe(false);
    expect(await repository.transition(request.id, 'PENDING', approved)).toBe(true);
    expect(await repository.transition(request.id, 'PENDING', approved)).toBe(false);
    const stored = await prismaView(request.id);
    expect(stored.status).toBe('APPROVED');
    expect(stored.executableAt?.toISOString()).toBe('2026-03-29T01:34:00.001Z');
    expect(stored.executionClaimedAt?.toISOString()).toBe(claimedAt.toISOString());
    expect(stored.updatedAt.getTime()).toBeGreaterThan(request.createdAt.getTime());

    // cancelling needs an unclaimed request
    expect(
      await repository.transition(
        request.id,
        ['PENDING', 'APPROVED'],
        { status: 'CANCELLED', errorMessage: 'no' },
        { executionClaimedAt: null },
      ),
    ).toBe(false);
    // a fresh claim is not taken over; a stale one is, by exactly one executor
    const later = new Date(claimedAt.getTime() + 1000);
    expect(await repository.claimExecution(request.id, later, new Date(claimedAt.getTime() - 1))).toBeNull();
    // the claim reads the request back with its tasks, as a read after it would
    const claimed = await repository.claimExecution(request.id, later, new Date(claimedAt.getTime() + 1));
    expect(claimed?.executionClaimedAt?.toISOString()).toBe(later.toISOString());
    expect(plain(claimed)).toEqual(plain(await prismaView(request.id)));
    expect(claimed!.tasks).toHaveLength(2);
    expect(await repository.claimExecution(request.id, later, new Date(claimedAt.getTime() + 1))).toBeNull();
    const outcome = { result: 'c2lnbmF0dXJl', executedAt: new Date('2026-03-29T01:35:02.789Z') };
    expect(await repository.completeExecution(request.id, claimedAt, outcome, null)).toBe(false);
    expect(await repository.completeExecution(request.id, later, outcome, null)).toBe(true);
    expect(await repository.completeExecution(request.id, later, outcome, null)).toBe(false);
    const done = await prismaView(request.id);
    expect(done.status).toBe('EXECUTED');
    expect(done.result).toBe('c2lnbmF0dXJl');
    expect(done.executedAt?.toISOString()).toBe('2026-03-29T01:35:02.789Z');
  });

  it('approves and claims requests that complete together in one statement, each from PENDING and for one caller', async () => {
    const requests = Array.from({ length: 8 }, () => newRequest());
    for (const request of requests) await repository.create(request);
    const ended = requests[6]!.id;
    const approvedElsewhere = requests[7]!.id;
    expect(await repository.transition(ended, 'PENDING', { status: 'CANCELLED', errorMessage: 'no' })).toBe(
      true,
    );
    const elsewhereClaim = new Date('2026-03-29T01:33:00.000Z');
    expect(
      await repository.transition(approvedElsewhere, 'PENDING', {
        status: 'APPROVED',
        executableAt: elsewhereClaim,
        executionClaimedAt: elsewhereClaim,
      }),
    ).toBe(true);
    const executableAt = new Date('2026-03-29T01:34:00.001Z');
    const claimAt = (index: number) => new Date(Date.UTC(2026, 2, 29, 1, 35, 0, index));
    const pool = sqlPoolOf(db.prisma);
    const statements = vi.spyOn(pool, 'query');
    let claims: boolean[];
    try {
      claims = await Promise.all([
        ...requests.map((request, index) =>
          repository.approveAndClaim(request.id.toUpperCase(), executableAt, claimAt(index)),
        ),
        // a second executor of request 0 in the same batch, and of request 1 in the next
        repository.approveAndClaim(requests[0]!.id, executableAt, claimAt(100)),
      ]);
      expect(statements).toHaveBeenCalledTimes(1);
      expect(await repository.approveAndClaim(requests[1]!.id, executableAt, claimAt(101))).toBe(false);
    } finally {
      statements.mockRestore();
    }
    expect(claims).toEqual([true, true, true, true, true, true, false, false, false]);
    for (const [index, request] of requests.slice(0, 6).entries()) {
      const stored = await prismaView(request.id);
      expect(stored.status).toBe('APPROVED');
      expect(stored.executableAt?.toISOString()).toBe('2026-03-29T01:34:00.001Z');
      expect(stored.executionClaimedAt?.toISOString()).toBe(claimAt(index).toISOString());
      expect(stored.updatedAt.getTime()).toBeGreaterThan(request.createdAt.getTime());
    }
    expect((await prismaView(ended)).status).toBe('CANCELLED');
    expect((await prismaView(approvedElsewhere)).executionClaimedAt?.toISOString()).toBe(
      elsewhereClaim.toISOString(),
    );
    // the claim is what the result is stored on
    const outcome = { result: 'cmVzdWx0', executedAt: new Date('2026-03-29T01:35:02.789Z') };
    expect(await repository.completeExecution(requests[0]!.id, claimAt(100), outcome, null)).toBe(false);
    expect(await repository.completeExecution(requests[0]!.id, claimAt(0), outcome, null)).toBe(true);
  });

  it('stores results that arrive together in one go, each on its claim, and counts each stored use once', async () => {
    const key = await db.prisma.key.create({
      data: {
        partitionId: partition.id,
        label: 'counted',
        algorithm: 'EC',
        origin: 'generated',
        attributes: {},
      },
    });
    const useCount = async () =>
      Number((await db.prisma.key.findUniqueOrThrow({ where: { id: key.id } })).useCount);
    const claimedAt = new Date('2026-03-29T01:35:00.456Z');
    const requests = Array.from({ length: 20 }, () => newRequest({ keyId: key.id }));
    for (const request of requests) {
      await repository.create(request);
      await repository.transition(request.id, 'PENDING', {
        status: 'APPROVED',
        executableAt: claimedAt,
        executionClaimedAt: claimedAt,
      });
    }
    const outcome = (index: number) => ({ result: `cmVzdWx0${index}`, executedAt: new Date() });
    // the first ten together: six on their claim and with a key use, two on a wrong claim, two without key use
    const first = await Promise.all(
      requests
        .slice(0, 10)
        .map((request, index) =>
          repository.completeExecution(
            request.id,
            index === 3 || index === 7 ? new Date(claimedAt.getTime() + 1) : claimedAt,
            outcome(index),
            index === 4 || index === 8 ? null : key.id,
          ),
        ),
    );
    expect(first).toEqual([true, true, true, false, true, true, true, false, true, true]);
    expect(await useCount()).toBe(6);
    // the same request twice in one batch is stored, and counted, once
    const twice = await Promise.all([
      repository.completeExecution(requests[10]!.id, claimedAt, outcome(10), key.id),
      repository.completeExecution(requests[10]!.id, claimedAt, outcome(10), key.id),
    ]);
    expect(twice.sort()).toEqual([false, true]);
    expect(await useCount()).toBe(7);
    // a stale claim and the live one of a request in one batch: the live one's caller is told it was stored
    const staleFirst = await Promise.all([
      repository.completeExecution(requests[11]!.id, new Date(claimedAt.getTime() - 1), outcome(99), key.id),
      repository.completeExecution(requests[11]!.id, claimedAt, outcome(11), key.id),
    ]);
    expect(staleFirst).toEqual([false, true]);
    expect(await useCount()).toBe(8);
    // the rest, and everything again: each stored and counted exactly once
    const rest = await Promise.all(
      requests.map((request, index) =>
        repository.completeExecution(request.id, claimedAt, outcome(index), key.id),
      ),
    );
    expect(rest.filter(Boolean)).toHaveLength(8 + 2);
    expect(await useCount()).toBe(8 + 8 + 2);
    const stored = await db.prisma.skaRequest.findMany({ where: { keyId: key.id } });
    expect(stored.every((request) => request.status === 'EXECUTED')).toBe(true);
    expect(stored.find((request) => request.id === requests[5]!.id)?.result).toBe('cmVzdWx05');
    expect(stored.find((request) => request.id === requests[11]!.id)?.result).toBe('cmVzdWx011');
  });

  it('does not run a request before its time, and cancels an unclaimed one', async () => {
    const request = newRequest();
    await repository.create(request);
    const executableAt = new Date('2026-03-29T02:00:00.000Z');
    expect(await repository.transition(request.id, 'PENDING', { status: 'APPROVED', executableAt })).toBe(
      true,
    );
    const before = new Date(executableAt.getTime() - 1);
    expect(await repository.claimExecution(request.id, before, before)).toBeNull();
    expect(
      await repository.transition(
        request.id,
        ['PENDING', 'APPROVED'],
        { status: 'CANCELLED', errorMessage: 'cancelled: by the test', errorCode: 42 },
        { executionClaimedAt: null },
      ),
    ).toBe(true);
    const cancelled = await prismaView(request.id);
    expect([cancelled.status, cancelled.errorMessage, cancelled.errorCode]).toEqual([
      'CANCELLED',
      'cancelled: by the test',
      42,
    ]);
    expect(await repository.claimExecution(request.id, executableAt, executableAt)).toBeNull();
  });

  it('refuses, before any statement, a status change of a column it does not know or an unknown task order', async () => {
    const request = newRequest();
    await repository.create(request);
    const hostile = { status: 'EXECUTED', 'result" = NULL, "status': 'x' } as unknown as Parameters<
      RequestsRepository['transition']
    >[2];
    await expect(repository.transition(request.id, 'PENDING', hostile)).rejects.toThrow(
      /cannot set the column/,
    );
    await expect(
      repository.openTasks(
        {
          partitionId: partition.id,
          fingerprint: null,
          operations: null,
          taskId: null,
          requestId: null,
          pageNumber: 0,
          pageSize: 1,
          sortOrder: 'constructor' as never,
        },
        new Date(),
      ),
    ).rejects.toThrow(/unknown task order/);
    expect((await prismaView(request.id)).status).toBe('PENDING');
  });

  it('records a decision once', async () => {
    const request = newRequest();
    await repository.create(request);
    const taskId = request.tasks[1]!.id;
    const decision = {
      decision: 'APPROVED' as const,
      signature: randomBytes(64),
      digestAlgorithm: 'SHA-256',
      decidedAt: new Date('2026-03-29T01:31:00.321Z'),
    };
    const seen = await repository.decide(taskId, decision);
    expect(await repository.decide(taskId, { ...decision, decision: 'REJECTED', reason: 'late' })).toBeNull();
    // what the recording statement saw is the request as it now is, every column and task of it
    expect(seen).not.toBeNull();
    expect(plain(seen)).toEqual(plain(await repository.find(request.id)));
    expect(seen!.tasks.map((task) => task.decision)).toEqual(
      seen!.tasks.map((task) => (task.id === taskId ? 'APPROVED' : null)),
    );
    const task = await db.prisma.approvalTask.findUniqueOrThrow({ where: { id: taskId } });
    expect(plain([task.decision, task.signature, task.digestAlgorithm, task.reason, task.decidedAt])).toEqual(
      plain(['APPROVED', decision.signature, 'SHA-256', null, decision.decidedAt]),
    );
  });

  it('an approval that meets the rule alone approves and claims the request in its own statement', async () => {
    const request = newRequest();
    await repository.create(request);
    const decidedAt = new Date('2026-03-29T01:31:00.321Z');
    const approval = {
      decision: 'APPROVED' as const,
      signature: randomBytes(64),
      digestAlgorithm: 'SHA-256',
      decidedAt,
    };
    const seen = await repository.decide(request.tasks[0]!.id, approval, { claimedAt: decidedAt });
    // read back as the statement left it: approved, executable at its creation, claimed, the decision in it
    expect(plain(seen)).toEqual(plain(await prismaView(request.id)));
    expect(seen!.status).toBe('APPROVED');
    expect(seen!.executableAt!.toISOString()).toBe(request.createdAt.toISOString());
    expect(seen!.executionClaimedAt!.toISOString()).toBe(decidedAt.toISOString());
    expect(seen!.updatedAt.toISOString()).toBe(decidedAt.toISOString());
    // a second decision on the approved request is refused, and so approves nothing again
    expect(await repository.decide(request.tasks[1]!.id, approval, { claimedAt: new Date() })).toBeNull();
    expect((await prismaView(request.id)).executionClaimedAt!.toISOString()).toBe(decidedAt.toISOString());

    // an approved request is claimed and read back with its tasks in one statement
    const other = newRequest();
    await repository.create(other);
    await repository.decide(other.tasks[1]!.id, approval);
    expect(
      await repository.transition(other.id, 'PENDING', { status: 'APPROVED', executableAt: decidedAt }),
    ).toBe(true);
    const claimed = await repository.claimExecution(other.id, decidedAt, decidedAt);
    expect(claimed!.tasks.find((task) => task.id === other.tasks[1]!.id)!.decision).toBe('APPROVED');

    // a rejection never approves
    await expect(
      repository.decide(
        newRequest().tasks[0]!.id,
        { ...approval, decision: 'REJECTED' },
        { claimedAt: decidedAt },
      ),
    ).rejects.toThrow(/only an approval/);
  });

  it('an approval that meets the rule alone does not approve a request cancelled while it is recorded', async () => {
    const request = newRequest();
    await repository.create(request);
    const canceller = await sqlPoolOf(db.prisma).connect();
    try {
      await canceller.query('BEGIN');
      await canceller.query(`UPDATE "SkaRequest" SET "status" = 'CANCELLED' WHERE "id" = $1`, [request.id]);
      // the decision's statement sees PENDING, records the decision, then waits for the request row's lock
      const deciding = repository.decide(
        request.tasks[0]!.id,
        { decision: 'APPROVED', signature: randomBytes(64), decidedAt: new Date() },
        { claimedAt: new Date() },
      );
      await vi.waitFor(
        async () => {
          const [row] = await db.prisma.$queryRawUnsafe<{ waiting: number }[]>(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          expect(row!.waiting).toBeGreaterThan(0);
        },
        { timeout: 5000, interval: 20 },
      );
      await canceller.query('COMMIT');
      const seen = await deciding;
      // the decision stands, the request is not approved: read back as the statement's snapshot had it
      expect(seen!.status).toBe('PENDING');
      const stored = await prismaView(request.id);
      expect([stored.status, stored.executionClaimedAt, stored.executableAt]).toEqual([
        'CANCELLED',
        null,
        null,
      ]);
    } finally {
      canceller.release();
    }
  });

  it('records no decision once the request has ended, nor on a task that does not exist', async () => {
    const decision = { decision: 'APPROVED' as const, signature: randomBytes(64), decidedAt: new Date() };
    for (const status of ['APPROVED', 'EXECUTED', 'CANCELLED', 'EXPIRED', 'REJECTED', 'FAILED'] as const) {
      const request = newRequest();
      await repository.create(request);
      expect(await repository.transition(request.id, 'PENDING', { status })).toBe(true);
      expect(await repository.decide(request.tasks[0]!.id, decision)).toBeNull();
      expect((await prismaView(request.id)).tasks.every((task) => task.decision === null)).toBe(true);
    }
    expect(await repository.decide(randomUUID(), decision)).toBeNull();
  });

  it('a decision reads back the decisions made before it, with their dates exact', async () => {
    const request = newRequest();
    await repository.create(request);
    const [first, second] = request.tasks as [NewTask, NewTask];
    const rejectedAt = new Date('2026-03-29T01:30:59.001Z');
    await repository.decide(first.id, { decision: 'REJECTED', reason: 'not today', decidedAt: rejectedAt });
    const approvedAt = new Date('2026-03-29T01:31:00.999Z');
    const seen = await repository.decide(second.id, {
      decision: 'APPROVED',
      signature: randomBytes(71),
      digestAlgorithm: 'SHA-384',
      decidedAt: approvedAt,
    });
    const byId = new Map(seen!.tasks.map((task) => [task.id, task]));
    expect(
      plain([byId.get(first.id)!.decision, byId.get(first.id)!.reason, byId.get(first.id)!.decidedAt]),
    ).toEqual(plain(['REJECTED', 'not today', rejectedAt]));
    expect(
      plain([
        byId.get(second.id)!.decision,
        byId.get(second.id)!.digestAlgorithm,
        byId.get(second.id)!.decidedAt,
      ]),
    ).toEqual(plain(['APPROVED', 'SHA-384', approvedAt]));
    expect(plain(seen)).toEqual(plain(await prismaView(request.id)));
  });

  it('lists open tasks a page at a time, as they were, and marks them fetched', async () => {
    const fingerprint = 'cc'.repeat(32);
    const requests = [0, 1, 2].map((index) =>
      newRequest({
        createdAt: new Date(Date.UTC(2026, 2, 29, 3, 0, index)),
        tasks: [
          {
            id: randomUUID(),
            fingerprint,
            approverPublicKey: randomBytes(44),
            approverCertificate: null,
            approverName: `approver ${index}`,
          },
        ],
      }),
    );
    for (const request of requests) await repository.create(request);
    await repository.decide(requests[1]!.tasks[0]!.id, {
      decision: 'REJECTED',
      decidedAt: new Date(),
    });
    const query = {
      partitionId: partition.id,
      fingerprint,
      operations: ['SIGN'],
      taskId: null,
      requestId: null,
      pageNumber: 0,
      pageSize: 10,
      sortOrder: 'CREATION_DATE_DESC' as const,
    };
    const fetchedAt = new Date('2026-03-29T04:00:00.555Z');
    const page = await repository.openTasks(query, fetchedAt);
    expect(page.map((task) => task.approverName)).toEqual(['approver 2', 'approver 0']);
    // the rows as they were before this listing marked them
    expect(page.map((task) => task.lastFetchedAt.toISOString())).toEqual([
      requests[2]!.createdAt.toISOString(),
      requests[0]!.createdAt.toISOString(),
    ]);
    expect(page[0]!.request.id).toBe(requests[2]!.id);
    const marked = await db.prisma.approvalTask.findMany({
      where: { fingerprint },
      orderBy: { createdAt: 'asc' },
    });
    expect(marked.map((task) => task.lastFetchedAt.toISOString())).toEqual([
      fetchedAt.toISOString(),
      requests[1]!.createdAt.toISOString(),
      fetchedAt.toISOString(),
    ]);

    const second = await repository.openTasks({ ...query, pageNumber: 1, pageSize: 1 }, fetchedAt);
    expect(second.map((task) => task.approverName)).toEqual(['approver 0']);
    expect(await repository.openTasks({ ...query, operations: ['DECRYPT'] }, fetchedAt)).toEqual([]);
    expect(
      (await repository.openTasks({ ...query, requestId: requests[0]!.id }, fetchedAt)).map((t) => t.id),
    ).toEqual([requests[0]!.tasks[0]!.id]);

    // an approver without credential sees only partitions that let approver keys authenticate
    const everywhere = { ...query, partitionId: null, fingerprint };
    expect(await repository.openTasks(everywhere, fetchedAt)).toHaveLength(2);
    await db.prisma.partition.update({
      where: { id: partition.id },
      data: { approverKeyAuthentication: false },
    });
    expect(await repository.openTasks(everywhere, fetchedAt)).toEqual([]);
    await db.prisma.partition.update({
      where: { id: partition.id },
      data: { approverKeyAuthentication: true },
    });
  });

  it('a listing, deep or racing, shows and marks only its own page of its own tasks', async () => {
    const [mine, theirs] = ['dd'.repeat(32), 'ee'.repeat(32)];
    const elsewhere = await db.prisma.partition.create({
      data: {
        name: 'repository-elsewhere',
        partitionKeySealed: randomBytes(8),
        attestationKeySealed: randomBytes(8),
        attestationPublicKey: randomBytes(8),
      },
    });
    const taskFor = (fingerprint: string) => ({
      id: randomUUID(),
      fingerprint,
      approverPublicKey: randomBytes(44),
      approverCertificate: null,
      approverName: fingerprint === mine ? 'mine' : 'theirs',
    });
    // the same creation second for all: the pages are told apart by task id alone
    const createdAt = new Date(Date.UTC(2026, 2, 29, 5, 0, 0));
    const requests = Array.from({ length: 5 }, () =>
      newRequest({ createdAt, tasks: [taskFor(mine), taskFor(theirs)] }),
    );
    const foreign = newRequest({ partitionId: elsewhere.id, createdAt, tasks: [taskFor(mine)] });
    for (const request of [...requests, foreign]) await repository.create(request);
    const query = {
      partitionId: partition.id,
      fingerprint: mine,
      operations: null,
      taskId: null,
      requestId: null,
      pageSize: 2,
      sortOrder: 'CREATION_DATE_ASC' as const,
    };
    const fetchedAt = new Date('2026-03-29T06:00:00.777Z');

    const pages = await Promise.all(
      [0, 1, 2, 3].map((pageNumber) => repository.openTasks({ ...query, pageNumber }, fetchedAt)),
    );
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1, 0]);
    const listed = pages.flat();
    const myTaskIds = requests.map((request) => request.tasks[0]!.id).sort();
    expect(listed.map((task) => task.id)).toEqual(myTaskIds);
    for (const task of listed) {
      expect(task.fingerprint).toBe(mine);
      expect(task.partitionId).toBe(partition.id);
      expect(task.request.id).toBe(task.requestId);
      // as the rows were before this listing
      expect(task.lastFetchedAt.toISOString()).toBe(createdAt.toISOString());
    }

    const marks = await db.prisma.approvalTask.findMany({
      where: { requestId: { in: [...requests, foreign].map((request) => request.id) } },
    });
    for (const task of marks) {
      const own = task.fingerprint === mine && task.partitionId === partition.id;
      expect(task.lastFetchedAt.toISOString(), `${task.fingerprint} in ${task.partitionId}`).toBe(
        (own ? fetchedAt : createdAt).toISOString(),
      );
    }
    // another partition's request named by id: not listed, not marked
    expect(await repository.openTasks({ ...query, pageNumber: 0, requestId: foreign.id }, fetchedAt)).toEqual(
      [],
    );
    const foreignTask = await db.prisma.approvalTask.findUniqueOrThrow({
      where: { id: foreign.tasks[0]!.id },
    });
    expect(foreignTask.lastFetchedAt.toISOString()).toBe(createdAt.toISOString());
  });
});
