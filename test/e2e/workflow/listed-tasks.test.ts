import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RequestsRepository } from '../../../src/features/approvals/requests.repository.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { createApprover, type ListedTask, rule, type TestApprover, taskOf } from '../../helpers/approvers.js';
import {
  approvalBody,
  b64,
  createSkaKey,
  expectTsbError,
  postApproval,
  requestStatus,
  signRequest,
  unb64,
} from './fixtures.js';

const P = 'listed';
const OTHER = 'listed-other';

/**
 * A decision on a task this process listed is checked against the listing's copy of the task's fixed parts
 * (task-snapshots.ts) instead of a fresh read; what may have changed since (the task decided, the request
 * ended) is the condition of the statement that records the decision, and a refusal is explained by a fresh
 * read. Nothing a fresh read would refuse is recorded, and the answers are a fresh read's.
 */
describe('decisions on listed tasks', () => {
  let ctx: TestContext;
  const [a, b] = [createApprover('P-256'), createApprover('Ed25519')] as [TestApprover, TestApprover];

  beforeAll(async () => {
    ctx = await createTestContext({ worker: true });
    await ctx.partition(P);
    await ctx.partition(OTHER);
    await createSkaKey(ctx, P, 'one', { ruleUse: rule([{ quorum: 1, approvers: [a] }]) });
    await createSkaKey(ctx, P, 'two', { ruleUse: rule([{ quorum: 2, approvers: [a, b] }]) });
  });
  afterAll(async () => ctx?.close());

  const decisionOf = async (taskId: string) =>
    (await ctx.prisma.approvalTask.findUniqueOrThrow({ where: { id: taskId } })).decision;
  const findTask = () => vi.spyOn(RequestsRepository.prototype, 'findTask');

  /** The only task of a request as the database holds it, with no listing in this process. */
  const unlistedTask = async (requestId: string): Promise<ListedTask> => {
    const request = await ctx.prisma.skaRequest.findUniqueOrThrow({
      where: { id: requestId },
      include: { tasks: true },
    });
    const [task] = request.tasks;
    if (!task || request.tasks.length !== 1) throw new Error('not a request with one task');
    return { id: task.id, approvalToBeSigned: b64(request.challenge) } as ListedTask;
  };

  it('reads a listed task no more before recording the decision, and reads one it did not list', async () => {
    const listedId = await signRequest(ctx, P, 'one', 'listed first');
    const listed = await taskOf(ctx, P, a, listedId);
    const reads = findTask();
    try {
      const response = await postApproval(ctx, P, approvalBody(a, listed));
      expect(response.statusCode, response.body).toBe(200);
      expect(reads).not.toHaveBeenCalled();
      expect((await requestStatus(ctx, P, listedId)).status).toBe('EXECUTED');

      const unlistedId = await signRequest(ctx, P, 'one', 'never listed');
      const response2 = await postApproval(ctx, P, approvalBody(a, await unlistedTask(unlistedId)));
      expect(response2.statusCode, response2.body).toBe(200);
      expect(reads).toHaveBeenCalledTimes(1);
      expect((await requestStatus(ctx, P, unlistedId)).status).toBe('EXECUTED');
    } finally {
      reads.mockRestore();
    }
  });

  it('records no decision on a listed task whose request was cancelled since, and answers as a fresh read does', async () => {
    const id = await signRequest(ctx, P, 'two', 'cancelled after the listing');
    const [taskOfA, taskOfB] = [await taskOf(ctx, P, a, id), await taskOf(ctx, P, b, id)];
    const { partitionId } = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id } });
    expect(await ctx.app.workflow.engine.cancel({ id, partitionId }, 'cancelled by the test')).toBe(true);

    const approval = await postApproval(ctx, P, approvalBody(a, taskOfA));
    expectTsbError(approval, 409, 500);
    expect(approval.json().message).toMatch(/is CANCELLED and takes no approvals/);
    const rejection = await ctx.call(P, ['approver'], {
      method: 'DELETE',
      url: '/v1/task',
      body: {
        id: taskOfB.id,
        signature: b64(b.sign(unb64(taskOfB.rejectionToBeSigned))),
        approvalDigestAlgorithm: b.digest,
        approverPublicKey: b.publicKey,
      },
    });
    expectTsbError(rejection, 409, 500);
    expect(await decisionOf(taskOfA.id)).toBeNull();
    expect(await decisionOf(taskOfB.id)).toBeNull();
    expect((await requestStatus(ctx, P, id)).status).toBe('CANCELLED');
  });

  it('refuses a listed task decided elsewhere meanwhile, keeping that decision', async () => {
    const id = await signRequest(ctx, P, 'two', 'decided by another instance');
    const listed = await taskOf(ctx, P, a, id);
    // another instance of the service records a's approval first
    const elsewhere = approvalBody(a, listed);
    expect(
      await new RequestsRepository(ctx.prisma).decide(listed.id, {
        decision: 'APPROVED',
        signature: unb64(elsewhere.signature),
        digestAlgorithm: elsewhere.approvalDigestAlgorithm,
        decidedAt: new Date(),
      }),
    ).not.toBeNull();
    const again = await postApproval(ctx, P, approvalBody(a, listed));
    expectTsbError(again, 409, 500);
    expect(again.json().message).toMatch(/was decided already/);
    const stored = await ctx.prisma.approvalTask.findUniqueOrThrow({ where: { id: listed.id } });
    expect(Buffer.from(stored.signature!)).toEqual(unb64(elsewhere.signature));
    expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');
  });

  it('knows a listed task only in its own partition', async () => {
    const id = await signRequest(ctx, P, 'one', 'listed in its partition');
    const listed = await taskOf(ctx, P, a, id);
    expectTsbError(await postApproval(ctx, OTHER, approvalBody(a, listed)), 404, 652);
    expect(await decisionOf(listed.id)).toBeNull();
    expect((await postApproval(ctx, P, approvalBody(a, listed))).statusCode).toBe(200);
  });
});
