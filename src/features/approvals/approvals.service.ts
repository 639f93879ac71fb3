/**
 * The approver side (reference §2.5, §4.2–4.6): listing tasks with a signed timestamp, approving by
 * signing the request's challenge, rejecting by signing the rejection message. Every check happens
 * before anything is stored; a decision is recorded once per approver and request.
 */
import { readFileSync } from 'node:fs';
import { sharesPrincipal } from '../../auth/caller.js';
import { parseClientCertificate } from '../../auth/client-certificates.js';
import { TsbError } from '../../errors.js';
import type { ApprovalTask, Partition, SkaRequest } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { toBytes, UUID_PATTERN } from '../../lib/encoding.js';
import { rejectionToBeSigned, verifyApproverSignatureAsync } from '../../ska/approval-signature.js';
import { decodeBase64Strict, parseApproverCertificate, sha256Hex } from '../../ska/approver-key.js';
import {
  type ApproverIdentity,
  approverIdentity,
  certificateValidAt,
  type FreshnessWindow,
  verifyTimestampProof,
} from '../../ska/timestamp-proof.js';
import type { WorkflowEngine } from './engine.js';
import type { WorkflowQueue } from './queue.js';
import type { RequestsRepository, TaskSortOrder } from './requests.repository.js';
import type { SignedTimestamps } from './signed-timestamps.js';
import { type DecisionTask, decisionTaskOf, TaskSnapshots } from './task-snapshots.js';
import { type TaskDetailLevel, type TaskView, taskView } from './task-view.js';

export interface TaskFilter {
  timestamp: string;
  timestampSignature: string;
  timestampDigestAlgorithm: string;
  approverPublicKey?: string | null;
  approverCertificate?: string | null;
  timestampSigningCertificate?: string | null;
  id?: string | null;
  requestId?: string | null;
  detailLevel?: string | null;
  paging?: { pageNumber?: number | null; pageSize?: number | null; sortOrder?: string | null } | null;
}

export interface ApprovalInput {
  id: string;
  approvalToBeSigned: string;
  signature: string;
  approvalDigestAlgorithm: string;
  approverPublicKey?: string | null;
  approverCertificate?: string | null;
  timestampSigningCertificate?: string | null;
}

export interface RejectionInput extends Omit<ApprovalInput, 'approvalToBeSigned'> {
  reason?: string | null;
}

/** An approver without credential whose signature verified, and the partition it acted in (null: several or none). */
export interface VerifiedApproverKey {
  fingerprint: string;
  partitionId: string | null;
}

export const DEFAULT_TASK_PAGE_SIZE = 25;
export const MAX_TASK_PAGE_SIZE = 100;
const SORT_ORDERS: readonly TaskSortOrder[] = [
  'CREATION_DATE_ASC',
  'CREATION_DATE_DESC',
  'LAST_FETCHED_DATE_ASC',
  'LAST_FETCHED_DATE_DESC',
];
export class ApprovalsService {
  private readonly timestampSigners: ReadonlySet<string>;
  /** the fixed parts of the tasks this process listed, for the decisions that follow */
  private readonly snapshots = new TaskSnapshots();

  constructor(
    private readonly repository: RequestsRepository,
    private readonly hsm: SoftHsm,
    private readonly engine: WorkflowEngine,
    private readonly queue: WorkflowQueue,
    private readonly window: FreshnessWindow,
    timestampSignerCertificateFiles: readonly string[],
    private readonly executionWaitMs: number,
    private readonly signedTimestamps: Pick<SignedTimestamps, 'use'>,
  ) {
    this.timestampSigners = new Set(
      timestampSignerCertificateFiles.map((file) => parseClientCertificate(readFileSync(file)).fingerprint),
    );
  }

  async listTasks(
    partition: Partition,
    filter: TaskFilter,
    operations: readonly string[] | null,
  ): Promise<TaskView[]> {
    const now = this.hsm.clock.now();
    const { signer, fingerprint } = this.taskLister(filter);
    await verifyTimestampProof(filter, signer, now, this.window);
    // recorded beside the query: a listing with a credential is never refused for it
    const [, tasks] = await Promise.all([
      this.signedTimestamps.use(signer.fingerprint, filter.timestamp, true),
      this.repository.openTasks(
        { partitionId: partition.id, fingerprint, ...taskSelection(filter, operations) },
        now,
      ),
    ]);
    this.snapshots.remember(tasks);
    const level = detailLevel(filter.detailLevel);
    return Promise.all(tasks.map((task) => taskView(this.hsm, partition, task, level)));
  }

  async approve(partition: Partition, credentialIds: readonly string[], input: ApprovalInput): Promise<void> {
    const task = await this.checkedDecision(partition, credentialIds, input, 'approval', (found, identity) =>
      this.verify(identity, approvedChallenge(input, found), input, 'approval'),
    );
    await this.record(task, {
      decision: 'APPROVED',
      signature: signatureOf(input),
      digestAlgorithm: input.approvalDigestAlgorithm,
    });
  }

  async reject(partition: Partition, credentialIds: readonly string[], input: RejectionInput): Promise<void> {
    const task = await this.checkedDecision(partition, credentialIds, input, 'rejection', (found, identity) =>
      this.verify(identity, rejectionToBeSigned(found.request.challenge), input, 'rejection'),
    );
    await this.record(task, {
      decision: 'REJECTED',
      signature: signatureOf(input),
      digestAlgorithm: input.approvalDigestAlgorithm,
      reason: input.reason ?? null,
    });
  }

  /**
   * Lists the tasks of an approver without credential (issue 14): its signature over a fresh timestamp, used
   * once, authenticates it; it sees the open tasks of its key in every partition that lets approver keys
   * authenticate, each with its partition's name. Timestamp signers need a credential.
   */
  async listTasksByApproverKey(
    filter: TaskFilter,
    operations: readonly string[] | null,
    onVerified: (approver: VerifiedApproverKey) => void,
  ): Promise<TaskView[]> {
    if (filter.timestampSigningCertificate) {
      throw new TsbError(
        'TIMESTAMP_SIGNER_NOT_ALLOWED',
        'a timestamp signer lists tasks with a credential with the approver role of its partition',
      );
    }
    const now = this.hsm.clock.now();
    const identity = approverIdentity(filter, 'task filter');
    const fingerprint = identity.key.fingerprint;
    await verifyTimestampProof(filter, identity.key, now, this.window);
    onVerified({ fingerprint, partitionId: null });
    await this.signedTimestamps.use(fingerprint, filter.timestamp, false);
    const tasks = await this.repository.openTasks(
      { partitionId: null, fingerprint, ...taskSelection(filter, operations) },
      now,
    );
    const partitionIds = [...new Set(tasks.map((task) => task.partitionId))];
    onVerified({ fingerprint, partitionId: partitionIds.length === 1 ? partitionIds[0]! : null });
    const level = detailLevel(filter.detailLevel);
    return Promise.all(
      tasks.map(async (task) => {
        const partition = await this.hsm.partition(task.partitionId);
        return { ...(await taskView(this.hsm, partition, task, level)), partition: partition.name };
      }),
    );
  }

  async approveByApproverKey(
    input: ApprovalInput,
    onVerified: (approver: VerifiedApproverKey) => void,
  ): Promise<void> {
    const task = await this.keyDecisionContext(
      input,
      'approval',
      (found) => approvedChallenge(input, found),
      onVerified,
    );
    await this.record(task, {
      decision: 'APPROVED',
      signature: signatureOf(input),
      digestAlgorithm: input.approvalDigestAlgorithm,
    });
  }

  async rejectByApproverKey(
    input: RejectionInput,
    onVerified: (approver: VerifiedApproverKey) => void,
  ): Promise<void> {
    const task = await this.keyDecisionContext(
      input,
      'rejection',
      (found) => rejectionToBeSigned(found.request.challenge),
      onVerified,
    );
    await this.record(task, {
      decision: 'REJECTED',
      signature: signatureOf(input),
      digestAlgorithm: input.approvalDigestAlgorithm,
      reason: input.reason ?? null,
    });
  }

  /** The key that must have signed the timestamp, and whose tasks are listed (null: everyone's). */
  private taskLister(filter: TaskFilter): { signer: ApproverIdentity['key']; fingerprint: string | null } {
    if (!filter.timestampSigningCertificate) {
      const identity = approverIdentity(filter, 'task filter');
      return { signer: identity.key, fingerprint: identity.key.fingerprint };
    }
    const der = decodeBase64Strict(filter.timestampSigningCertificate);
    if (!der) throw new TsbError('CERTIFICATE_INVALID_ENCODING', 'timestampSigningCertificate is not base64');
    if (!this.timestampSigners.has(sha256Hex(der))) {
      throw new TsbError(
        'TIMESTAMP_SIGNER_NOT_ALLOWED',
        'timestampSigningCertificate is not a configured timestamp signer',
      );
    }
    const signer = parseApproverCertificate(der, 'timestampSigningCertificate');
    const approver =
      filter.approverPublicKey || filter.approverCertificate ? approverIdentity(filter, 'task filter') : null;
    return { signer, fingerprint: approver?.key.fingerprint ?? null };
  }

  /**
   * The task a decision with a credential is about, once every check before recording it passed: the task's
   * own (`decisionChecks`), then `signed` (the challenge and the approver's signature). A task this process
   * listed lately is checked as listed (`task-snapshots.ts`), without reading it; the statement that records the
   * decision then requires it undecided and its request PENDING. Refused there, it is checked again as read now,
   * so that the answer is the one a fresh read gives (a request cancelled since the listing is not open, even
   * for the wrong approver).
   */
  private async checkedDecision(
    partition: Partition,
    credentialIds: readonly string[],
    input: ApprovalInput | RejectionInput,
    what: 'approval' | 'rejection',
    signed: (task: DecisionTask, identity: ApproverIdentity) => Promise<void>,
  ): Promise<DecisionTask> {
    if (input.timestampSigningCertificate) {
      throw new TsbError('TIMESTAMP_SIGNER_NOT_ALLOWED', `a timestamp signer cannot submit an ${what}`);
    }
    const taskId = optionalUuid(input.id, 'id');
    if (taskId === null) throw new TsbError('INVALID_UUID', 'id must be the task id (a UUID)');
    const check = async (task: DecisionTask | null) => {
      if (!task) throw new TsbError('TASK_NOT_EXISTENT', `task ${taskId} does not exist`);
      await signed(task, this.decisionChecks(task, credentialIds, input, what));
      return task;
    };
    const listed = this.snapshots.find(partition.id, taskId);
    if (listed) {
      try {
        return await check(listed);
      } catch (error) {
        if (!(error instanceof TsbError)) throw error;
      }
    }
    const found = await this.repository.findTask(partition.id, taskId);
    return check(found && decisionTaskOf(found));
  }

  /** The checks of a task before its approver's signature: open, not its creator's, this approver's; its identity. */
  private decisionChecks(
    task: DecisionTask,
    credentialIds: readonly string[],
    input: ApprovalInput | RejectionInput,
    what: 'approval' | 'rejection',
  ): ApproverIdentity {
    checkOpen(task, credentialIds, what);
    const identity = approverIdentity(input, what);
    if (identity.key.fingerprint !== task.fingerprint) {
      throw new TsbError(
        'APPROVER_NOT_EXISTENT',
        `task ${task.id} belongs to another approver of the request's policy`,
      );
    }
    this.checkCertificate(task, identity);
    return identity;
  }

  /**
   * A decision without credential (issue 14): the task names its partition, and only its own approver's valid
   * signature over `signed` (the challenge or the rejection message) proves anything. Until that signature
   * verifies, an unknown task and another approver's task answer alike (no probing for task ids); then the
   * partition must let approver keys authenticate, and separation of duties holds as for any approver.
   */
  private async keyDecisionContext(
    input: ApprovalInput | RejectionInput,
    what: 'approval' | 'rejection',
    signed: (task: ApprovalTask & { request: SkaRequest }) => Uint8Array,
    onVerified: (approver: VerifiedApproverKey) => void,
  ): Promise<DecisionTask> {
    if (input.timestampSigningCertificate) {
      throw new TsbError(
        'TIMESTAMP_SIGNER_NOT_ALLOWED',
        `a timestamp signer cannot submit an ${what}, and needs a credential with the approver role`,
      );
    }
    const taskId = optionalUuid(input.id, 'id');
    if (taskId === null) throw new TsbError('INVALID_UUID', 'id must be the task id (a UUID)');
    const identity = approverIdentity(input, what);
    const task = await this.repository.findTaskById(taskId);
    if (!task || task.fingerprint !== identity.key.fingerprint) {
      throw new TsbError('TASK_NOT_EXISTENT', `task ${taskId} does not exist for this approver key`);
    }
    await this.verify(identity, signed(task), input, what);
    onVerified({ fingerprint: identity.key.fingerprint, partitionId: task.partitionId });
    const partition = await this.hsm.partition(task.partitionId);
    if (!partition.approverKeyAuthentication) {
      throw new TsbError(
        'MISSING_ACCESS_TOKEN',
        `the partition of task ${taskId} wants a credential with the approver role from its approvers`,
      );
    }
    this.checkCertificate(task, identity);
    checkOpen(task, [approverKeyPrincipal(identity.key.fingerprint)], what);
    return decisionTaskOf(task);
  }

  private checkCertificate(
    task: Pick<ApprovalTask, 'approverCertificate'>,
    identity: ApproverIdentity,
  ): void {
    if (!task.approverCertificate) return;
    // the certificate the policy pins counts, not one the approver brings for the same key
    const certificate = parseApproverCertificate(task.approverCertificate);
    if (
      identity.certificate &&
      identity.certificate.certificateFingerprint !== certificate.certificateFingerprint
    ) {
      throw new TsbError('INVALID_CERTIFICATE', 'the policy names another certificate for this approver');
    }
    if (!certificateValidAt(certificate, this.hsm.clock.now())) {
      throw new TsbError(
        'INVALID_CERTIFICATE',
        `the approver certificate is valid from ${certificate.notBefore} to ${certificate.notAfter}, not now`,
      );
    }
  }

  private async verify(
    identity: ApproverIdentity,
    data: Uint8Array,
    input: ApprovalInput | RejectionInput,
    what: string,
  ): Promise<void> {
    const signature = signatureOf(input);
    if (!(await verifyApproverSignatureAsync(identity.key, data, signature, input.approvalDigestAlgorithm))) {
      throw new TsbError('INVALID_SIGNATURE', `the ${what} signature does not verify with the approver key`);
    }
  }

  /**
   * Stores a decision and moves its request on, here or through a queued job. An approval answers once the
   * execution it completed is stored (at most TSB_APPROVAL_EXECUTION_WAIT_MS): clients read the request status
   * right after the last approval and expect its result (read your approval).
   */
  private async record(
    task: Pick<DecisionTask, 'id' | 'requestId' | 'partitionId' | 'soleApprovalDeadline'>,
    decision: {
      decision: 'APPROVED' | 'REJECTED';
      signature: Buffer;
      digestAlgorithm: string;
      reason?: string | null;
    },
  ): Promise<void> {
    // decided now, or refused for good: either way the listed state of this task is over
    this.snapshots.forget(task.id);
    const decidedAt = this.hsm.clock.now();
    // the request that made a decision evaluates it, and runs the execution a completed quorum asks for, in
    // every process, with a worker or without: waiting here for another process's job would cost a queue round
    // trip and a second process's reads for the same answer. Only a process told not to wait for executions
    // (TSB_APPROVAL_EXECUTION_WAIT_MS=0) leaves them to the workers' queue.
    const runHere = this.executionWaitMs > 0;
    const isApproval = decision.decision === 'APPROVED';
    // an approval that meets the rule by itself approves the request, and claims it to run here, as it is recorded
    const approves =
      runHere &&
      isApproval &&
      task.soleApprovalDeadline !== null &&
      decidedAt.getTime() <= task.soleApprovalDeadline;
    const seen = await this.repository.decide(
      task.id,
      { ...decision, signature: toBytes(decision.signature), decidedAt },
      approves ? { claimedAt: decidedAt } : null,
    );
    if (!seen) throw await this.refusedDecision(task, isApproval ? 'approval' : 'rejection');
    // the decision's evaluate job, under the one id of this decision whichever path queues it
    const leaveToWorkers = () => this.queue.evaluate(task.requestId, `decision-${task.id}`);
    if (!runHere) {
      try {
        await leaveToWorkers();
      } catch {
        // Redis is away: move the request on here rather than wait for the sweep
        await this.engine.evaluate(task.requestId, seen);
      }
      return;
    }
    const moved =
      seen.status === 'APPROVED' ? this.engine.runClaimed(seen) : this.engine.evaluate(task.requestId, seen);
    const evaluated = moved.then(
      () => true,
      // infrastructure trouble while evaluating or executing: leave it to a worker's job (and the sweep)
      () =>
        leaveToWorkers().then(
          () => false,
          () => false,
        ),
    );
    // the answer waits at most executionWaitMs (the evaluation goes on)
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.executionWaitMs);
    });
    let done: boolean;
    try {
      done = await Promise.race([evaluated, waited]);
    } finally {
      clearTimeout(timer);
    }
    // an approval whose run was left to a worker's job answers once that job has stored it (or the wait is over)
    if (!done && isApproval) await this.engine.awaitExecution(task.requestId, this.executionWaitMs);
  }

  /** Why the statement that records a decision refused it, read afresh: the task is gone, its request ended, or it was decided. */
  private async refusedDecision(
    task: Pick<DecisionTask, 'id' | 'requestId' | 'partitionId'>,
    what: 'approval' | 'rejection',
  ): Promise<TsbError> {
    const now = await this.repository.findTask(task.partitionId, task.id);
    if (!now) return new TsbError('TASK_NOT_EXISTENT', `task ${task.id} does not exist`);
    if (now.request.status !== 'PENDING') return notOpen(now, what);
    return new TsbError('TASK_ALREADY_DECIDED', `task ${task.id} was decided already`);
  }
}

/** The request still takes decisions, and not from whoever created it (separation of duties). */
function checkOpen(
  task: Pick<DecisionTask, 'requestId' | 'request'>,
  principals: readonly string[],
  what: 'approval' | 'rejection',
): void {
  if (task.request.status !== 'PENDING') throw notOpen(task, what);
  if (sharesPrincipal(task.request.createdBy, principals)) {
    throw new TsbError(
      'SECURITY_NOT_ALLOWED',
      `the credential that created request ${task.requestId} cannot decide on it`,
    );
  }
}

/** The challenge the approval says it signs, which must be its task's request's challenge. */
function approvedChallenge(
  input: Pick<ApprovalInput, 'approvalToBeSigned'>,
  task: Pick<DecisionTask, 'id' | 'request'>,
): Buffer {
  const challenge = decodeBase64Strict(input.approvalToBeSigned);
  if (!challenge?.equals(Buffer.from(task.request.challenge))) {
    throw new TsbError('INVALID_SIGNATURE', `approvalToBeSigned is not the challenge of task ${task.id}`);
  }
  return challenge;
}

function notOpen(
  task: Pick<DecisionTask, 'requestId' | 'request'>,
  what: 'approval' | 'rejection',
): TsbError {
  return new TsbError(
    'REQUEST_NOT_OPEN',
    `request ${task.requestId} is ${task.request.status} and takes no ${what}s`,
  );
}

/** The principal of an approver that works without credential: its key. */
export const approverKeyPrincipal = (fingerprint: string): string => `approver-key:${fingerprint}`;

function signatureOf(input: { signature: string }): Buffer {
  const signature = decodeBase64Strict(input.signature);
  if (!signature) throw new TsbError('INPUT_VALIDATION_FAILED', 'signature is not standard base64');
  return signature;
}

function optionalUuid(value: string | null | undefined, field: string): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (!UUID_PATTERN.test(value)) throw new TsbError('INVALID_UUID', `${field} "${value}" is not a UUID`);
  return value.toLowerCase();
}

function detailLevel(value: string | null | undefined): TaskDetailLevel {
  const level = value ?? 'level1';
  if (!/^level[1-5]$/.test(level)) {
    throw new TsbError('INVALID_VALUE_FOR_ENUM', `detailLevel "${level}" is not one of level1 … level5`);
  }
  return level as TaskDetailLevel;
}

/** Which tasks a listing asks for: operations, a task or request id (as in the TSB, a task id wins), a page. */
function taskSelection(filter: TaskFilter, operations: readonly string[] | null) {
  return {
    operations,
    taskId: optionalUuid(filter.id, 'id'),
    requestId: filter.id ? null : optionalUuid(filter.requestId, 'requestId'),
    ...page(filter.paging),
  };
}

function page(paging: TaskFilter['paging']): {
  pageNumber: number;
  pageSize: number;
  sortOrder: TaskSortOrder;
} {
  const sortOrder = (paging?.sortOrder ?? 'CREATION_DATE_ASC') as TaskSortOrder;
  if (!SORT_ORDERS.includes(sortOrder)) {
    throw new TsbError(
      'INVALID_VALUE_FOR_ENUM',
      `sortOrder "${sortOrder}" is not one of ${SORT_ORDERS.join(', ')}`,
    );
  }
  return {
    pageNumber: paging?.pageNumber ?? 0,
    pageSize: Math.min(paging?.pageSize ?? DEFAULT_TASK_PAGE_SIZE, MAX_TASK_PAGE_SIZE),
    sortOrder,
  };
}
