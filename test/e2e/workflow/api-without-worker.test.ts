/**
 * Two API processes without a workflow worker (TSB_WORKFLOW_WORKER=false, workers elsewhere) on one database,
 * each with its own HSM, caches and queue client as two processes have: each runs the approvals it records.
 * Attacked as an outsider would: the same approval raced through both, replayed after it ran, a valid approval
 * aimed at another request's task, signed by a stranger, and sent with a credential that lacks the approver role.
 * Every attempt is refused, runs nothing and queues nothing, and the one approval that counts runs once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../../src/app.js';
import type { SoftHsm } from '../../../src/hsm/soft-hsm.js';
import { buildHsm } from '../../../src/services.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { createApprover, rule, type TestApprover, taskOf } from '../../helpers/approvers.js';
import {
  approvalBody,
  createSkaKey,
  expectTsbError,
  postApproval,
  requestStatus,
  signRequest,
  unb64,
  verifiesWithKey,
} from './fixtures.js';

const P = 'apart';

describe('two APIs without worker on one database', () => {
  let one: TestContext;
  let two: TestContext;
  let secondApp: App | undefined;
  let secondHsm: SoftHsm | undefined;
  const [a, b, stranger] = [createApprover('P-256'), createApprover('Ed25519'), createApprover('P-256')] as [
    TestApprover,
    TestApprover,
    TestApprover,
  ];
  /** evaluate jobs queued by either API (none: each runs what it records) */
  const queued: string[] = [];

  beforeAll(async () => {
    one = await createTestContext({ env: { TSB_APPROVAL_EXECUTION_WAIT_MS: '2000' } });
    secondHsm = buildHsm(one.config, one.prisma, one.masterKey);
    const app = await buildApp({ config: one.config, prisma: one.prisma, hsm: secondHsm, logger: false });
    await app.ready();
    secondApp = app;
    two = {
      ...one,
      app,
      hsm: secondHsm,
      call: async (partition, roles, { method, url, body }) =>
        app.inject({
          method,
          url,
          headers: await one.as(partition, roles),
          ...(body === undefined ? {} : { payload: body as object }),
        }),
    };
    for (const { app: api } of [one, two]) {
      const { queue } = api.workflow;
      const evaluate = queue.evaluate.bind(queue);
      queue.evaluate = (requestId, tag, at) => {
        queued.push(tag);
        return evaluate(requestId, tag, at);
      };
    }
    await one.partition(P);
    // either approver alone meets the rule: each approval goes through the statement that approves and claims
    await createSkaKey(one, P, 'solo', { ruleUse: rule([{ quorum: 1, approvers: [a, b] }]) });
  });
  afterAll(async () => {
    await secondApp?.close();
    await secondHsm?.close();
    await one?.close();
  });

  const useCount = async () => {
    const partition = await one.prisma.partition.findUniqueOrThrow({ where: { name: P } });
    return Number(
      (await one.prisma.key.findFirstOrThrow({ where: { partitionId: partition.id, label: 'solo' } }))
        .useCount,
    );
  };
  it('the same approval raced through both APIs runs once, in one of them; replayed afterwards, it is refused', async () => {
    for (let round = 0; round < 3; round++) {
      const payload = `raced ${round}`;
      const id = await signRequest(one, P, 'solo', payload);
      const body = approvalBody(a, await taskOf(two, P, a, id));
      const used = await useCount();
      const responses = await Promise.all(
        [one, two, one, two, one, two].map((api) => postApproval(api, P, body)),
      );
      const codes = responses.map((response) => response.statusCode).sort();
      expect(codes, responses.map((response) => response.body).join('\n')).toEqual([
        200, 409, 409, 409, 409, 409,
      ]);
      const done = await requestStatus(two, P, id);
      expect(done.status).toBe('EXECUTED');
      expect(await verifiesWithKey(one, P, 'solo', Buffer.from(payload), unb64(String(done.result)))).toBe(
        true,
      );
      expect(await useCount()).toBe(used + 1);
      // replayed through either API once it ran: refused, and the result stays the one signature made
      for (const api of [one, two]) expect((await postApproval(api, P, body)).statusCode).toBe(409);
      expect((await requestStatus(one, P, id)).result).toBe(done.result);
      expect(await useCount()).toBe(used + 1);
    }
    expect(queued).toEqual([]);
  });

  it('an approval aimed at another task, signed by a stranger, or sent without the approver role runs nothing', async () => {
    const [first, second] = [
      await signRequest(one, P, 'solo', 'one'),
      await signRequest(one, P, 'solo', 'two'),
    ];
    const [firstOfA, secondOfA, secondOfB] = [
      await taskOf(one, P, a, first),
      await taskOf(two, P, a, second),
      await taskOf(two, P, b, second),
    ];
    const used = await useCount();
    // the first request's whole approval, aimed at the second request's task
    expectTsbError(await postApproval(two, P, { ...approvalBody(a, firstOfA), id: secondOfA.id }), 400, 403);
    // a's valid approval of the second request, with b's task id
    expectTsbError(await postApproval(one, P, { ...approvalBody(a, secondOfA), id: secondOfB.id }), 403, 413);
    // signed by a stranger, claiming a's key
    expectTsbError(
      await postApproval(two, P, approvalBody(stranger, secondOfA, { approverPublicKey: a.publicKey })),
      400,
      403,
    );
    // a credential without the approver role
    expectTsbError(
      await two.call(P, ['keyOperation'], {
        method: 'POST',
        url: '/v1/approval',
        body: approvalBody(a, secondOfA),
      }),
      403,
      400,
    );
    for (const id of [first, second]) expect((await requestStatus(one, P, id)).status).toBe('PENDING');
    expect(await useCount()).toBe(used);
    expect(queued).toEqual([]);
    // each approval is good for its own request only: that one runs, in the API it was sent to
    expect((await postApproval(two, P, approvalBody(a, firstOfA))).statusCode).toBe(200);
    expect((await requestStatus(one, P, first)).status).toBe('EXECUTED');
    expect((await requestStatus(one, P, second)).status).toBe('PENDING');
    expect(await useCount()).toBe(used + 1);
  });
});
