/**
 * Drives SKA requests from PENDING to a terminal status. `evaluate` and `execute` are idempotent: they
 * read the request from the database, decide with the pure evaluator, and change it only by
 * compare-and-set, so any number of workers, repeated jobs or the sweep can call them at any time.
 */

import { TsbError } from '../../errors.js';
import type { ApprovalTask, Partition, SkaRequest } from '../../generated/prisma/client.js';
import type { RecordedDecision } from '../../hsm/approval-gate.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import type { PasswordInput } from '../../keystore/key-password.js';
import type { KeyChange } from '../../keystore/keys/key-changes.js';
import type { Logger } from '../../lib/logger.js';
import { asWorkOf } from '../../lib/work-owner.js';
import type { SkaOperation } from '../../ska/challenge.js';
import { type ApproverDecision, evaluateRule } from '../../ska/evaluator.js';
import type { NormalizedRule } from '../../ska/policy-normalized.js';
import type { RequestTimer, WorkflowQueue } from './queue.js';
import type { RequestEndings } from './request-endings.js';
import { OPERATIONS, runOperation } from './request-operations.js';
import type { RequestStatus } from './request-status.js';
import type { RequestsRepository, RequestWithTasks } from './requests.repository.js';

/** An execution claim older than this is taken over (its worker is presumed dead). */
export const EXECUTION_LEASE_MS = 30_000;
const SWEEP_BATCH = 200;
const REARM_PAGE = 500;
/** How often an approval waiting for its execution reads the request while ending notifications arrive. */
const SAFETY_POLL_MS = 250;

/** The expiry timer's tag: one job id per request and expiry, whether armed at creation or re-armed at start-up. */
const expiryTag = (expiresAt: Date) => `expiry-${expiresAt.getTime()}`;

export class WorkflowEngine {
  constructor(
    private readonly repository: RequestsRepository,
    private readonly hsm: SoftHsm,
    private readonly queue: WorkflowQueue,
    private readonly log: Logger,
    /** when given, `awaitExecution` wakes as soon as the execution is stored instead of at its next poll */
    private readonly endings?: Pick<RequestEndings, 'watch'>,
  ) {}

  private now(): Date {
    return this.hsm.clock.now();
  }

  /**
   * Looks at a request again: counts its decisions and moves it on. `seen` is the request as the statement
   * that recorded a decision saw it (`RequestsRepository.decide`): when its quorum is complete there, the
   * request is approved and run without reading it again, since decisions only ever add to a complete quorum
   * (one committed meanwhile races this as it would race the read). Anything short of that is read afresh, so
   * that of approvers deciding at once the last one sees every decision.
   */
  async evaluate(requestId: string, seen?: RequestWithTasks): Promise<void> {
    if (seen?.status === 'PENDING') {
      const result = ruleState(seen, this.now());
      if (result.state === 'met') {
        await this.approveAndRun(seen, result.executableAt);
        return;
      }
    }
    const request = await this.repository.find(requestId);
    if (!request) return;
    if (request.status === 'APPROVED') {
      await this.executeWhenDue(request);
      return;
    }
    if (request.status !== 'PENDING') return;
    const now = this.now();
    const result = ruleState(request, now);
    switch (result.state) {
      case 'met':
        await this.approveAndRun(request, result.executableAt);
        return;
      case 'approved': {
        const moved = await this.repository.transition(request.id, 'PENDING', {
          status: 'APPROVED',
          executableAt: result.executableAt,
        });
        if (moved) await this.schedule(() => this.queue.execute(request.id, result.executableAt));
        return;
      }
      case 'pending': {
        const expiryMoved = result.expiresAt?.getTime() !== request.expiresAt?.getTime();
        // what the decisions changed is stored before they are settled: a process stopped in between leaves
        // them unsettled, for the sweep to look at again (a rejection can bring the expiry forward)
        if (expiryMoved)
          await this.repository.transition(request.id, 'PENDING', {
            status: 'PENDING',
            expiresAt: result.expiresAt,
          });
        // the decisions this look read need no other: the sweep asks only about the ones it did not read
        await this.repository.settleRead(request.tasks);
        if (expiryMoved) await this.armExpiry(request.id, result.expiresAt);
        return;
      }
      case 'rejected':
      case 'expired':
        await this.finish(request, 'PENDING', result.state === 'rejected' ? 'REJECTED' : 'EXPIRED', {});
        return;
    }
  }

  /** Approves a PENDING request whose quorum is complete and claims it for execution in one step, then runs it. */
  private async approveAndRun(request: RequestWithTasks, executableAt: Date): Promise<void> {
    const claimedAt = this.now();
    if (await this.repository.approveAndClaim(request.id, executableAt, claimedAt))
      await this.run(request, claimedAt);
  }

  /**
   * Waits (at most `maxWaitMs`, real time) while the request is about to run: its quorum is complete and no
   * timelock holds it back, but its execution is not stored yet. Answers at once for a request still waiting
   * for approvals or a timelock, and for one that has ended. Wakes at the notification of its end
   * (`request-endings.ts`) when this process listens for them, and reads the request again now and then.
   */
  async awaitExecution(requestId: string, maxWaitMs: number): Promise<void> {
    const deadline = performance.now() + maxWaitMs;
    for (let pause = 10; ; pause = Math.min(pause * 2, 100)) {
      // watched before the read, so that an execution stored in between is not missed
      const watch = this.endings?.watch(requestId);
      let timer: NodeJS.Timeout | undefined;
      try {
        const request = await this.repository.find(requestId);
        if (!request || !this.aboutToRun(request)) return;
        const left = deadline - performance.now();
        if (left <= 0) return;
        // while notifications can come, the poll is only the safety net
        const wait = Math.min(watch?.listening ? SAFETY_POLL_MS : pause, left);
        const paused = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), wait);
        });
        // the notification is sent by the commit of an ended status: nothing left to read
        if (await Promise.race([watch ? watch.ended.then(() => true) : paused, paused])) return;
      } finally {
        clearTimeout(timer);
        watch?.stop();
      }
    }
  }

  private aboutToRun(request: RequestWithTasks): boolean {
    const now = this.now();
    if (request.status === 'APPROVED')
      return (request.executableAt ?? request.createdAt).getTime() <= now.getTime();
    if (request.status !== 'PENDING') return false;
    const result = ruleState(request, now);
    return result.state === 'met';
  }

  /** Arms the timer that expires a new request (the sweep is the safety net). */
  async armExpiry(requestId: string, expiresAt: Date | null): Promise<void> {
    if (expiresAt) await this.schedule(() => this.queue.evaluate(requestId, expiryTag(expiresAt), expiresAt));
  }

  /** Runs an approved request whose timelock has passed; arms its timer when it has not. */
  private async executeWhenDue(request: SkaRequest): Promise<void> {
    const executableAt = request.executableAt ?? request.createdAt;
    if (executableAt.getTime() > this.now().getTime()) {
      await this.schedule(() => this.queue.execute(request.id, executableAt));
      return;
    }
    await this.execute(request.id);
  }

  /**
   * Runs an approved request exactly once: one executor claims it, the HSM core re-checks the stored
   * approvals and runs the operation, and the result is stored with the claim as condition. False when it was
   * not this executor's to claim (not approved, not due, or claimed by a live executor).
   */
  async execute(requestId: string): Promise<boolean> {
    const now = this.now();
    const claimed = await this.repository.claimExecution(
      requestId,
      now,
      new Date(now.getTime() - EXECUTION_LEASE_MS),
    );
    if (!claimed) return false;
    await this.run(claimed, now);
    return true;
  }

  /** An execute job: runs the request when it is due, else looks at it again (an early job re-arms its timer). */
  async executeDue(requestId: string): Promise<void> {
    if (!(await this.execute(requestId))) await this.evaluate(requestId);
  }

  /**
   * Runs a request that the statement recording its last decision approved and claimed
   * (`RequestsRepository.decide` with an approval): `request` as that statement read it back.
   */
  async runClaimed(request: RequestWithTasks): Promise<void> {
    if (request.status !== 'APPROVED' || !request.executionClaimedAt)
      throw new Error(`request ${request.id} is not approved and claimed`);
    await this.run(request, request.executionClaimedAt);
  }

  /** Runs a request this executor has claimed (at `claimedAt`) and stores the outcome on that condition. */
  private async run(request: RequestWithTasks, claimedAt: Date): Promise<void> {
    const claim = { executionClaimedAt: claimedAt };
    let result: string | null;
    try {
      const partition = await this.hsm.partition(request.partitionId);
      const output = await asWorkOf(request.partitionId, () =>
        runOperation(this.hsm, partition, request, {
          password: this.passwordOf(partition, request),
          authorization: {
            kind: 'workflow',
            requestId: request.id,
            challenge: Buffer.from(request.challenge),
            decisions: recordedOf(request.tasks),
          },
        }),
      );
      result = output === null ? null : sealedResult(this.hsm, partition, request, output);
    } catch (error) {
      if (
        !(error instanceof TsbError) ||
        error.kind === 'CONNECTIVITY' ||
        error.kind === 'SERVICE_UNAVAILABLE'
      ) {
        // infrastructure trouble (database, worker shutdown): let another attempt run it
        await this.repository.releaseClaim(request.id, claimedAt).catch(() => {});
        throw error;
      }
      await this.finish(
        request,
        'APPROVED',
        'FAILED',
        {
          errorCode: error.errorCode,
          errorMessage: error.message,
          executedAt: this.now(),
        },
        claim,
      );
      return;
    }
    // the key use is counted in the statement that stores the result (KeyOperations leaves workflow uses
    // to us): a run whose result is never stored (process killed, claim taken over) counts nothing
    const usedKeyId = OPERATIONS[request.operation as SkaOperation].use ? request.keyId : null;
    const stored = await this.repository.completeExecution(
      request.id,
      claimedAt,
      { result, executedAt: this.now() },
      usedKeyId,
    );
    if (stored) await this.notify(request, 'ended');
  }

  /** Cancels a request (`reason` says by whom); false when it was no longer open (or is running). */
  async cancel(request: Pick<SkaRequest, 'id' | 'partitionId'>, reason: string): Promise<boolean> {
    const cancelled = await this.repository.transition(
      request.id,
      ['PENDING', 'APPROVED'],
      { status: 'CANCELLED', errorMessage: reason },
      { executionClaimedAt: null },
    );
    if (cancelled) await this.notify(request, 'ended');
    return cancelled;
  }

  /** Cancels the key's open requests after a block, a policy change or its destruction. */
  async cancelForKey(change: KeyChange, reason: string): Promise<void> {
    const ids = await this.repository.cancelForKey(change.keyId, change.byRequestId, reason);
    for (const id of ids) await this.notify({ id, partitionId: change.partitionId }, 'ended');
  }

  /**
   * Arms the timers of every open request from the database (at start-up: Redis may have lost them), a page at a
   * time, each page's timers in one round trip; stops between pages once `stop` is aborted. A decision whose
   * evaluation a crash or Redis lost is the sweep's to find (it stays unsettled until an evaluation reads it).
   */
  async rearm(stop?: AbortSignal): Promise<number> {
    let count = 0;
    for await (const page of this.repository.openRequests(REARM_PAGE)) {
      if (stop?.aborted) break;
      const timers: RequestTimer[] = [];
      for (const request of page) {
        if (request.status === 'APPROVED') {
          timers.push({ job: 'execute', requestId: request.id, at: request.executableAt ?? this.now() });
          continue;
        }
        if (request.expiresAt)
          timers.push({
            job: 'evaluate',
            requestId: request.id,
            tag: expiryTag(request.expiresAt),
            at: request.expiresAt,
          });
      }
      await this.queue.arm(timers);
      count += page.length;
    }
    return count;
  }

  /** Evaluates every request whose timer is due, whether or not its job still exists. */
  async sweep(): Promise<number> {
    await this.repository.settleDecisions();
    const now = this.now();
    const due = await this.repository.dueRequests(
      now,
      new Date(now.getTime() - EXECUTION_LEASE_MS),
      SWEEP_BATCH,
    );
    for (const { id } of due) {
      try {
        await this.evaluate(id);
      } catch (error) {
        this.log.warn({ err: error, requestId: id }, 'sweep could not move a request on');
      }
    }
    return due.length;
  }

  private async finish(
    request: Pick<SkaRequest, 'id' | 'partitionId'>,
    from: RequestStatus,
    to: RequestStatus,
    data: Partial<Pick<SkaRequest, 'result' | 'errorCode' | 'errorMessage' | 'executedAt'>>,
    where: Partial<Pick<SkaRequest, 'executionClaimedAt'>> = {},
  ): Promise<void> {
    const moved = await this.repository.transition(request.id, from, { status: to, ...data }, where);
    if (moved) await this.notify(request, 'ended');
  }

  /** Queues the webhook call of a partition that has a webhook (the partition row is cached). */
  async notify(request: Pick<SkaRequest, 'id' | 'partitionId'>, event: 'created' | 'ended'): Promise<void> {
    const partition = await this.hsm.partition(request.partitionId).catch(() => null);
    if (partition?.webhookUrl) await this.schedule(() => this.queue.notify(request.id, event));
  }

  private passwordOf(partition: Partition, request: SkaRequest): PasswordInput {
    if (!request.passwordSealed) return null;
    return this.hsm
      .openRequestSecret(partition, request.id, 'password', request.passwordSealed)
      .toString('utf8');
  }

  /** Queue writes are best effort: the database sweep catches anything Redis lost or refused. */
  private async schedule(add: () => Promise<void>): Promise<void> {
    try {
      await add();
    } catch (error) {
      this.log.warn({ err: error }, 'could not queue a workflow job; the database sweep will catch up');
    }
  }
}

/** Where a request stands under its frozen rule, with its stored decisions, at `now`. */
const ruleState = (request: RequestWithTasks, now: Date) =>
  evaluateRule(request.rule as unknown as NormalizedRule, decisionsOf(request.tasks), request.createdAt, now);

type DecidedTask = ApprovalTask & { decision: string; decidedAt: Date };

const decidedTasks = (tasks: readonly ApprovalTask[]): DecidedTask[] =>
  tasks.filter((task): task is DecidedTask => task.decision !== null && task.decidedAt !== null);

const verdictOf = (task: DecidedTask): 'approve' | 'reject' =>
  task.decision === 'APPROVED' ? 'approve' : 'reject';

function decisionsOf(tasks: readonly ApprovalTask[]): ApproverDecision[] {
  return decidedTasks(tasks).map((task) => ({
    fingerprint: task.fingerprint,
    decision: verdictOf(task),
    at: task.decidedAt,
  }));
}

function recordedOf(tasks: readonly ApprovalTask[]): RecordedDecision[] {
  return decidedTasks(tasks).map((task) => ({
    fingerprint: task.fingerprint,
    decision: verdictOf(task),
    decidedAt: task.decidedAt,
    approverPublicKey: Buffer.from(task.approverPublicKey),
    signature: task.signature ? Buffer.from(task.signature) : null,
    digestAlgorithm: task.digestAlgorithm,
  }));
}

const SEALED_PREFIX = 'sealed:';

/** A decryption result is a secret: it is kept sealed under the partition key, bound to its request. */
function sealedResult(hsm: SoftHsm, partition: Partition, request: SkaRequest, output: string): string {
  if (request.operation !== 'DECRYPT') return output;
  const sealed = hsm.sealRequestSecret(partition, request.id, 'result', Buffer.from(output, 'base64'));
  return `${SEALED_PREFIX}${sealed.toString('base64')}`;
}

/** The result as the request status shows it (base64), opened when it was stored sealed. */
export function openResult(hsm: SoftHsm, partition: Partition, request: SkaRequest): string | null {
  if (request.result === null || !request.result.startsWith(SEALED_PREFIX)) return request.result;
  const sealed = Buffer.from(request.result.slice(SEALED_PREFIX.length), 'base64');
  return hsm.openRequestSecret(partition, request.id, 'result', sealed).toString('base64');
}
