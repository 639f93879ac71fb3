import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { createApprover, reject, rule, type TestApprover, taskOf } from '../../helpers/approvers.js';
import {
  createSkaKey,
  evaluated,
  expectTsbError,
  type RequestView,
  signRequest,
  wholeSecondClock,
} from './fixtures.js';

const P = 'listed';
const OTHER = 'listed-elsewhere';

describe('POST /v1/filteredRequests', () => {
  let ctx: TestContext;
  const clock = wholeSecondClock();
  const approver: TestApprover = createApprover('Ed25519');
  /** request ids in creation order, with the status each ends in */
  const created: { id: string; status: string }[] = [];
  let elsewhere: string;

  beforeAll(async () => {
    // no worker: the test moves requests on itself
    ctx = await createTestContext({ clock });
    await ctx.partition(P);
    await ctx.partition(OTHER);
    await createSkaKey(ctx, P, 'gated', { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });
    await createSkaKey(ctx, P, 'free', {});
    await createSkaKey(ctx, OTHER, 'gated', { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });

    const add = async (keyName: string, status: string) => {
      const id = await signRequest(ctx, P, keyName, `request ${created.length}`);
      created.push({ id, status });
      clock.advance(1);
      return id;
    };
    await add('gated', 'PENDING');
    await add('free', 'EXECUTED');
    const cancelled = await add('gated', 'CANCELLED');
    const rejected = await add('gated', 'REJECTED');
    await add('gated', 'PENDING');
    await add('free', 'EXECUTED');

    const cancel = await ctx.call(P, ['keyOperation'], { method: 'DELETE', url: `/v1/request/${cancelled}` });
    expect(cancel.statusCode, cancel.body).toBe(200);
    const task = await taskOf(ctx, P, approver, rejected, { now: clock.now() });
    expect((await reject(ctx, P, approver, task, 'no')).statusCode).toBe(200);
    expect((await evaluated(ctx, P, rejected)).status).toBe('REJECTED');
    elsewhere = await signRequest(ctx, OTHER, 'gated', 'elsewhere');
  });
  afterAll(async () => ctx?.close());

  const filtered = async (body: unknown) => {
    const response = await ctx.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/filteredRequests',
      body,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { requests: RequestView[]; totalCount: number };
  };
  const idsWith = (...statuses: string[]) =>
    created.filter((request) => statuses.includes(request.status)).map((request) => request.id);

  it('without a filter lists all of the partition’s requests, oldest first, with their status views', async () => {
    const all = await filtered({});
    expect(all.totalCount).toBe(created.length);
    expect(all.requests.map((request) => request.id)).toEqual(created.map((request) => request.id));
    expect(all.requests.map((request) => request.status)).toEqual(created.map((request) => request.status));
    expect(all.requests.map((request) => request.id)).not.toContain(elsewhere);
    const rejected = all.requests.find((request) => request.status === 'REJECTED')!;
    expect(rejected.rejections).toEqual([{ approverPublicKey: approver.publicKey, reason: 'no' }]);
    const executed = all.requests.find((request) => request.status === 'EXECUTED')!;
    expect(executed.result).toEqual(expect.any(String));
  });

  it('filters by one status (a string) or several (an array)', async () => {
    const pending = await filtered({ status: 'PENDING' });
    expect(pending.totalCount).toBe(2);
    expect(pending.requests.map((request) => request.id)).toEqual(idsWith('PENDING'));
    const ended = await filtered({ status: ['CANCELLED', 'REJECTED'] });
    expect(ended.totalCount).toBe(2);
    expect(ended.requests.map((request) => request.id)).toEqual(idsWith('CANCELLED', 'REJECTED'));
    const none = await filtered({ status: ['EXPIRED'] });
    expect(none).toEqual({ requests: [], totalCount: 0 });
    const everything = await filtered({ status: [] });
    expect(everything.totalCount).toBe(created.length);
  });

  it('pages, with totalCount counting every match, ascending or descending', async () => {
    const pages = [];
    for (const pageNumber of [0, 1, 2, 3]) {
      pages.push(await filtered({ paging: { pageNumber, pageSize: 2 } }));
    }
    expect(pages.map((page) => page.totalCount)).toEqual([6, 6, 6, 6]);
    expect(pages.map((page) => page.requests.map((request) => request.id))).toEqual([
      created.slice(0, 2).map((request) => request.id),
      created.slice(2, 4).map((request) => request.id),
      created.slice(4, 6).map((request) => request.id),
      [],
    ]);
    const newest = await filtered({
      status: ['PENDING', 'EXECUTED'],
      paging: { pageSize: 3, sortOrder: 'CREATION_DATE_DESC' },
    });
    expect(newest.totalCount).toBe(4);
    expect(newest.requests.map((request) => request.id)).toEqual(
      idsWith('PENDING', 'EXECUTED').reverse().slice(0, 3),
    );
  });

  it('shows only the caller’s partition', async () => {
    const response = await ctx.call(OTHER, ['keyOperation'], {
      method: 'POST',
      url: '/v1/filteredRequests',
      body: {},
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      totalCount: 1,
      requests: [{ id: elsewhere, status: 'PENDING' }],
    });
  });

  it('a page of more than 100 requests is 400 / 600 (each request carries its approvers)', async () => {
    const response = await ctx.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/filteredRequests',
      body: { paging: { pageSize: 101 } },
    });
    expectTsbError(response, 400, 600);
  });

  it('an unknown status is 400 / 501', async () => {
    const response = await ctx.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/filteredRequests',
      body: { status: ['PENDING', 'DONE'] },
    });
    expectTsbError(response, 400, 501);
  });
});
