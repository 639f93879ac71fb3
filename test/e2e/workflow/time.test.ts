import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QUEUE_NAME } from '../../../src/features/approvals/queue.js';
import { RequestsRepository } from '../../../src/features/approvals/requests.repository.js';
import type { TestContext } from '../../helpers/app.js';
import {
  approve,
  createApprover,
  rule,
  type TestApprover,
  taskOf,
  waitForStatus,
} from '../../helpers/approvers.js';
import {
  createSkaKey,
  evaluated,
  expectTsbError,
  openTasks,
  requestStatus,
  signRequest,
  unb64,
  verifiesWithKey,
  wholeSecondClock,
  workflowContext,
} from './fixtures.js';

const P = 'timed';
const YEAR = 365 * 24 * 3600;

/**
 * Timelocks and timeouts against a manual clock. The engine sees a new time when something makes it
 * look again: the sweep (every worker runs it periodically) or an evaluation.
 */
describe('SKA timelock and timeout', () => {
  let ctx: TestContext;
  let redis: Redis;
  let queue: Queue;
  const clock = wholeSecondClock();
  const [a, b] = [createApprover('P-256'), createApprover('Ed25519')] as [TestApprover, TestApprover];

  beforeAll(async () => {
    // no periodic sweep: the tests decide when the engine looks at the new time
    ctx = await workflowContext(P, { clock, env: { TSB_WORKFLOW_SWEEP_MS: '3600000' } });
    redis = new Redis(ctx.config.redisUrl, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE_NAME, { connection: redis, prefix: ctx.config.workflow.queuePrefix });
    await createSkaKey(ctx, P, 'timelocked', {
      ruleUse: rule([{ quorum: 1, approvers: [a, b] }], { timelock: 120, timeout: 600 }),
    });
    await createSkaKey(ctx, P, 'lock-equals-timeout', {
      ruleUse: rule([{ quorum: 1, approvers: [a] }], { timelock: 120, timeout: 120 }),
    });
    await createSkaKey(ctx, P, 'timeout-300', {
      ruleUse: rule([{ quorum: 2, approvers: [a, b] }], { timeout: 300 }),
    });
    await createSkaKey(ctx, P, 'timeout-300-single', {
      ruleUse: rule([{ quorum: 1, approvers: [a] }], { timeout: 300 }),
    });
    await createSkaKey(ctx, P, 'no-timeout', { ruleUse: rule([{ quorum: 1, approvers: [a] }]) });
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await ctx?.close();
  });

  const sweep = () => ctx.app.workflow.engine.sweep();
  const approveNow = async (approver: TestApprover, id: string) => {
    const response = await approve(
      ctx,
      P,
      approver,
      await taskOf(ctx, P, approver, id, { now: clock.now() }),
    );
    expect(response.statusCode, response.body).toBe(200);
  };
  const seconds = (iso: string | null) => Date.parse(String(iso)) / 1000;

  it('timelock: quorum met → APPROVED until createdAt + timelock, then EXECUTED after a sweep', async () => {
    const id = await signRequest(ctx, P, 'timelocked', 'timelocked payload');
    const taskOfB = await taskOf(ctx, P, b, id, { now: clock.now() });
    const created = await requestStatus(ctx, P, id);
    expect(seconds(created.createdAt)).toBe(clock.now().getTime() / 1000);
    expect(seconds(created.expiresAt) - seconds(created.createdAt)).toBe(600);

    await approveNow(a, id);
    const approved = await waitForStatus(ctx, P, id, ['APPROVED', 'EXECUTED']);
    expect(approved['status']).toBe('APPROVED');
    expect(approved['executableAt']).toBe(
      new Date(Date.parse(created.createdAt) + 120_000).toISOString().replace('.000Z', 'Z'),
    );
    expect(approved['result']).toBeNull();
    expect(approved['executionTime']).toBeNull();
    // the worker armed a delayed job for that moment (BullMQ counts real time; the test does not wait)
    const jobId = `execute-${id}-${Date.parse(String(approved['executableAt']))}`;
    let job = await queue.getJob(jobId);
    // the job is added right after the status changed
    for (let tries = 0; !job && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      job = await queue.getJob(jobId);
    }
    expect(job, 'delayed execute job').toBeTruthy();
    expect(await job!.isDelayed()).toBe(true);

    // an approved request takes no further decisions
    expect(await openTasks(ctx, P, b, clock.now(), { requestId: id })).toEqual([]);
    expectTsbError(await approve(ctx, P, b, taskOfB), 409, 500);

    clock.advance(119);
    await sweep();
    await ctx.app.workflow.engine.evaluate(id);
    await ctx.app.workflow.engine.execute(id);
    const early = await requestStatus(ctx, P, id);
    expect(early.status).toBe('APPROVED');
    expect(early.result).toBeNull();

    clock.advance(1); // exactly createdAt + timelock: allowed
    await sweep();
    const done = await requestStatus(ctx, P, id);
    expect(done.status).toBe('EXECUTED');
    expect(seconds(done.executionTime)).toBe(seconds(created.createdAt) + 120);
    expect(
      await verifiesWithKey(
        ctx,
        P,
        'timelocked',
        Buffer.from('timelocked payload'),
        unb64(String(done.result)),
      ),
    ).toBe(true);
  });

  it('an execute job that comes early re-arms its timer; on time it claims and reads the request in one statement', async () => {
    const { engine, queue } = ctx.app.workflow;
    const id = await signRequest(ctx, P, 'timelocked', 'run by its job');
    const createdAt = Date.parse((await requestStatus(ctx, P, id)).createdAt);
    await approveNow(a, id);
    expect((await waitForStatus(ctx, P, id, ['APPROVED', 'EXECUTED']))['status']).toBe('APPROVED');
    const reads = vi.spyOn(RequestsRepository.prototype, 'find');
    const executes = vi.spyOn(queue, 'execute');
    try {
      clock.advance(60);
      await engine.executeDue(id);
      expect((await requestStatus(ctx, P, id)).status).toBe('APPROVED');
      expect(executes.mock.calls.map((call) => [call[0], call[1].getTime()])).toEqual([
        [id, createdAt + 120_000],
      ]);
      clock.advance(60);
      reads.mockClear();
      await engine.executeDue(id);
      expect(reads).not.toHaveBeenCalled();
      const done = await requestStatus(ctx, P, id);
      expect(done.status).toBe('EXECUTED');
      expect(
        await verifiesWithKey(
          ctx,
          P,
          'timelocked',
          Buffer.from('run by its job'),
          unb64(String(done.result)),
        ),
      ).toBe(true);
      // a job repeated after the run finds nothing to claim and changes nothing
      await engine.executeDue(id);
      expect((await requestStatus(ctx, P, id)).result).toBe(done.result);
    } finally {
      reads.mockRestore();
      executes.mockRestore();
    }
  });

  it('a request approved in time runs after its timelock even though the timeout passed meanwhile', async () => {
    const id = await signRequest(ctx, P, 'lock-equals-timeout');
    await approveNow(a, id);
    expect((await waitForStatus(ctx, P, id, ['APPROVED', 'EXECUTED']))['status']).toBe('APPROVED');
    clock.advance(180);
    await sweep();
    expect((await requestStatus(ctx, P, id)).status).toBe('EXECUTED');
  });

  it('an APPROVED request waiting for its timelock can be cancelled and then never runs', async () => {
    const id = await signRequest(ctx, P, 'timelocked');
    await approveNow(a, id);
    await waitForStatus(ctx, P, id, ['APPROVED']);
    const cancel = await ctx.call(P, ['keyOperation'], { method: 'DELETE', url: `/v1/request/${id}` });
    expect(cancel.statusCode, cancel.body).toBe(200);
    clock.advance(121);
    await sweep();
    await ctx.app.workflow.engine.execute(id);
    const status = await requestStatus(ctx, P, id);
    expect(status.status).toBe('CANCELLED');
    expect(status.result).toBeNull();
  });

  it('timeout: without quorum by createdAt + timeout the request EXPIRES (after a sweep)', async () => {
    const id = await signRequest(ctx, P, 'timeout-300');
    const created = await requestStatus(ctx, P, id);
    expect(seconds(created.expiresAt) - seconds(created.createdAt)).toBe(300);
    await approveNow(a, id);
    expect((await evaluated(ctx, P, id)).status).toBe('PENDING');

    clock.advance(300); // the deadline itself: b could still approve
    await sweep();
    expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');

    clock.advance(1);
    await sweep();
    const expired = await requestStatus(ctx, P, id);
    expect(expired.status).toBe('EXPIRED');
    expect(expired.result).toBeNull();
    expect(expired.approvedBy).toEqual([a.publicKey]);
    // an expired request shows no task and takes no approval
    expect(await openTasks(ctx, P, b, clock.now(), { requestId: id })).toEqual([]);
  });

  /**
   * Documented choice (docs/policy-semantics.md, "timeout"): an approval that arrives after the
   * timeout, before the engine noticed the expiry, is accepted by POST /v1/approval (200; the approver
   * has decided) but does not count: the request becomes EXPIRED, never EXECUTED. Once the request is
   * EXPIRED, an approval is refused with 409 (errorCode 500).
   */
  it('an approval submitted after the timeout does not count', async () => {
    const id = await signRequest(ctx, P, 'timeout-300-single');
    const late = await signRequest(ctx, P, 'timeout-300-single', 'refused late');
    const [task, lateTask] = [
      await taskOf(ctx, P, a, id, { now: clock.now() }),
      await taskOf(ctx, P, a, late, { now: clock.now() }),
    ];
    clock.advance(301);
    // nobody swept yet: the request still looks PENDING, and the approval is taken
    const accepted = await approve(ctx, P, a, task);
    expect(accepted.statusCode, accepted.body).toBe(200);
    const status = await waitForStatus(ctx, P, id, ['EXPIRED', 'EXECUTED']);
    expect(status['status']).toBe('EXPIRED');
    expect(status['result']).toBeNull();
    // stored (docs/tsb-deviations.md: the approver shows in approvedBy), but it did not count
    expect(status['approvedBy']).toEqual([a.publicKey]);

    await sweep();
    expect((await requestStatus(ctx, P, late)).status).toBe('EXPIRED');
    expectTsbError(await approve(ctx, P, a, lateTask), 409, 500);
    expect((await requestStatus(ctx, P, late)).approvedBy).toEqual([]);
  });

  it('timeout 0 never expires: a year later the request is PENDING and can still be approved', async () => {
    const id = await signRequest(ctx, P, 'no-timeout');
    expect((await requestStatus(ctx, P, id)).expiresAt).toBeNull();
    clock.advance(YEAR);
    await sweep();
    await ctx.app.workflow.engine.evaluate(id);
    expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');
    await approveNow(a, id);
    expect((await waitForStatus(ctx, P, id, ['EXECUTED', 'EXPIRED', 'FAILED']))['status']).toBe('EXECUTED');
  });
});
