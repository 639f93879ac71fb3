import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QUEUE_NAME } from '../../../src/features/approvals/queue.js';
import { RequestsRepository } from '../../../src/features/approvals/requests.repository.js';
import { createSkaKey, requestStatus, signRequest } from '../../e2e/workflow/fixtures.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import {
  approve,
  createApprover,
  reject,
  rule,
  type TestApprover,
  taskOf,
  tokenOf,
} from '../../helpers/approvers.js';
import { ManualClock } from '../../helpers/clock.js';

/**
 * Without a worker the queued jobs are never run: what moves requests on then is the database sweep
 * (and the re-arm at start-up), which is what recovers requests whose jobs Redis lost.
 */
describe('workflow recovery from the database alone', () => {
  let ctx: TestContext;
  const clock = new ManualClock();
  const approver: TestApprover = createApprover('Ed25519');
  const pair: TestApprover[] = [createApprover('Ed25519'), createApprover('P-256')];

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    await ctx.partition('sweep');
    await createSkaKey(ctx, 'sweep', 'sweep-key', {
      ruleUse: rule([{ quorum: 1, approvers: [approver] }], { timelock: 120, timeout: 600 }),
    });
    await createSkaKey(ctx, 'sweep', 'sweep-pair-key', {
      ruleUse: rule([{ quorum: 2, approvers: pair }], { timeout: 600 }),
    });
  });
  afterAll(async () => ctx?.close());

  const status = (id: string) => requestStatus(ctx, 'sweep', id);
  const newRequest = (keyName = 'sweep-key') => signRequest(ctx, 'sweep', keyName, 'sweep');

  it('finds decisions no job evaluated, releases timelocks and expires requests', async () => {
    const approved = await newRequest();
    const forgotten = await newRequest();
    const now = clock.now();
    expect(
      (await approve(ctx, 'sweep', approver, await taskOf(ctx, 'sweep', approver, approved, { now })))
        .statusCode,
    ).toBe(200);
    // the evaluate job sits in Redis with nobody to run it
    expect((await status(approved)).status).toBe('PENDING');
    expect(await ctx.app.workflow.queue.depth()).toBeGreaterThan(0);

    expect(await ctx.app.workflow.engine.sweep()).toBe(1);
    const waiting = await status(approved);
    expect(waiting.status).toBe('APPROVED');
    expect(Date.parse(waiting.executableAt!) - Date.parse(waiting.createdAt)).toBe(120_000);
    expect(await ctx.app.workflow.engine.sweep()).toBe(0);

    clock.advance(121);
    expect(await ctx.app.workflow.engine.sweep()).toBe(1);
    expect((await status(approved)).status).toBe('EXECUTED');

    clock.advance(600);
    expect(await ctx.app.workflow.engine.sweep()).toBe(1);
    expect((await status(forgotten)).status).toBe('EXPIRED');
  });

  it('looks once at each decision of a quorum that no job evaluated', async () => {
    const id = await newRequest('sweep-pair-key');
    const decide = async (who: TestApprover) => {
      const task = await taskOf(ctx, 'sweep', who, id, { now: clock.now() });
      expect((await approve(ctx, 'sweep', who, task)).statusCode).toBe(200);
    };
    await decide(pair[0]!);
    // the first of two approvals: looked at once (in the same millisecond: what a look read, it settles), and
    // still waiting for the second
    expect(await ctx.app.workflow.engine.sweep()).toBe(1);
    const looked = await status(id);
    expect(looked.status).toBe('PENDING');
    expect(looked.approvedBy).toHaveLength(1);
    expect(looked.notYetApprovedBy).toHaveLength(1);
    expect(await ctx.app.workflow.engine.sweep()).toBe(0);

    clock.advance(1);
    await decide(pair[1]!);
    expect(await ctx.app.workflow.engine.sweep()).toBe(1);
    expect((await status(id)).status).toBe('EXECUTED');
    expect(await ctx.app.workflow.engine.sweep()).toBe(0);
  });

  it('re-arms the timers Redis lost, each once, under the ids its own job would have', async () => {
    const { engine, queue } = ctx.app.workflow;
    const open = [await newRequest(), await newRequest()];
    // Redis loses every job (the evaluations nobody ran, the expiry timers)
    const jobs = new Queue(QUEUE_NAME, {
      connection: { url: ctx.config.redisUrl },
      prefix: ctx.config.workflow.queuePrefix,
    });
    try {
      await jobs.drain(true);
    } finally {
      await jobs.close();
    }
    expect(await queue.depth()).toBe(0);
    expect(await engine.rearm()).toBe(open.length);
    // one expiry timer for each (a decision no look read is the sweep's to find: see above)
    expect(await queue.depth()).toBe(open.length);
    expect(await engine.rearm()).toBe(open.length);
    for (const id of open) {
      const expiresAt = Date.parse((await status(id)).expiresAt!);
      await queue.evaluate(id, `expiry-${expiresAt}`, new Date(expiresAt));
    }
    expect(await queue.depth()).toBe(open.length);
    // a process that is closing stops between pages
    expect(await engine.rearm(AbortSignal.abort())).toBe(0);
  });

  it('a look that moves the expiry stores it before it settles what it read: a process stopped in between leaves the decision to the sweep', async () => {
    const quick = createApprover('Ed25519');
    const slow = createApprover('P-256');
    await createSkaKey(ctx, 'sweep', 'sweep-two-tokens-key', {
      ruleUse: {
        tokens: [
          tokenOf([{ quorum: 1, approvers: [quick] }], { name: 'quick', timeout: 600 }),
          tokenOf([{ quorum: 1, approvers: [slow] }], { name: 'slow', timeout: 3600 }),
        ],
      },
    });
    const id = await newRequest('sweep-two-tokens-key');
    const lifetime = async () => {
      const now = await status(id);
      expect(now.status).toBe('PENDING');
      return Date.parse(now.expiresAt!) - Date.parse(now.createdAt);
    };
    // the later of the two tokens' deadlines, until the slow token can no longer be met
    expect(await lifetime()).toBe(3_600_000);
    const task = await taskOf(ctx, 'sweep', slow, id, { now: clock.now() });
    expect((await reject(ctx, 'sweep', slow, task, 'not this one')).statusCode).toBe(200);

    // the process stops at the statement that moves the expiry (its evaluate job is in Redis, with nobody to run it)
    const stopped = vi
      .spyOn(RequestsRepository.prototype, 'transition')
      .mockRejectedValueOnce(new Error('process stopped'));
    try {
      await expect(ctx.app.workflow.engine.evaluate(id)).rejects.toThrow('process stopped');
    } finally {
      stopped.mockRestore();
    }
    expect(await lifetime()).toBe(3_600_000);

    // the rejection is still unsettled, so the sweep looks again and stores the quick token's deadline
    expect(await ctx.app.workflow.engine.sweep()).toBeGreaterThanOrEqual(1);
    expect(await lifetime()).toBe(600_000);
  });
});
