/**
 * Database access of the SKA workflow. Every status change is a compare-and-set (`updateMany` with the
 * expected status in `where`): whichever process gets there first wins, the others change nothing.
 */
import {
  type ApprovalTask,
  Prisma,
  type PrismaClient,
  type SkaRequest,
} from '../../generated/prisma/client.js';
import { ENDED_STATUSES, OPEN_STATUSES, type RequestStatus } from './request-status.js';

export type RequestWithTasks = SkaRequest & { tasks: ApprovalTask[] };

/** A request as created: PENDING, with the rule frozen and one task per approver. */
export interface NewRequest {
  id: string;
  partitionId: string;
  keyId: string;
  keyLabel: string;
  operation: string;
  body: object;
  passwordSealed: Uint8Array | null;
  metaData: string | null;
  metaDataSignature: string | null;
  rule: object;
  ruleDigest: Uint8Array;
  payloadDigest: Uint8Array;
  challenge: Uint8Array;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  tasks: NewTask[];
}

export interface NewTask {
  id: string;
  fingerprint: string;
  approverPublicKey: Uint8Array;
  approverCertificate: Uint8Array | null;
  approverName: string | null;
}

export type TaskSortOrder =
  | 'CREATION_DATE_ASC'
  | 'CREATION_DATE_DESC'
  | 'LAST_FETCHED_DATE_ASC'
  | 'LAST_FETCHED_DATE_DESC';

export type TaskQuery = {
  operations: readonly string[] | null;
  taskId: string | null;
  requestId: string | null;
  pageNumber: number;
  pageSize: number;
  sortOrder: TaskSortOrder;
} & (
  | {
      partitionId: string;
      /** null: every approver's tasks (a timestamp signer) */
      fingerprint: string | null;
    }
  | {
      /** an approver without credential: its tasks in every partition that lets approver keys authenticate */
      partitionId: null;
      fingerprint: string;
    }
);

const TASK_ORDER: Record<TaskSortOrder, Prisma.ApprovalTaskOrderByWithRelationInput[]> = {
  CREATION_DATE_ASC: [{ createdAt: 'asc' }, { id: 'asc' }],
  CREATION_DATE_DESC: [{ createdAt: 'desc' }, { id: 'desc' }],
  LAST_FETCHED_DATE_ASC: [{ lastFetchedAt: 'asc' }, { id: 'asc' }],
  LAST_FETCHED_DATE_DESC: [{ lastFetchedAt: 'desc' }, { id: 'desc' }],
};

export class RequestsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Stores the request and its tasks in one statement (so, atomically). */
  async create(request: NewRequest): Promise<void> {
    const base64 = (bytes: Uint8Array | null) => (bytes ? Buffer.from(bytes).toString('base64') : null);
    const tasks = JSON.stringify(
      request.tasks.map((task) => ({
        id: task.id,
        fingerprint: task.fingerprint,
        publicKey: base64(task.approverPublicKey),
        certificate: base64(task.approverCertificate),
        name: task.approverName,
      })),
    );
    await this.prisma.$executeRaw`
      WITH request AS (
        INSERT INTO "SkaRequest" ("id", "partitionId", "keyId", "keyLabel", "operation", "status", "body",
          "passwordSealed", "metaData", "metaDataSignature", "rule", "ruleDigest", "payloadDigest", "challenge",
          "createdBy", "createdAt", "expiresAt", "updatedAt")
        VALUES (${request.id}::uuid, ${request.partitionId}::uuid, ${request.keyId}::uuid, ${request.keyLabel},
          ${request.operation}, 'PENDING', ${JSON.stringify(request.body)}::jsonb, ${request.passwordSealed},
          ${request.metaData}, ${request.metaDataSignature}, ${JSON.stringify(request.rule)}::jsonb,
          ${request.ruleDigest}, ${request.payloadDigest}, ${request.challenge}, ${request.createdBy},
          ${request.createdAt}, ${request.expiresAt}, ${request.createdAt})
        RETURNING "id"
      )
      INSERT INTO "ApprovalTask" ("id", "requestId", "partitionId", "fingerprint", "approverPublicKey",
        "approverCertificate", "approverName", "createdAt", "lastFetchedAt")
      SELECT task.id::uuid, request."id", ${request.partitionId}::uuid, task.fingerprint,
        decode(task."publicKey", 'base64'), decode(task.certificate, 'base64'), task.name,
        ${request.createdAt}, ${request.createdAt}
      FROM request, jsonb_to_recordset(${tasks}::jsonb)
        AS task(id text, fingerprint text, "publicKey" text, certificate text, name text)`;
  }

  find(id: string): Promise<RequestWithTasks | null> {
    return this.prisma.skaRequest.findUnique({ where: { id }, include: { tasks: true } });
  }

  findInPartition(partitionId: string, id: string): Promise<RequestWithTasks | null> {
    return this.prisma.skaRequest.findFirst({ where: { id, partitionId }, include: { tasks: true } });
  }

  async list(
    partitionId: string,
    statuses: readonly string[] | null,
    page: { pageNumber: number; pageSize: number; ascending: boolean },
  ): Promise<{ total: number; requests: RequestWithTasks[] }> {
    const where: Prisma.SkaRequestWhereInput = {
      partitionId,
      ...(statuses ? { status: { in: [...statuses] } } : {}),
    };
    const order = page.ascending ? 'asc' : 'desc';
    const [total, requests] = await Promise.all([
      this.prisma.skaRequest.count({ where }),
      this.prisma.skaRequest.findMany({
        // a page of rows with their relations: separate queries beat JSON aggregation (≈ 4× here)
        relationLoadStrategy: 'query',
        where,
        include: { tasks: true },
        orderBy: [{ createdAt: order }, { id: order }],
        skip: page.pageNumber * page.pageSize,
        take: page.pageSize,
      }),
    ]);
    return { total, requests };
  }

  /** Moves an open request from one status to another; false when it was not in `from` any more. */
  async transition(
    id: string,
    from: RequestStatus | readonly RequestStatus[],
    data: Prisma.SkaRequestUpdateManyMutationInput & { status: RequestStatus },
    extra: Prisma.SkaRequestWhereInput = {},
  ): Promise<boolean> {
    const status = typeof from === 'string' ? from : { in: [...from] };
    const { count } = await this.prisma.skaRequest.updateMany({ where: { id, status, ...extra }, data });
    return count === 1;
  }

  /** Claims an approved request whose time has come for one executor; a claim older than `staleBefore` is taken over. */
  async claimExecution(id: string, now: Date, staleBefore: Date): Promise<boolean> {
    const { count } = await this.prisma.skaRequest.updateMany({
      where: {
        id,
        status: 'APPROVED',
        executableAt: { lte: now },
        OR: [{ executionClaimedAt: null }, { executionClaimedAt: { lt: staleBefore } }],
      },
      data: { executionClaimedAt: now },
    });
    return count === 1;
  }

  /**
   * Stores the result of a claimed execution (compare-and-set on the claim) and counts the key use in the
   * same statement, so a workflow use is counted exactly when its result is stored. `usedKeyId` null: the
   * operation is no key use (block, unblock, modify). False when the claim was no longer this executor's.
   */
  async completeExecution(
    id: string,
    claimedAt: Date,
    data: { result: string | null; executedAt: Date },
    usedKeyId: string | null,
  ): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ moved: number }[]>`
      WITH done AS (
        UPDATE "SkaRequest"
        SET "status" = 'EXECUTED', "result" = ${data.result}, "executedAt" = ${data.executedAt},
            "updatedAt" = ${new Date()}
        WHERE "id" = ${id}::uuid AND "status" = 'APPROVED' AND "executionClaimedAt" = ${claimedAt}
        RETURNING "id"
      ), used AS (
        UPDATE "Key" SET "useCount" = "useCount" + 1
        WHERE "id" = ${usedKeyId}::uuid AND EXISTS (SELECT 1 FROM done)
        RETURNING 1
      )
      SELECT count(*)::int AS moved FROM done`;
    return rows[0]?.moved === 1;
  }

  /** Drops the stored result of an ended request (its status, times and audit entries stay). */
  async eraseResult(id: string): Promise<void> {
    await this.prisma.skaRequest.updateMany({
      where: { id, status: { in: [...ENDED_STATUSES] } },
      data: { result: null },
    });
  }

  async releaseClaim(id: string, claimedAt: Date): Promise<void> {
    await this.prisma.skaRequest.updateMany({
      where: { id, status: 'APPROVED', executionClaimedAt: claimedAt },
      data: { executionClaimedAt: null },
    });
  }

  /** Cancels the open requests of a key (except the one that changed it); returns their ids. */
  async cancelForKey(keyId: string, exceptRequestId: string | null, message: string): Promise<string[]> {
    const cancelled = await this.prisma.$queryRaw<{ id: string }[]>`
      UPDATE "SkaRequest"
      SET "status" = 'CANCELLED', "errorMessage" = ${message}, "updatedAt" = ${new Date()}
      WHERE "keyId" = ${keyId}::uuid AND "status" IN ('PENDING', 'APPROVED') AND "executionClaimedAt" IS NULL
        AND "id" <> COALESCE(${exceptRequestId}::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
      RETURNING "id"`;
    return cancelled.map((request) => request.id);
  }

  /** Records an approver's decision once; false when the task was decided already. */
  async decide(
    taskId: string,
    data: Pick<Prisma.ApprovalTaskUpdateManyMutationInput, 'signature' | 'digestAlgorithm' | 'reason'> & {
      decision: 'APPROVED' | 'REJECTED';
      decidedAt: Date;
    },
  ): Promise<boolean> {
    const { count } = await this.prisma.approvalTask.updateMany({
      where: { id: taskId, decision: null },
      data,
    });
    return count === 1;
  }

  /** A task of any partition, by its id (the approver-key routes find the partition from the task). */
  findTaskById(taskId: string): Promise<(ApprovalTask & { request: SkaRequest }) | null> {
    return this.prisma.approvalTask.findUnique({ where: { id: taskId }, include: { request: true } });
  }

  findTask(partitionId: string, taskId: string): Promise<(ApprovalTask & { request: SkaRequest }) | null> {
    return this.prisma.approvalTask.findFirst({
      where: { id: taskId, partitionId },
      include: { request: true },
    });
  }

  /** Undecided tasks of pending requests, one page; marks them fetched now. */
  async openTasks(query: TaskQuery, now: Date): Promise<(ApprovalTask & { request: SkaRequest })[]> {
    const tasks = await this.prisma.approvalTask.findMany({
      // a page of rows with their relations: separate queries beat JSON aggregation (≈ 4× here)
      relationLoadStrategy: 'query',
      where: {
        ...(query.partitionId === null ? {} : { partitionId: query.partitionId }),
        decision: null,
        ...(query.fingerprint ? { fingerprint: query.fingerprint } : {}),
        ...(query.taskId ? { id: query.taskId } : {}),
        ...(query.requestId ? { requestId: query.requestId } : {}),
        request: {
          status: 'PENDING',
          ...(query.operations ? { operation: { in: [...query.operations] } } : {}),
          ...(query.partitionId === null ? { partition: { approverKeyAuthentication: true } } : {}),
        },
      },
      include: { request: true },
      orderBy: TASK_ORDER[query.sortOrder],
      skip: query.pageNumber * query.pageSize,
      take: query.pageSize,
    });
    if (tasks.length > 0) {
      await this.prisma.approvalTask.updateMany({
        where: { id: { in: tasks.map((task) => task.id) } },
        data: { lastFetchedAt: now },
      });
    }
    return tasks;
  }

  /**
   * Open requests that need a look (a safety net for jobs lost with Redis): expiry or timelock due, a stale
   * execution claim, or a decision recorded since the engine last evaluated the request.
   */
  async dueRequests(now: Date, staleBefore: Date, limit: number): Promise<{ id: string }[]> {
    return this.prisma.$queryRaw<{ id: string }[]>`
      SELECT r."id" FROM "SkaRequest" r
      WHERE (r."status" = 'PENDING' AND r."expiresAt" <= ${now})
         OR (r."status" = 'APPROVED' AND r."executableAt" <= ${now}
             AND (r."executionClaimedAt" IS NULL OR r."executionClaimedAt" < ${staleBefore}))
         OR (r."status" = 'PENDING' AND EXISTS (
               SELECT 1 FROM "ApprovalTask" t
               WHERE t."requestId" = r."id" AND t."decidedAt" >= COALESCE(r."evaluatedAt", r."createdAt")))
      ORDER BY r."createdAt"
      LIMIT ${limit}`;
  }

  /** Every open request, in pages, for re-arming timers at start-up. */
  async *openRequests(
    batchSize: number,
  ): AsyncGenerator<Pick<SkaRequest, 'id' | 'status' | 'executableAt' | 'expiresAt'>[]> {
    let cursor: string | null = null;
    for (;;) {
      const batch: Pick<SkaRequest, 'id' | 'status' | 'executableAt' | 'expiresAt'>[] =
        await this.prisma.skaRequest.findMany({
          where: { status: { in: [...OPEN_STATUSES] }, ...(cursor ? { id: { gt: cursor } } : {}) },
          select: { id: true, status: true, executableAt: true, expiresAt: true },
          orderBy: { id: 'asc' },
          take: batchSize,
        });
      if (batch.length === 0) return;
      yield batch;
      cursor = batch[batch.length - 1]!.id;
    }
  }
}

export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
