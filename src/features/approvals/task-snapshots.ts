/**
 * What this process's task listings showed of each open task, for the decision that usually follows: the
 * parts of a task and its request that never change once stored (who approves, with which pinned certificate,
 * the challenge, who created the request, the partition). A decision on a listed task then checks them
 * without reading the task again; what does change (the task still undecided, its request still PENDING) is
 * the condition of the statement that records the decision (`RequestsRepository.decide`), so a snapshot can
 * be old but never wrong. Of the request's rule, frozen at its creation, only what it says of this task's
 * approval is kept (until when that approval alone approves the request); request bodies are not kept at all
 * (they can be large): at most MAX_SNAPSHOTS small entries, each for SNAPSHOT_MS.
 */
import type { ApprovalTask, SkaRequest } from '../../generated/prisma/client.js';
import { BoundedTtlCache } from '../../lib/ttl-cache.js';
import { soleApprovalDeadline } from '../../ska/evaluator.js';
import type { NormalizedRule } from '../../ska/policy-normalized.js';

/** A task as a decision checks it: its fixed parts, and its request's status as it was read. */
export type DecisionTask = Pick<
  ApprovalTask,
  'id' | 'requestId' | 'partitionId' | 'fingerprint' | 'approverCertificate'
> & {
  request: Pick<SkaRequest, 'status' | 'createdBy' | 'challenge'>;
  /**
   * Until when (epoch ms) this task's approval alone approves its request, executable at once; null when it
   * never does (`soleApprovalDeadline` of the request's frozen rule, which never changes).
   */
  soleApprovalDeadline: number | null;
};

/** The parts of a task and its request that a decision checks. */
export function decisionTaskOf(task: ApprovalTask & { request: SkaRequest }): DecisionTask {
  return {
    id: task.id,
    requestId: task.requestId,
    partitionId: task.partitionId,
    fingerprint: task.fingerprint,
    approverCertificate: task.approverCertificate,
    request: {
      status: task.request.status,
      createdBy: task.request.createdBy,
      challenge: task.request.challenge,
    },
    soleApprovalDeadline: soleApprovalDeadline(
      task.request.rule as unknown as NormalizedRule | null,
      task.fingerprint,
      task.request.createdAt,
    ),
  };
}

const MAX_SNAPSHOTS = 4096;
const SNAPSHOT_MS = 10 * 60_000;

export class TaskSnapshots {
  private readonly snapshots: BoundedTtlCache<DecisionTask>;

  constructor(private readonly now: () => number = Date.now) {
    this.snapshots = new BoundedTtlCache<DecisionTask>(MAX_SNAPSHOTS, now);
  }

  /** Keeps the fixed parts of listed tasks (open tasks of PENDING requests). */
  remember(tasks: readonly (ApprovalTask & { request: SkaRequest })[]): void {
    const until = this.now() + SNAPSHOT_MS;
    for (const task of tasks) {
      this.snapshots.set(task.id, decisionTaskOf(task), until);
    }
  }

  /** The listed task of this partition, if this process listed it lately. */
  find(partitionId: string, taskId: string): DecisionTask | undefined {
    const snapshot = this.snapshots.get(taskId);
    return snapshot?.partitionId === partitionId ? snapshot : undefined;
  }

  forget(taskId: string): void {
    this.snapshots.delete(taskId);
  }
}
