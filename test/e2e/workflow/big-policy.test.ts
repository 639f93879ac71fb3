/**
 * A policy with many new approvers is parsed in a worker thread before it is validated (approver-keys-pool.ts),
 * on every way in: key creation, a synchronous policy change and a policy change asked for by SKA request.
 * Before, 1,024 new approvers held the event loop for a third of a second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approverKeyPoolStats, VALUES_PER_TASK } from '../../../src/ska/approver-keys-pool.js';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule, type TestApprover } from '../../helpers/approvers.js';
import {
  asyncRequest,
  createSkaKey,
  expectTsbError,
  P256,
  policyOf,
  SIGN_ONLY,
  workflowContext,
} from './fixtures.js';

const P = 'big-policy';
const CROWD = 96;

const crowd = (): TestApprover[] =>
  Array.from({ length: CROWD }, (_, i) => createApprover(i % 2 === 0 ? 'Ed25519' : 'P-256'));
/** one group of 48 after another, a quorum of 1 in each */
const crowdRule = (approvers: TestApprover[]) =>
  rule([0, 48].map((start) => ({ quorum: 1, approvers: approvers.slice(start, start + 48) })));
const valuesOf = (policyRule: { tokens: { groups: { approvals: { value: string }[] }[] }[] }) =>
  policyRule.tokens.flatMap((token) => token.groups.flatMap((g) => g.approvals.map((a) => a.value)));

describe('a policy of many new approvers', () => {
  let ctx: TestContext;
  const admin = createApprover('P-256');

  beforeAll(async () => {
    ctx = await workflowContext(P);
  });
  afterAll(async () => ctx?.close());

  /** runs `step` and answers how many tasks the approver key pool's workers ran meanwhile */
  async function workerTasksOf(step: () => Promise<void>): Promise<number> {
    const before = approverKeyPoolStats();
    await step();
    const after = approverKeyPoolStats();
    expect(after.inline).toBe(before.inline);
    return after.worker - before.worker;
  }

  it('POST /v1/key parses them in a worker and stores them all', async () => {
    const approvers = crowd();
    let stored: unknown;
    const tasks = await workerTasksOf(async () => {
      stored = (await createSkaKey(ctx, P, 'crowded', { ruleUse: crowdRule(approvers) })).json.policy;
    });
    expect(tasks).toBe(CROWD / VALUES_PER_TASK);
    expect(valuesOf((stored as { ruleUse: never }).ruleUse)).toEqual(approvers.map((a) => a.publicKey));
  });

  it('POST /v1/synchronousModify parses them in a worker and changes the policy', async () => {
    await createSkaKey(ctx, P, 'open', {});
    const approvers = crowd();
    const tasks = await workerTasksOf(async () => {
      const response = await ctx.call(P, ['keyManagement'], {
        method: 'POST',
        url: '/v1/synchronousModify',
        body: {
          modifyRequest: { modifyKeyName: 'open', policy: policyOf({ ruleUse: crowdRule(approvers) }) },
        },
      });
      expect(response.statusCode, response.body).toBe(200);
    });
    expect(tasks).toBe(CROWD / VALUES_PER_TASK);
    const key = await ctx.prisma.key.findFirstOrThrow({ where: { label: 'open' } });
    expect(valuesOf((key.policy as { ruleUse: never }).ruleUse)).toEqual(approvers.map((a) => a.publicKey));
  });

  it('POST /v1/modify parses them in a worker before the request is stored', async () => {
    const one = rule([{ quorum: 1, approvers: [admin] }]);
    await createSkaKey(ctx, P, 'governed', { ruleModify: one });
    const approvers = crowd();
    let id = '';
    const tasks = await workerTasksOf(async () => {
      id = await asyncRequest(
        ctx,
        P,
        '/v1/modify',
        {
          modifyRequest: {
            modifyKeyName: 'governed',
            policy: policyOf({ ruleUse: crowdRule(approvers), ruleModify: one }),
          },
        },
        'modifyKeyRequestId',
        ['keyManagement'],
      );
    });
    expect(tasks).toBe(CROWD / VALUES_PER_TASK);
    const request = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
    const body = request.body as { policy: { ruleUse: never } };
    expect(valuesOf(body.policy.ruleUse)).toEqual(approvers.map((a) => a.publicKey));
  });

  it('a caller without keyManagement, or without credentials, makes the pool parse nothing', async () => {
    await createSkaKey(ctx, P, 'guarded', { ruleModify: rule([{ quorum: 1, approvers: [admin] }]) });
    const approvers = crowd();
    const policy = policyOf({ ruleUse: crowdRule(approvers) });
    const tasks = await workerTasksOf(async () => {
      const asOperator = await ctx.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/modify',
        body: { modifyRequest: { modifyKeyName: 'guarded', policy } },
      });
      expectTsbError(asOperator, 403, 400);
      const anonymous = await ctx.app.inject({
        method: 'POST',
        url: '/v1/key',
        payload: { label: 'anonymous', algorithm: 'EC', curveOid: P256, attributes: SIGN_ONLY, policy },
      });
      expect(anonymous.statusCode, anonymous.body).toBe(401);
    });
    expect(tasks).toBe(0);
  });

  it('a policy change for a key the caller cannot unlock makes the pool parse nothing', async () => {
    await createSkaKey(ctx, P, 'locked', {}, { password: 'correct horse' });
    const before = await ctx.prisma.key.findFirstOrThrow({ where: { label: 'locked' } });
    const approvers = crowd();
    const policy = policyOf({ ruleUse: crowdRule(approvers) });
    const modify = (modifyRequest: Record<string, unknown>) =>
      ctx.call(P, ['keyManagement'], {
        method: 'POST',
        url: '/v1/synchronousModify',
        body: { modifyRequest: { ...modifyRequest, policy } },
      });
    const tasks = await workerTasksOf(async () => {
      expectTsbError(await modify({ modifyKeyName: 'locked', keyPassword: 'wrong horse' }), 403, 620);
      expectTsbError(await modify({ modifyKeyName: 'locked' }), 403, 620);
      expectTsbError(await modify({ modifyKeyName: 'nobody' }), 404, 650);
    });
    expect(tasks).toBe(0);
    const after = await ctx.prisma.key.findFirstOrThrow({ where: { label: 'locked' } });
    expect(after.policy).toEqual(before.policy);
    expect(after.version).toBe(before.version);
  });
});
