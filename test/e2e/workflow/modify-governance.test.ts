/**
 * Issue 12 finding 2: a key's approval rules cannot be stripped by one caller. Policy changes need
 * keyManagement; under an empty ruleModify, a change of a rule that has approvers needs that rule's
 * approvals (docs/policy-semantics.md, "Who may change a policy").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule, type TestApprover, waitForStatus } from '../../helpers/approvers.js';
import {
  approveTask,
  asyncRequest,
  createSkaKey,
  evaluated,
  expectTsbError,
  openTasks,
  synchronousSign,
  workflowContext,
} from './fixtures.js';

const P = 'governance';

describe('who may change a key policy', () => {
  let ctx: TestContext;
  const [cfo, treasurer, guard] = [
    createApprover('P-256'),
    createApprover('Ed25519'),
    createApprover('P-256'),
  ] as [TestApprover, TestApprover, TestApprover];
  const one = (approver: TestApprover) => rule([{ quorum: 1, approvers: [approver] }]);

  beforeAll(async () => {
    ctx = await workflowContext(P);
  });
  afterAll(async () => ctx?.close());

  const syncSign = (keyName: string) => synchronousSign(ctx, P, keyName);
  const syncModify = (keyName: string, policy: unknown, roles: ('keyManagement' | 'keyOperation')[]) =>
    ctx.call(P, roles, {
      method: 'POST',
      url: '/v1/synchronousModify',
      body: { modifyRequest: { modifyKeyName: keyName, policy } },
    });
  const asyncModify = (keyName: string, policy: unknown) =>
    asyncRequest(
      ctx,
      P,
      '/v1/modify',
      { modifyRequest: { modifyKeyName: keyName, policy } },
      'modifyKeyRequestId',
      ['keyManagement'],
    );
  const storedPolicy = async (label: string) =>
    (await ctx.prisma.key.findFirstOrThrow({ where: { label } })).policy;

  it('keyOperation alone cannot change a policy, synchronously or not (403)', async () => {
    await createSkaKey(ctx, P, 'payments', { ruleUse: one(cfo) });
    const before = await ctx.keySnapshot();
    expect((await syncModify('payments', { ruleUse: null }, ['keyOperation'])).statusCode).toBe(403);
    const asyncByOperator = await ctx.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/modify',
      body: { modifyRequest: { modifyKeyName: 'payments', policy: { ruleUse: null } } },
    });
    expect(asyncByOperator.statusCode).toBe(403);
    expect(await ctx.keySnapshot()).toBe(before);
  });

  it('under an empty ruleModify, keyManagement cannot strip ruleUse without its approvers (403 / 401)', async () => {
    const before = await ctx.keySnapshot();
    expectTsbError(await syncModify('payments', { ruleUse: null }, ['keyManagement']), 403, 401);
    // nor weaken it to a rule of the caller's own approver, nor hand the rules to a new ruleModify
    expectTsbError(await syncModify('payments', { ruleUse: one(guard) }, ['keyManagement']), 403, 401);
    expectTsbError(
      await syncModify('payments', { ruleUse: one(cfo), ruleModify: one(guard) }, ['keyManagement']),
      403,
      401,
    );
    expect(await ctx.keySnapshot()).toBe(before);
    expectTsbError(await syncSign('payments'), 403, 401);
  });

  it('a change that leaves every approved rule as it is needs no approval', async () => {
    const response = await syncModify('payments', { ruleUse: one(cfo), ruleBlock: one(guard) }, [
      'keyManagement',
    ]);
    expect(response.statusCode, response.body).toBe(200);
    expect((await storedPolicy('payments')) as Record<string, unknown>).toMatchObject({
      ruleBlock: { tokens: [{ groups: [{ quorum: 1 }] }] },
    });
  });

  it('the asynchronous change of ruleUse goes to ruleUse’s approvers and runs after their approval', async () => {
    const id = await asyncModify('payments', { ruleUse: one(treasurer), ruleBlock: one(guard) });
    expect(await openTasks(ctx, P, guard, new Date(), { requestId: id })).toEqual([]);
    await approveTask(ctx, P, cfo, id);
    const done = await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    const policy = (await storedPolicy('payments')) as { ruleUse: { tokens: { groups: unknown[] }[] } };
    expect(JSON.stringify(policy.ruleUse)).toContain(treasurer.publicKey);
    expect(JSON.stringify(policy.ruleUse)).not.toContain(cfo.publicKey);
  });

  it('changing two guarded rules at once needs the approvals of both', async () => {
    // payments now: ruleUse treasurer, ruleBlock guard, no ruleModify
    const id = await asyncModify('payments', { ruleUse: null, ruleBlock: null });
    await approveTask(ctx, P, treasurer, id);
    expect((await evaluated(ctx, P, id)).status).toBe('PENDING');
    expect(JSON.stringify(await storedPolicy('payments'))).toContain(treasurer.publicKey);
    await approveTask(ctx, P, guard, id);
    const done = await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    expect(await storedPolicy('payments')).toMatchObject({ ruleUse: null, ruleBlock: null });
  });

  it('a non-empty ruleModify governs every change, as in the TSB', async () => {
    await createSkaKey(ctx, P, 'governed', { ruleUse: one(cfo), ruleModify: one(guard) });
    expectTsbError(
      await syncModify('governed', { ruleUse: null, ruleModify: one(guard) }, ['keyManagement']),
      403,
      401,
    );
    const id = await asyncModify('governed', { ruleUse: null, ruleModify: one(guard) });
    expect(await openTasks(ctx, P, cfo, new Date(), { requestId: id })).toEqual([]);
    await approveTask(ctx, P, guard, id);
    const done = await waitForStatus(ctx, P, id, ['EXECUTED', 'FAILED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    expect(await storedPolicy('governed')).toMatchObject({ ruleUse: null });
  });
});
