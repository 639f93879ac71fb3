import { afterAll, describe, expect, it } from 'vitest';
import {
  approvalBody,
  createSkaKey,
  expectTsbError,
  keyAttributes,
  postApproval,
  requestStatus,
  signRequest,
} from '../../e2e/workflow/fixtures.js';
import { createTestContext, type TestContext, type TestContextOptions } from '../../helpers/app.js';
import {
  approve,
  createApprover,
  reject,
  rule,
  type TestApprover,
  taskOf,
  waitForStatus,
} from '../../helpers/approvers.js';
import { ManualClock } from '../../helpers/clock.js';

/**
 * `SkaRequest.evaluatedAt` is neither written nor read by this release (prisma/schema.prisma: `@ignore`); the
 * release after drops the column. A request's paths run here against a database without it (creation, task
 * listing, approval and rejection through the sweep and through an API with its worker, execution, expiry,
 * cancelling, removal, the request listing, the re-arm, and the refusal of a replayed, a lower-role and a repeated
 * approval): if a statement still named the column, or Prisma still selected it, PostgreSQL would refuse it.
 */
describe('the workflow without SkaRequest.evaluatedAt', () => {
  const contexts: TestContext[] = [];
  const approver: TestApprover = createApprover('Ed25519');
  const partition = 'no-evaluated-at';

  /** A context whose database has lost the column, with a key whose use one approval allows. */
  async function contextWithoutColumn(options: TestContextOptions): Promise<TestContext> {
    const ctx = await createTestContext(options);
    contexts.push(ctx);
    await ctx.partition(partition);
    await createSkaKey(ctx, partition, 'governed', {
      ruleUse: rule([{ quorum: 1, approvers: [approver] }], { timeout: 600 }),
    });
    await ctx.prisma.$executeRawUnsafe('ALTER TABLE "SkaRequest" DROP COLUMN "evaluatedAt"');
    return ctx;
  }
  afterAll(async () => {
    for (const ctx of contexts) await ctx.close();
  });

  const call = (ctx: TestContext, method: 'POST' | 'DELETE', url: string, body?: unknown) =>
    ctx.call(partition, ['keyOperation'], { method, url, body });
  const newRequest = (ctx: TestContext) => signRequest(ctx, partition, 'governed', 'no evaluatedAt');
  const viewOf = (ctx: TestContext, id: string) => requestStatus(ctx, partition, id);
  const statusOf = async (ctx: TestContext, id: string) => (await viewOf(ctx, id)).status;

  it('creates, lists, decides, sweeps, runs, expires, cancels and re-arms requests (no worker)', async () => {
    const clock = new ManualClock();
    const ctx = await contextWithoutColumn({ clock });
    const { engine } = ctx.app.workflow;
    const [approved, rejected, cancelled, forgotten] = [
      await newRequest(ctx),
      await newRequest(ctx),
      await newRequest(ctx),
      await newRequest(ctx),
    ];
    expect(await engine.rearm()).toBe(4);

    const now = clock.now();
    const approval = await approve(
      ctx,
      partition,
      approver,
      await taskOf(ctx, partition, approver, approved, { now }),
    );
    expect(approval.statusCode, approval.body).toBe(200);
    const rejection = await reject(
      ctx,
      partition,
      approver,
      await taskOf(ctx, partition, approver, rejected, { now }),
      'not today',
    );
    expect(rejection.statusCode, rejection.body).toBe(200);
    expect((await call(ctx, 'DELETE', `/v1/request/${cancelled}`)).statusCode).toBe(200);

    // no worker here: the sweep looks at both decisions
    expect(await engine.sweep()).toBe(2);
    expect(await statusOf(ctx, approved)).toBe('EXECUTED');
    expect(await statusOf(ctx, rejected)).toBe('REJECTED');
    expect(await statusOf(ctx, cancelled)).toBe('CANCELLED');

    clock.advance(601);
    expect(await engine.sweep()).toBe(1);
    expect(await statusOf(ctx, forgotten)).toBe('EXPIRED');

    const listed = await call(ctx, 'POST', '/v1/filteredRequests', { status: ['EXECUTED', 'EXPIRED'] });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(
      listed
        .json()
        .requests.map((request: { id: string }) => request.id)
        .sort(),
    ).toEqual([approved, forgotten].sort());
    // an ended request is removed by dropping its result
    expect((await viewOf(ctx, approved)).result).toEqual(expect.any(String));
    expect((await call(ctx, 'DELETE', `/v1/request/${approved}`)).statusCode).toBe(200);
    expect(await viewOf(ctx, approved)).toMatchObject({ status: 'EXECUTED', result: null });
    expect(await engine.rearm()).toBe(0);
  });

  it('runs an approval in the request that records it, and a rejection, with the worker in the process', async () => {
    const ctx = await contextWithoutColumn({ worker: true });
    const [approved, rejected] = [await newRequest(ctx), await newRequest(ctx)];
    const approval = await approve(
      ctx,
      partition,
      approver,
      await taskOf(ctx, partition, approver, approved),
    );
    expect(approval.statusCode, approval.body).toBe(200);
    // the API waits for the execution it starts before it answers
    expect(await viewOf(ctx, approved)).toMatchObject({ status: 'EXECUTED', result: expect.any(String) });
    const rejection = await reject(
      ctx,
      partition,
      approver,
      await taskOf(ctx, partition, approver, rejected),
      'not today',
    );
    expect(rejection.statusCode, rejection.body).toBe(200);
    expect((await waitForStatus(ctx, partition, rejected, ['REJECTED']))['status']).toBe('REJECTED');
  });

  it('refuses a replayed, a lower-role and a repeated approval, and runs the request once', async () => {
    const ctx = await contextWithoutColumn({ worker: true });
    const [target, other] = [await newRequest(ctx), await newRequest(ctx)];
    const targetApproval = approvalBody(approver, await taskOf(ctx, partition, approver, target));
    const otherTask = await taskOf(ctx, partition, approver, other);
    // the target's approval aimed at the other request's task
    expectTsbError(await postApproval(ctx, partition, { ...targetApproval, id: otherTask.id }), 400, 403);
    // a credential without the approver role
    expectTsbError(await call(ctx, 'POST', '/v1/approval', targetApproval), 403, 400);
    expect(await statusOf(ctx, other)).toBe('PENDING');
    expect(await statusOf(ctx, target)).toBe('PENDING');

    expect((await postApproval(ctx, partition, targetApproval)).statusCode).toBe(200);
    expect(await statusOf(ctx, target)).toBe('EXECUTED');
    // the same approval again
    expectTsbError(await postApproval(ctx, partition, targetApproval), 409, 500);
    const attributes = await keyAttributes(ctx, partition, 'governed');
    expect(attributes.json().json.keyUsageCount).toBe(1);
    expect(await statusOf(ctx, other)).toBe('PENDING');
  });
});
