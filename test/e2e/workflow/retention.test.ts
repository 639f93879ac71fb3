/**
 * What ages out (src/features/approvals/retention.ts): ended SKA requests TSB_REQUEST_RETENTION_DAYS after their
 * last change, with their tasks, and the records of spent pre-signed approvals once no approval window reaches them.
 * Open requests stay however old; a spent approval stays refused after its record has gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_STATUSES } from '../../../src/features/approvals/request-status.js';
import { RequestsRepository } from '../../../src/features/approvals/requests.repository.js';
import { RETENTION_BATCH, Retention } from '../../../src/features/approvals/retention.js';
import { SPENT_APPROVAL_RETENTION_SECONDS } from '../../../src/hsm/approval-ledger.js';
import { parametersDigest } from '../../../src/ska/operation-parameters.js';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, presignedApproval, rule, taskOf } from '../../helpers/approvers.js';
import {
  approvalBody,
  b64,
  createSkaKey,
  expectTsbError,
  keyAttributes,
  postApproval,
  sha256,
  signRequest,
  wholeSecondClock,
  workflowContext,
} from './fixtures.js';

const P = 'retention';
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const approver = createApprover('P-256');

describe('ended requests and spent approvals age out', () => {
  let ctx: TestContext;
  let repository: RequestsRepository;

  beforeAll(async () => {
    // no worker until the last test, which starts it with a sweep every 100 ms
    ctx = await workflowContext(P, { worker: false, env: { TSB_WORKFLOW_SWEEP_MS: '100' } });
    repository = new RequestsRepository(ctx.prisma);
    await createSkaKey(ctx, P, 'guarded', { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });
  });
  afterAll(async () => ctx?.close());

  const retention = (days: number) => new Retention(repository, ctx.hsm, days, silent);
  /** Puts the request in `status`, last changed `days` days ago by the database's clock. */
  const age = (id: string, status: string, days: number) =>
    ctx.prisma.$executeRaw`
      UPDATE "SkaRequest" SET "status" = ${status}, "updatedAt" = now() - make_interval(days => ${days})
      WHERE "id" = ${id}::uuid`;
  const statusOf = (id: string) => ctx.call(P, ['keyOperation'], { method: 'GET', url: `/v1/request/${id}` });
  const tasksOf = (requestId: string) => ctx.prisma.approvalTask.count({ where: { requestId } });

  it('deletes the ended requests and their tasks last changed before the retention, and no open one', async () => {
    const old = new Map<string, string>();
    for (const status of REQUEST_STATUSES) {
      const id = await signRequest(ctx, P, 'guarded', `aged ${status}`);
      await age(id, status, 91);
      old.set(status, id);
    }
    const recent = await signRequest(ctx, P, 'guarded', 'recently cancelled');
    await age(recent, 'CANCELLED', 89);
    expect(await tasksOf(old.get('EXECUTED')!)).toBe(1);

    expect(await retention(0).run()).toMatchObject({ requests: 0, approvals: 0 });
    const pass = retention(90);
    expect(await pass.run()).toMatchObject({ requests: 5, approvals: 0 });
    expect(await pass.run(), 'a second pass within a minute').toBeNull();

    for (const [status, id] of old) {
      const response = await statusOf(id);
      if (status === 'PENDING' || status === 'APPROVED') {
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json().status).toBe(status);
        expect(await tasksOf(id)).toBe(1);
      } else {
        expectTsbError(response, 404, 651);
        expect(await tasksOf(id)).toBe(0);
      }
    }
    expect((await statusOf(recent)).json().status).toBe('CANCELLED');
  });

  it('reads the ended requests from their partial index', async () => {
    const plan = await ctx.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
      return tx.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN SELECT "id" FROM "SkaRequest" WHERE "status" IN ('EXECUTED', 'FAILED', 'EXPIRED', 'REJECTED', 'CANCELLED')
         AND "updatedAt" < now() - make_interval(days => 90) ORDER BY "updatedAt" LIMIT 1000`,
      );
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('SkaRequest_ended_updatedAt_idx');
  });

  it('forgets spent approvals once no approval window reaches them, a batch at a time', async () => {
    const { json } = (await keyAttributes(ctx, P, 'guarded')).json();
    const spent = (daysAgo: number, count: number) =>
      ctx.prisma.$executeRaw`
        INSERT INTO "ConsumedApproval" ("keyId", "challengeDigest", "consumedAt")
        SELECT ${json.uuid}::uuid, sha256(convert_to(${`${daysAgo}/`} || n::text, 'UTF8')),
          now() - make_interval(days => ${daysAgo})
        FROM generate_series(1, ${count}) AS n`;
    await spent(3, 2 * RETENTION_BATCH + 5);
    await spent(1, 7);
    expect(await retention(90).run()).toMatchObject({ requests: 0, approvals: 2 * RETENTION_BATCH + 5 });
    expect(await ctx.prisma.consumedApproval.count()).toBe(7);
  });

  it('two workers deleting at once delete each request once, and nothing else', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const id = await signRequest(ctx, P, 'guarded', `raced ${i}`);
      await age(id, i % 2 === 0 ? 'EXECUTED' : 'REJECTED', 91);
      ids.push(id);
    }
    const kept = await signRequest(ctx, P, 'guarded', 'open, however old');
    await age(kept, 'PENDING', 400);
    const passes = await Promise.all([retention(90).run(), retention(90).run(), retention(90).run()]);
    expect(passes.reduce((sum, pass) => sum + pass!.requests, 0)).toBe(ids.length);
    expect(await ctx.prisma.skaRequest.count({ where: { id: { in: ids } } })).toBe(0);
    expect(await ctx.prisma.approvalTask.count({ where: { requestId: { in: ids } } })).toBe(0);
    expect((await statusOf(kept)).json().status).toBe('PENDING');
  });

  it('an approval of a request that aged out is refused and brings nothing back', async () => {
    const id = await signRequest(ctx, P, 'guarded', 'approved too late');
    const task = await taskOf(ctx, P, approver, id);
    const cancelled = await ctx.call(P, ['keyOperation'], { method: 'DELETE', url: `/v1/request/${id}` });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    await age(id, 'CANCELLED', 91);
    expect((await retention(90).run())!.requests).toBe(1);

    expectTsbError(await postApproval(ctx, P, approvalBody(approver, task)), 404, 652);
    expectTsbError(await statusOf(id), 404, 651);
    expect(await tasksOf(id)).toBe(0);
  });

  it('the worker deletes them after its sweep', async () => {
    const id = await signRequest(ctx, P, 'guarded', 'aged, for the worker');
    await age(id, 'EXPIRED', 91);
    await ctx.app.workflow.startWorker();
    const deadline = Date.now() + 10_000;
    while ((await statusOf(id)).statusCode !== 404 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expectTsbError(await statusOf(id), 404, 651);
  });
});

describe('a spent pre-signed approval whose record has gone', () => {
  let ctx: TestContext;
  const clock = wholeSecondClock();
  const SIGN_REQUEST = { payload: b64('pay once'), signatureAlgorithm: 'SHA256_WITH_ECDSA' };

  beforeAll(async () => {
    ctx = await workflowContext(P, { clock, worker: false });
    await createSkaKey(ctx, P, 'presigned', { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });
  });
  afterAll(async () => ctx?.close());

  it('is refused as too old: no freshness window outlives the record', async () => {
    const { json } = (await keyAttributes(ctx, P, 'presigned')).json();
    const approval = presignedApproval(approver, {
      operation: 'SIGN',
      key: { label: 'presigned', id: json.uuid, version: json.version },
      payloadDigest: sha256('pay once'),
      parametersDigest: parametersDigest('SIGN', SIGN_REQUEST),
      createdAt: clock.now(),
    });
    const sign = () =>
      ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/synchronousSign',
        body: { signRequest: { ...SIGN_REQUEST, signKeyName: 'presigned' }, signedApprovals: [approval] },
      });
    expect((await sign()).statusCode).toBe(200);
    expectTsbError(await sign(), 403, 401);

    // the record's retention and a second on, for the service and for the record
    const later = SPENT_APPROVAL_RETENTION_SECONDS + 1;
    clock.advance(later);
    await ctx.prisma
      .$executeRaw`UPDATE "ConsumedApproval" SET "consumedAt" = "consumedAt" - make_interval(secs => ${later})`;
    const repository = new RequestsRepository(ctx.prisma);
    expect(await new Retention(repository, ctx.hsm, 90, silent).run()).toMatchObject({
      requests: 0,
      approvals: 1,
    });
    expectTsbError(await sign(), 401, 404);
  });
});
