/**
 * A partition has at most TSB_MAX_OPEN_REQUESTS open (PENDING or APPROVED) requests. Without a limit, a
 * keyOperation caller with any SKA key stored requests as fast as the rate limit let it (1,000 a second by
 * default), each with its payload (up to 64 KiB), a task per approver and an expiry timer in the Redis every
 * tenant shares, none ever ending before its timeout: the database and Redis filled for every tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule } from '../../helpers/approvers.js';
import { b64, createSkaKey, expectTsbError, workflowContext } from './fixtures.js';

const P = 'open-limit';
const MAX = 5;

describe('open requests per partition', () => {
  let ctx: TestContext;
  const approver = createApprover('P-256');

  beforeAll(async () => {
    ctx = await workflowContext(P, { env: { TSB_MAX_OPEN_REQUESTS: String(MAX) } });
    await ctx.partition('other');
    const gated = { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) };
    await createSkaKey(ctx, P, 'gated', gated);
    await createSkaKey(ctx, 'other', 'gated', gated);
    // a policy whose rule needs no approval: its requests run at once and never stay open
    await createSkaKey(ctx, P, 'free', { ruleBlock: gated.ruleUse });
  });
  afterAll(async () => ctx?.close());

  const sign = (keyName: string, partition = P) =>
    ctx.call(partition, ['keyOperation'], {
      method: 'POST',
      url: '/v1/sign',
      body: {
        signRequest: { payload: b64('pay'), signKeyName: keyName, signatureAlgorithm: 'SHA256_WITH_ECDSA' },
      },
    });
  const stored = () => ctx.prisma.skaRequest.count({ where: { partition: { name: P } } });

  it('refuses one more with 429 / 900 and stores nothing; another partition is not counted', async () => {
    const ids: string[] = [];
    for (let i = 0; i < MAX; i++) {
      const response = await sign('gated');
      expect(response.statusCode, response.body).toBe(201);
      ids.push(response.json().signRequestId);
    }
    const refused = await sign('gated');
    expectTsbError(refused, 429, 900);
    expect(refused.json().message).toContain('TSB_MAX_OPEN_REQUESTS');
    expect(await stored()).toBe(MAX);
    expect((await sign('gated', 'other')).statusCode).toBe(201);
    // a request that needs no approval ends at once, so it is still taken
    expect((await sign('free')).statusCode).toBe(201);

    // one ended (cancelled here) makes room for one more
    const cancelled = await ctx.call(P, ['keyOperation'], { method: 'DELETE', url: `/v1/request/${ids[0]}` });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect((await sign('gated')).statusCode).toBe(201);
    expectTsbError(await sign('gated'), 429, 900);
  });
});
