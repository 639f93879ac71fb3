/**
 * A workflow request's challenge binds its operation parameters (docs/approval-challenge.md): the approval
 * gate recomputes them from the stored request as it runs, so a request altered in the database after its
 * approvals fails instead of running under approvals made for another. Timelocked requests wait APPROVED,
 * which leaves the time to alter them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import { approve, createApprover, rule, taskOf } from '../../helpers/approvers.js';
import {
  createSkaKey,
  evaluated,
  requestStatus,
  signRequest,
  unb64,
  verifiesWithKey,
  wholeSecondClock,
  workflowContext,
} from './fixtures.js';

const P = 'binding';

describe('a workflow request runs only with the parameters its approvers approved', () => {
  let ctx: TestContext;
  const clock = wholeSecondClock();
  const approver = createApprover('P-256');

  beforeAll(async () => {
    ctx = await workflowContext(P, { clock, worker: false });
    await createSkaKey(ctx, P, 'wf-sign', {
      ruleUse: rule([{ quorum: 1, approvers: [approver] }], { timelock: 60, timeout: 600 }),
    });
  });
  afterAll(async () => ctx?.close());

  const useCount = async () => {
    await ctx.hsm.useCounter.flush();
    return (await ctx.prisma.key.findFirstOrThrow({ where: { label: 'wf-sign', partition: { name: P } } }))
      .useCount;
  };

  /** A sign request approved by its one approver, waiting out its timelock. */
  const approvedRequest = async (message: string) => {
    const id = await signRequest(ctx, P, 'wf-sign', message);
    const answer = await approve(ctx, P, approver, await taskOf(ctx, P, approver, id, { now: clock.now() }));
    expect(answer.statusCode, answer.body).toBe(200);
    expect((await evaluated(ctx, P, id)).status).toBe('APPROVED');
    return id;
  };

  it('a stored request whose signature algorithm was changed after approval fails with 401 and signs nothing', async () => {
    const id = await approvedRequest('pay 10 CHF');
    const stored = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
    await ctx.prisma.skaRequest.update({
      where: { id },
      data: { body: { ...(stored.body as object), signatureAlgorithm: 'SHA384_WITH_ECDSA' } },
    });
    const before = await useCount();
    clock.advance(61);
    await ctx.app.workflow.engine.execute(id);
    const done = await requestStatus(ctx, P, id);
    expect(done.status).toBe('FAILED');
    expect(done.errorCode).toBe(401);
    expect(done.errorMessage).toMatch(/other operation parameters \(signatureAlgorithm/);
    expect(done.result).toBeNull();
    expect(await useCount()).toBe(before);
  });

  it('the untouched request runs, once', async () => {
    const id = await approvedRequest('pay 20 CHF');
    const before = await useCount();
    clock.advance(61);
    await ctx.app.workflow.engine.execute(id);
    const done = await requestStatus(ctx, P, id);
    expect(done.status, JSON.stringify(done)).toBe('EXECUTED');
    expect(await verifiesWithKey(ctx, P, 'wf-sign', Buffer.from('pay 20 CHF'), unb64(done.result!))).toBe(
      true,
    );
    // executing it again (a repeated job, the sweep) changes nothing: the claim is a compare-and-set on APPROVED
    await ctx.app.workflow.engine.execute(id);
    await ctx.app.workflow.engine.evaluate(id);
    expect((await requestStatus(ctx, P, id)).result).toBe(done.result);
    expect(await useCount()).toBe(before + 1n);
  });
});
