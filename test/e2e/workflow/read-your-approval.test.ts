/**
 * Read your approval (issue 14): the approval that completes a quorum without timelock answers once the
 * execution is stored, so the status read right after it (as the TSB docs' SKA sample and the Vault plugin
 * do) shows EXECUTED with the result. The approving request runs the execution itself, with a worker in its
 * process or without; a process told not to wait leaves it to the real BullMQ worker.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TsbError } from '../../../src/errors.js';
import { RequestsRepository } from '../../../src/features/approvals/requests.repository.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { approve, createApprover, rule, taskOf } from '../../helpers/approvers.js';
import {
  createSkaKey,
  requestStatus,
  signRequest,
  unb64,
  verifiesWithKey,
  workflowContext,
} from './fixtures.js';

const P = 'read-your-approval';

describe('the status read right after the last approval', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await workflowContext(P);
  });
  afterAll(async () => ctx?.close());

  /** Runs `act`; the tags of the evaluate jobs queued meanwhile (none when the approving request did the work). */
  async function evaluationsQueuedDuring(
    act: () => Promise<void>,
    { app }: Pick<TestContext, 'app'> = ctx,
  ): Promise<string[]> {
    const queue = app.workflow.queue;
    const evaluate = queue.evaluate;
    const queued: string[] = [];
    queue.evaluate = (requestId, tag, at) => {
      queued.push(tag);
      return evaluate.call(queue, requestId, tag, at);
    };
    try {
      await act();
    } finally {
      queue.evaluate = evaluate;
    }
    return queued;
  }

  /** Approves `task` in `where` (answered 200); the tags of the evaluate jobs queued meanwhile. */
  const approvedQueuing = (
    approver: Parameters<typeof approve>[2],
    task: Parameters<typeof approve>[3],
    where: TestContext = ctx,
  ) =>
    evaluationsQueuedDuring(async () => {
      const response = await approve(where, P, approver, task);
      expect(response.statusCode, response.body).toBe(200);
    }, where);

  /** A new key whose rule is one approver's approval, one sign request on it, and that approver's task. */
  async function oneOfOneRequest(label: string, payload: string, where: TestContext = ctx) {
    const approver = createApprover('P-256');
    await createSkaKey(where, P, label, { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });
    const id = await signRequest(where, P, label, payload);
    return { approver, id, task: await taskOf(where, P, approver, id) };
  }

  it('shows EXECUTED with the signature when the quorum is complete and no timelock holds it', async () => {
    const approvers = [createApprover('P-256'), createApprover('Ed25519')];
    await createSkaKey(ctx, P, 'rya-sign', { ruleUse: rule([{ quorum: 2, approvers }]) });
    for (let round = 0; round < 5; round++) {
      const payload = `pay ${round} CHF`;
      const id = await signRequest(ctx, P, 'rya-sign', payload);
      const first = await approve(ctx, P, approvers[0]!, await taskOf(ctx, P, approvers[0]!, id));
      expect(first.statusCode, first.body).toBe(200);
      const task = await taskOf(ctx, P, approvers[1]!, id);
      const last = await approve(ctx, P, approvers[1]!, task);
      expect(last.statusCode, last.body).toBe(200);
      const status = await requestStatus(ctx, P, id);
      expect(status.status, JSON.stringify(status)).toBe('EXECUTED');
      expect(status.result).not.toBeNull();
      expect(await verifiesWithKey(ctx, P, 'rya-sign', Buffer.from(payload), unb64(status.result!))).toBe(
        true,
      );
    }
  });

  it('is executed by the approving request when this process runs the worker: no queued job in between', async () => {
    const { approver, id, task } = await oneOfOneRequest('rya-inline', 'inline');
    const queued = await approvedQueuing(approver, task);
    expect(queued).toEqual([]);
    expect((await requestStatus(ctx, P, id)).status).toBe('EXECUTED');
  });

  it('an approval that meets the rule alone is approved and claimed by the statement that records it; one that does not is not', async () => {
    const [alone, other] = [createApprover('P-256'), createApprover('Ed25519')];
    // either approver alone meets "1 of 2"; "2 of 2" needs both
    await createSkaKey(ctx, P, 'rya-either', { ruleUse: rule([{ quorum: 1, approvers: [alone, other] }]) });
    await createSkaKey(ctx, P, 'rya-both', { ruleUse: rule([{ quorum: 2, approvers: [alone, other] }]) });
    const claims = vi.spyOn(RequestsRepository.prototype, 'approveAndClaim');
    const reads = vi.spyOn(RequestsRepository.prototype, 'find');
    try {
      const either = await signRequest(ctx, P, 'rya-either', 'either');
      const [mine, theirs] = [await taskOf(ctx, P, other, either), await taskOf(ctx, P, alone, either)];
      const response = await approve(ctx, P, other, mine);
      expect(response.statusCode, response.body).toBe(200);
      expect([claims.mock.calls.length, reads.mock.calls.length]).toEqual([0, 0]);
      const done = await requestStatus(ctx, P, either);
      expect(done.status).toBe('EXECUTED');
      expect(await verifiesWithKey(ctx, P, 'rya-either', Buffer.from('either'), unb64(done.result!))).toBe(
        true,
      );
      // the other approver comes too late: the request has run, once
      expect((await approve(ctx, P, alone, theirs)).statusCode).toBe(409);
      expect((await requestStatus(ctx, P, either)).approvedBy).toEqual([other.publicKey]);

      const both = await signRequest(ctx, P, 'rya-both', 'both');
      const tasks = [await taskOf(ctx, P, alone, both), await taskOf(ctx, P, other, both)];
      expect((await approve(ctx, P, alone, tasks[0]!)).statusCode).toBe(200);
      expect((await requestStatus(ctx, P, both)).status).toBe('PENDING');
      claims.mockClear();
      expect((await approve(ctx, P, other, tasks[1]!)).statusCode).toBe(200);
      // the quorum completed by two decisions: approved and claimed by the engine's own statement
      expect(claims.mock.calls.map((call) => call[0])).toEqual([both]);
      expect((await requestStatus(ctx, P, both)).status).toBe('EXECUTED');
    } finally {
      claims.mockRestore();
      reads.mockRestore();
    }
  });

  it('an API without worker (workers run apart) runs the approval it records itself, as one with a worker does: no queued job', async () => {
    const apart = await createTestContext({ env: { TSB_APPROVAL_EXECUTION_WAIT_MS: '2000' } });
    try {
      await apart.partition(P);
      const { approver, id, task } = await oneOfOneRequest('rya-apart', 'apart', apart);
      const claimedByDecision = vi.spyOn(RequestsRepository.prototype, 'decide');
      try {
        const queued = await approvedQueuing(approver, task, apart);
        // no worker runs in this world: only the approving request can have approved, claimed and signed
        expect(queued).toEqual([]);
        expect(claimedByDecision.mock.calls.map((call) => call[2] !== null)).toEqual([true]);
      } finally {
        claimedByDecision.mockRestore();
      }
      const done = await requestStatus(apart, P, id);
      expect(done.status).toBe('EXECUTED');
      expect(await verifiesWithKey(apart, P, 'rya-apart', Buffer.from('apart'), unb64(done.result!))).toBe(
        true,
      );
    } finally {
      await apart.close();
    }
  });

  it('a process told not to wait for executions (TSB_APPROVAL_EXECUTION_WAIT_MS=0) only records the decision; a worker approves and runs it', async () => {
    const queuedOnly = await workflowContext(P, { env: { TSB_APPROVAL_EXECUTION_WAIT_MS: '0' } });
    try {
      const { approver, id, task } = await oneOfOneRequest('rya-queued', 'queued', queuedOnly);
      const decisions = vi.spyOn(RequestsRepository.prototype, 'decide');
      const claims = vi.spyOn(RequestsRepository.prototype, 'approveAndClaim');
      try {
        const queued = await approvedQueuing(approver, task, queuedOnly);
        expect(queued).toEqual([`decision-${task.id}`]);
        // the decision's statement approved nothing: the worker's job approved and claimed it
        expect(decisions.mock.calls.map((call) => call[2] ?? null)).toEqual([null]);
        await vi.waitFor(() => expect(claims.mock.calls.map((call) => call[0])).toEqual([id]), {
          timeout: 10_000,
          interval: 20,
        });
      } finally {
        decisions.mockRestore();
        claims.mockRestore();
      }
      await vi.waitFor(async () => expect((await requestStatus(queuedOnly, P, id)).status).toBe('EXECUTED'), {
        timeout: 10_000,
        interval: 50,
      });
      const done = await requestStatus(queuedOnly, P, id);
      expect(
        await verifiesWithKey(queuedOnly, P, 'rya-queued', Buffer.from('queued'), unb64(done.result!)),
      ).toBe(true);
    } finally {
      await queuedOnly.close();
    }
  });

  it('an approval whose in-request run meets infrastructure trouble releases its claim; the queued job runs it, once', async () => {
    const { approver, id, task } = await oneOfOneRequest('rya-trouble', 'after trouble');
    const { operations } = ctx.hsm;
    const sign = vi
      .spyOn(operations, 'sign')
      .mockRejectedValueOnce(new TsbError('SERVICE_UNAVAILABLE', 'the database is away for a moment'));
    try {
      const queued = await approvedQueuing(approver, task);
      // the approval's own run failed; its job, run by the worker, signed
      expect(queued).toEqual([`decision-${task.id}`]);
      const done = await requestStatus(ctx, P, id);
      expect(done.status).toBe('EXECUTED');
      expect(sign).toHaveBeenCalledTimes(2);
      expect(
        await verifiesWithKey(ctx, P, 'rya-trouble', Buffer.from('after trouble'), unb64(done.result!)),
      ).toBe(true);
    } finally {
      sign.mockRestore();
    }
  });

  it('an approval sent six times at once decides and executes once, in-request (attack: replay in a race)', async () => {
    const { approver, id, task } = await oneOfOneRequest('rya-race', 'race');
    const responses = await Promise.all(Array.from({ length: 6 }, () => approve(ctx, P, approver, task)));
    const codes = responses.map((response) => response.statusCode).sort();
    expect(codes, responses.map((response) => response.body).join('\n')).toEqual([
      200, 409, 409, 409, 409, 409,
    ]);
    const done = await requestStatus(ctx, P, id);
    expect(done.status).toBe('EXECUTED');
    // once more after the execution: refused, and the result stays the one signature made
    expect((await approve(ctx, P, approver, task)).statusCode).toBe(409);
    expect((await requestStatus(ctx, P, id)).result).toBe(done.result);
    const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
    const key = await ctx.prisma.key.findFirstOrThrow({
      where: { partitionId: partition.id, label: 'rya-race' },
    });
    expect(Number(key.useCount)).toBe(1);
  });

  it('all three approvers of a 3-of-3 quorum approving at once: their own requests execute it, once, with no job', async () => {
    // each approval's statement may see only its own decision; the approver that commits last reads the
    // request again and finds the quorum complete (nothing is left to a queued job or the sweep)
    const approvers = [createApprover('P-256'), createApprover('Ed25519'), createApprover('P-384')];
    await createSkaKey(ctx, P, 'rya-all', { ruleUse: rule([{ quorum: 3, approvers }]) });
    for (let round = 0; round < 3; round++) {
      const id = await signRequest(ctx, P, 'rya-all', `all three, round ${round}`);
      const tasks = await Promise.all(approvers.map((approver) => taskOf(ctx, P, approver, id)));
      const queued = await evaluationsQueuedDuring(async () => {
        const responses = await Promise.all(
          approvers.map((approver, index) => approve(ctx, P, approver, tasks[index]!)),
        );
        for (const response of responses) expect(response.statusCode, response.body).toBe(200);
      });
      expect(queued).toEqual([]);
      const done = await requestStatus(ctx, P, id);
      expect(done.status).toBe('EXECUTED');
      expect(done.approvedBy).toHaveLength(3);
    }
    const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: P } });
    const key = await ctx.prisma.key.findFirstOrThrow({
      where: { partitionId: partition.id, label: 'rya-all' },
    });
    expect(Number(key.useCount)).toBe(3);
  });

  it('a wait for an execution that another process stores ends at the notification of its end, not at a poll', async () => {
    const approver = createApprover('P-256');
    await createSkaKey(ctx, P, 'rya-notified', { ruleUse: rule([{ quorum: 1, approvers: [approver] }]) });
    const id = await signRequest(ctx, P, 'rya-notified', 'notified');
    // approved and claimed by a worker elsewhere, which stores its result 300 ms later
    const elsewhere = new RequestsRepository(ctx.prisma);
    const claimedAt = new Date();
    const approved = { status: 'APPROVED' as const, executableAt: claimedAt, executionClaimedAt: claimedAt };
    expect(await elsewhere.transition(id, 'PENDING', approved)).toBe(true);
    const { engine } = ctx.app.workflow;
    const find = vi.spyOn(RequestsRepository.prototype, 'find');
    try {
      // the first wait only starts listening; the second is the one measured
      await engine.awaitExecution(randomUUID(), 50);
      await vi.waitFor(() => expect(find.mock.calls.length).toBeGreaterThan(0));
      await new Promise((resolve) => setTimeout(resolve, 200));
      find.mockClear();
      const started = performance.now();
      const waited = engine.awaitExecution(id, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const outcome = { result: 'c2ln', executedAt: new Date() };
      expect(await elsewhere.completeExecution(id, claimedAt, outcome, null)).toBe(true);
      const stored = performance.now();
      await waited;
      // polling alone reads the request every 10–100 ms (about eight times by now), and while notifications
      // arrive every 250 ms: the wait ends at the notification, not at the next read (at 500 ms)
      expect(find.mock.calls.length).toBeLessThanOrEqual(1 + Math.ceil((stored - started) / 250));
      expect(performance.now() - stored).toBeLessThan(150);
    } finally {
      find.mockRestore();
    }
  });

  it('answers an approval that does not complete the quorum at once', async () => {
    const approvers = [createApprover('P-256'), createApprover('P-256')];
    await createSkaKey(ctx, P, 'rya-half', { ruleUse: rule([{ quorum: 2, approvers }]) });
    const id = await signRequest(ctx, P, 'rya-half');
    const task = await taskOf(ctx, P, approvers[0]!, id);
    const transitions = vi.spyOn(RequestsRepository.prototype, 'transition');
    const settles = vi.spyOn(RequestsRepository.prototype, 'settleRead');
    try {
      const started = performance.now();
      const response = await approve(ctx, P, approvers[0]!, task);
      expect(response.statusCode, response.body).toBe(200);
      expect(performance.now() - started).toBeLessThan(1_000);
      // the look that leaves it pending writes only that it read the decision: no status change, no time (a
      // look of the periodic sweep that runs meanwhile finds the decision settled and settles nothing)
      expect(transitions).not.toHaveBeenCalled();
      expect(
        settles.mock.calls
          .map(([tasks]) => tasks.filter((t) => t.decisionSettled === false).length)
          .filter((unsettled) => unsettled > 0),
      ).toEqual([1]);
    } finally {
      transitions.mockRestore();
      settles.mockRestore();
    }
    expect((await requestStatus(ctx, P, id)).status).toBe('PENDING');
  });

  it('answers at once when a timelock holds the execution back (status APPROVED)', async () => {
    const approver = createApprover('P-256');
    await createSkaKey(ctx, P, 'rya-timelock', {
      ruleUse: rule([{ quorum: 1, approvers: [approver] }], { timelock: 3_600 }),
    });
    const id = await signRequest(ctx, P, 'rya-timelock');
    const task = await taskOf(ctx, P, approver, id);
    const started = performance.now();
    const response = await approve(ctx, P, approver, task);
    expect(response.statusCode, response.body).toBe(200);
    expect(performance.now() - started).toBeLessThan(1_000);
    const status = await requestStatus(ctx, P, id);
    expect(['PENDING', 'APPROVED']).toContain(status.status);
    expect(status.result).toBeNull();
  });
});
