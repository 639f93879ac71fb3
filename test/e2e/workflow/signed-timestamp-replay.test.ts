/**
 * A signed timestamp lists its approver's tasks without a credential once, and never after a listing with a
 * credential used it: a body captured from any listing is no way in without a credential. A credential
 * authenticates its caller, so listings with one are not refused for a timestamp used before (two tools of one
 * approver, each with its own credential, sign the same whole-second text when they list in the same second).
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import { createApprover, rule } from '../../helpers/approvers.js';
import { createSkaKey, expectTsbError, signRequest, taskFilter, workflowContext } from './fixtures.js';

const A = 'ts-replay-a';
const B = 'ts-replay-b';
const LIST = '/v1/filteredAllApprovalTask';

describe('a signed task-listing timestamp and replays without a credential', () => {
  let ctx: TestContext;
  const alice = createApprover('P-256');

  const withoutCredential = (body: unknown): Promise<LightMyRequestResponse> =>
    ctx.app.inject({
      method: 'POST',
      url: LIST,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  const withCredential = (
    partition: string,
    body: unknown,
    roles: ('approver' | 'keyOperation')[] = ['approver'],
  ) => ctx.call(partition, roles, { method: 'POST', url: LIST, body });
  const taskCount = (response: LightMyRequestResponse): number => {
    expect(response.statusCode, response.body).toBe(200);
    return (response.json().tasks as unknown[]).length;
  };

  beforeAll(async () => {
    ctx = await workflowContext(A);
    await ctx.partition(B);
    for (const partition of [A, B]) {
      await createSkaKey(ctx, partition, 'ska', { ruleUse: rule([{ quorum: 1, approvers: [alice] }]) });
      await signRequest(ctx, partition, 'ska', `pay from ${partition}`);
    }
  });
  afterAll(async () => ctx?.close());

  it('used without a credential, it lists nothing more without one (401 / 404); a credential still lists', async () => {
    const body = taskFilter(alice, new Date());
    expect(taskCount(await withoutCredential(body))).toBe(2);
    expectTsbError(await withoutCredential(body), 401, 404);
    expect(taskCount(await withCredential(A, body))).toBe(1);
  });

  it('used with a credential, it lists nothing without one (401 / 404), in any partition', async () => {
    const body = taskFilter(alice, new Date(Date.now() - 1000));
    expect(taskCount(await withCredential(A, body))).toBe(1);
    expectTsbError(await withoutCredential(body), 401, 404);
  });

  it('with credentials it lists again, for the same credential and for another one (a second tool)', async () => {
    const body = taskFilter(alice, new Date(Date.now() - 2000));
    expect(taskCount(await withCredential(A, body))).toBe(1);
    expect(taskCount(await withCredential(A, body))).toBe(1);
    expect(taskCount(await withCredential(A, body, ['approver', 'keyOperation']))).toBe(1);
    expect(taskCount(await withCredential(B, body))).toBe(1);
    expectTsbError(await withoutCredential(body), 401, 404);
  });

  it('a fresh timestamp lists as before', async () => {
    expect(taskCount(await withCredential(B, taskFilter(alice, new Date(Date.now() - 3000))))).toBe(1);
    expect(taskCount(await withoutCredential(taskFilter(alice, new Date(Date.now() - 4000))))).toBe(2);
  });
});
