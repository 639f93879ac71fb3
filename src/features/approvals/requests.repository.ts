/**
 * Database access of the SKA workflow. Every status change is a compare-and-set (an UPDATE with the
 * expected status in its WHERE): whichever process gets there first wins, the others change nothing.
 *
 * The statements of a request's path (create, list its task, decide, move it on, run it, read its status)
 * are prepared `pg` statements (src/db/sql.ts): through Prisma each cost about as much Node CPU again as
 * the statement itself, and a read with its relation took two round trips where one join does.
 * The rarer ones (listings, the sweep, start-up) stay with Prisma.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { sqlPoolOf } from '../../db/prisma.js';
import { allColumns, execute, queryRows, rowObject, type Statement, timestampParam } from '../../db/sql.js';
import {
  type ApprovalTask,
  Prisma,
  type PrismaClient,
  type SkaRequest,
} from '../../generated/prisma/client.js';
import { ExecutionClaims } from './execution-claims.js';
import { ExecutionResults } from './execution-results.js';
import { notifyEnded } from './request-endings.js';
import { ENDED_STATUSES, isOpen, OPEN_STATUSES, type RequestStatus } from './request-status.js';

export type RequestWithTasks = SkaRequest & { tasks: ApprovalTask[] };

const ENDED_STATUS_LITERALS = Prisma.raw(ENDED_STATUSES.map((status) => `'${status}'`).join(', '));

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

/** The orders of a task listing, on the task's own columns (its page is chosen before any wide column is read). */
const TASK_ORDER: Record<TaskSortOrder, string> = {
  CREATION_DATE_ASC: 't."createdAt" ASC, t."id" ASC',
  CREATION_DATE_DESC: 't."createdAt" DESC, t."id" DESC',
  LAST_FETCHED_DATE_ASC: 't."lastFetchedAt" ASC, t."id" ASC',
  LAST_FETCHED_DATE_DESC: 't."lastFetchedAt" DESC, t."id" DESC',
};

/** What a status change may set besides the status (`updatedAt` is set by every change). */
export type RequestChange = { status: RequestStatus } & Partial<
  Pick<
    SkaRequest,
    | 'executableAt'
    | 'executionClaimedAt'
    | 'expiresAt'
    | 'executedAt'
    | 'result'
    | 'errorCode'
    | 'errorMessage'
  >
>;

const REQUEST_COLUMNS = allColumns<SkaRequest>()([
  'id',
  'partitionId',
  'keyId',
  'keyLabel',
  'operation',
  'status',
  'body',
  'passwordSealed',
  'metaData',
  'metaDataSignature',
  'rule',
  'ruleDigest',
  'payloadDigest',
  'challenge',
  'createdBy',
  'createdAt',
  'executableAt',
  'expiresAt',
  'executionClaimedAt',
  'executedAt',
  'result',
  'errorCode',
  'errorMessage',
  'updatedAt',
]);

const TASK_COLUMNS = allColumns<ApprovalTask>()([
  'id',
  'requestId',
  'partitionId',
  'fingerprint',
  'approverPublicKey',
  'approverCertificate',
  'approverName',
  'decision',
  'signature',
  'digestAlgorithm',
  'reason',
  'decidedAt',
  'decisionSettled',
  'createdAt',
  'lastFetchedAt',
]);

const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set([
  'executableAt',
  'executionClaimedAt',
  'expiresAt',
  'executedAt',
]);

/** The columns a status change may set: names go into the statement's text, so only these are accepted. */
const CHANGE_COLUMNS: ReadonlySet<string> = new Set([
  'status',
  ...TIMESTAMP_COLUMNS,
  'result',
  'errorCode',
  'errorMessage',
]);

/** `alias.column AS "alias.column"` for each column: request and task columns share names. */
const selectList = (alias: string, columns: readonly string[]) =>
  columns.map((column) => `${alias}."${column}" AS "${alias}.${column}"`).join(', ');

/** A statement named after its text, so that statements built from parts are prepared once each. */
function statement(text: string): Statement {
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 24);
  return { name: `opentsb-req-${digest}`, text };
}

const REQUEST_WITH_TASKS = `
  SELECT ${selectList('r', REQUEST_COLUMNS)}, ${selectList('t', TASK_COLUMNS)}
  FROM "SkaRequest" r LEFT JOIN "ApprovalTask" t ON t."requestId" = r."id"`;
const TASK_WITH_REQUEST = `
  SELECT ${selectList('t', TASK_COLUMNS)}, ${selectList('r', REQUEST_COLUMNS)}
  FROM "ApprovalTask" t JOIN "SkaRequest" r ON r."id" = t."requestId"`;

const FIND = statement(`${REQUEST_WITH_TASKS} WHERE r."id" = $1::uuid ORDER BY t."fingerprint"`);
const FIND_IN_PARTITION = statement(
  `${REQUEST_WITH_TASKS} WHERE r."id" = $1::uuid AND r."partitionId" = $2::uuid ORDER BY t."fingerprint"`,
);
const FIND_TASK = statement(`${TASK_WITH_REQUEST} WHERE t."id" = $1::uuid`);
const FIND_TASK_IN_PARTITION = statement(
  `${TASK_WITH_REQUEST} WHERE t."id" = $1::uuid AND t."partitionId" = $2::uuid`,
);

/**
 * The request and its tasks in one statement, if the partition has room: fewer than $22 open requests (counted
 * up to $22 on the (partitionId, status) index; 0 = no limit). Answers 1 when stored, 0 when there was no room.
 */
const CREATE = statement(`
  WITH room AS (
    SELECT $22::int = 0 OR (SELECT count(*) FROM (
      SELECT 1 FROM "SkaRequest" WHERE "partitionId" = $2::uuid AND "status" IN ('PENDING', 'APPROVED') LIMIT $22
    ) AS open) < $22 AS ok
  ), request AS (
    INSERT INTO "SkaRequest" ("id", "partitionId", "keyId", "keyLabel", "operation", "status", "body",
      "passwordSealed", "metaData", "metaDataSignature", "rule", "ruleDigest", "payloadDigest", "challenge",
      "createdBy", "createdAt", "expiresAt", "updatedAt")
    SELECT $1::uuid, $2::uuid, $3::uuid, $4, $5, 'PENDING', $6::jsonb, $7::bytea, $8, $9, $10::jsonb,
      $11::bytea, $12::bytea, $13::bytea, $14, $15::timestamp(3), $16::timestamp(3), $15::timestamp(3)
    FROM room WHERE room.ok
    RETURNING "id"
  ), tasks AS (
    INSERT INTO "ApprovalTask" ("id", "requestId", "partitionId", "fingerprint", "approverPublicKey",
      "approverCertificate", "approverName", "createdAt", "lastFetchedAt")
    SELECT task.id, request."id", $2::uuid, task.fingerprint, task.public_key, task.certificate, task.name,
      $15::timestamp(3), $15::timestamp(3)
    FROM request, unnest($17::uuid[], $18::text[], $19::bytea[], $20::bytea[], $21::text[])
      AS task(id, fingerprint, public_key, certificate, name)
  )
  SELECT count(*)::int FROM request`);

/**
 * Records a decision (once: only on an undecided task) and reads its request with all its tasks in the same
 * statement: the decided task as the UPDATE left it, the others as the statement's snapshot shows them.
 * The decision is left unsettled for the sweep (`SETTLE_DECISIONS`), except one that approves the request.
 * With `approves`, a decision that meets the request's rule by itself (`soleApprovalDeadline`) also approves
 * the request, executable at its creation, and claims its execution at $7, in the same statement; the request
 * is then read as that UPDATE left it. The UPDATE re-checks PENDING on the latest row
 * version, so a request cancelled while the statement ran keeps the decision but is not approved.
 */
function decideStatement(approves: boolean): Statement {
  const approved = approves
    ? `, approved AS (
        UPDATE "SkaRequest"
        SET "status" = 'APPROVED', "executableAt" = "createdAt", "executionClaimedAt" = $7::timestamp(3),
          "updatedAt" = $6::timestamp(3)
        WHERE "id" = (SELECT "requestId" FROM decided) AND "status" = 'PENDING'
        RETURNING *
      )`
    : '';
  const requestColumns = approves
    ? REQUEST_COLUMNS.map(
        (column) => `CASE WHEN a."id" IS NULL THEN r."${column}" ELSE a."${column}" END AS "r.${column}"`,
      ).join(', ')
    : selectList('r', REQUEST_COLUMNS);
  return statement(`
    WITH decided AS (
      UPDATE "ApprovalTask"
      SET "decision" = $2, "signature" = $3::bytea, "digestAlgorithm" = $4, "reason" = $5,
        "decidedAt" = $6::timestamp(3), "decisionSettled" = ${approves}
      WHERE "id" = $1::uuid AND "decision" IS NULL
        AND EXISTS (SELECT 1 FROM "SkaRequest" WHERE "id" = "ApprovalTask"."requestId" AND "status" = 'PENDING')
      RETURNING *
    )${approved}
    SELECT ${requestColumns},
      ${TASK_COLUMNS.map((column) => `CASE WHEN d."id" IS NULL THEN t."${column}" ELSE d."${column}" END AS "t.${column}"`).join(', ')}
    FROM decided mine
    JOIN "SkaRequest" r ON r."id" = mine."requestId"
    ${approves ? 'LEFT JOIN approved a ON a."id" = r."id"' : ''}
    JOIN "ApprovalTask" t ON t."requestId" = r."id"
    LEFT JOIN decided d ON d."id" = t."id"
    ORDER BY t."fingerprint"`);
}

const DECIDE = decideStatement(false);
const DECIDE_AND_APPROVE = decideStatement(true);

/**
 * Claims an approved, due request for one executor (taking over a claim older than $3) and reads it with its
 * tasks. The tasks come from the statement's snapshot, in which the request was already APPROVED (a row first
 * approved after the snapshot is not claimed): the decisions that approved it committed no later than that.
 */
const CLAIM_EXECUTION = statement(`
  WITH claimed AS (
    UPDATE "SkaRequest" SET "executionClaimedAt" = $2::timestamp(3), "updatedAt" = $4::timestamp(3)
    WHERE "id" = $1::uuid AND "status" = 'APPROVED' AND "executableAt" <= $2::timestamp(3)
      AND ("executionClaimedAt" IS NULL OR "executionClaimedAt" < $3::timestamp(3))
    RETURNING *
  )
  SELECT ${selectList('r', REQUEST_COLUMNS)}, ${selectList('t', TASK_COLUMNS)}
  FROM claimed r LEFT JOIN "ApprovalTask" t ON t."requestId" = r."id"
  ORDER BY t."fingerprint"`);

/**
 * The sweep's question (a safety net for jobs lost with Redis): which open requests need a look, oldest first,
 * at most $3 of them: expiry ($1) or timelock due, an execution claim older than $2, or a decision that no
 * evaluation has read (unsettled) on a pending request. Each question reads an index of the rows it asks for
 * (`SkaRequest_status_expiresAt_idx`, and the partial `SkaRequest_approved_executableAt_idx` and
 * `ApprovalTask_unsettled_decision_idx`), so a sweep costs what is due, not what is open.
 */
export const DUE_REQUESTS = statement(`
  SELECT "id" FROM (
    (SELECT "id", "createdAt" FROM "SkaRequest"
     WHERE "status" = 'PENDING' AND "expiresAt" <= $1::timestamp(3)
     ORDER BY "createdAt" LIMIT $3)
    UNION
    (SELECT "id", "createdAt" FROM "SkaRequest"
     WHERE "status" = 'APPROVED' AND "executableAt" <= $1::timestamp(3)
       AND ("executionClaimedAt" IS NULL OR "executionClaimedAt" < $2::timestamp(3))
     ORDER BY "createdAt" LIMIT $3)
    UNION
    (SELECT DISTINCT r."id", r."createdAt" FROM "ApprovalTask" t JOIN "SkaRequest" r ON r."id" = t."requestId"
     WHERE t."decisionSettled" IS FALSE AND r."status" = 'PENDING'
     ORDER BY r."createdAt" LIMIT $3)
  ) due
  ORDER BY "createdAt"
  LIMIT $3`);

/**
 * Settles the decisions of requests that have left PENDING (they never return to it): the sweep has nothing more
 * to ask about them, and they leave the partial index it reads, which so holds the decisions since the last
 * sweep and the ones no evaluation has read yet (an evaluation settles what it read: `SETTLE_READ`). Rows another
 * sweep is settling are skipped, not waited for (no lock order between two sweeps).
 * `IS FALSE`, here and in `DUE_REQUESTS`, matches the index's predicate and is estimated from the column's
 * statistics; `NOT "decisionSettled"` is estimated as "every row that is not true", undecided tasks included,
 * and planned as a scan of every task.
 */
export const SETTLE_DECISIONS = statement(`
  WITH settled AS (
    SELECT t."id" FROM "ApprovalTask" t JOIN "SkaRequest" r ON r."id" = t."requestId"
    WHERE t."decisionSettled" IS FALSE AND r."status" <> 'PENDING'
    FOR UPDATE OF t SKIP LOCKED
  )
  UPDATE "ApprovalTask" SET "decisionSettled" = true FROM settled WHERE "ApprovalTask"."id" = settled."id"`);

/** Settles the decisions an evaluation read ($1: their task ids). */
const SETTLE_READ = statement(`
  UPDATE "ApprovalTask" SET "decisionSettled" = true WHERE "id" = ANY($1::uuid[]) AND "decisionSettled" IS FALSE`);

/** Statements built from parts (status changes, task listings), each built and named once per shape. */
const builtStatements = new Map<string, Statement>();

function builtStatement(shape: string, text: () => string): Statement {
  let built = builtStatements.get(shape);
  if (!built) {
    built = statement(text());
    builtStatements.set(shape, built);
  }
  return built;
}

/**
 * The status change statement for one set of columns changed and one kind of condition. A change to an ended
 * status notifies the processes waiting for the request (`request-endings.ts`), at its commit.
 */
function transitionStatement(
  columns: readonly string[],
  fromMany: boolean,
  claimCondition: boolean,
  ends: boolean,
): Statement {
  return builtStatement(`transition|${columns.join(',')}|${fromMany}|${claimCondition}|${ends}`, () => {
    // $1 id, $2 expected status(es), $3 updatedAt, $4 the claim condition (when any), then the columns
    const first = claimCondition ? 5 : 4;
    const sets = columns
      .map((column, index) => {
        const cast = TIMESTAMP_COLUMNS.has(column) ? '::timestamp(3)' : column === 'errorCode' ? '::int' : '';
        return `"${column}" = $${first + index}${cast}`;
      })
      .concat('"updatedAt" = $3::timestamp(3)');
    const status = fromMany ? `"status" = ANY($2::text[])` : `"status" = $2`;
    const claim = claimCondition ? ` AND "executionClaimedAt" IS NOT DISTINCT FROM $4::timestamp(3)` : '';
    const notify = ends ? ` RETURNING ${notifyEnded('"id"')}` : '';
    return `UPDATE "SkaRequest" SET ${sets.join(', ')} WHERE "id" = $1::uuid AND ${status}${claim}${notify}`;
  });
}

/** A request row with its task rows joined to it (one row per task; task columns null when it has none). */
function requestWithTasks(rows: readonly unknown[][]): RequestWithTasks | null {
  const first = rows[0];
  if (!first) return null;
  const request = rowObject<SkaRequest>(REQUEST_COLUMNS, first);
  const tasks = rows
    .filter((row) => row[REQUEST_COLUMNS.length] !== null)
    .map((row) => rowObject<ApprovalTask>(TASK_COLUMNS, row, REQUEST_COLUMNS.length));
  return { ...request, tasks };
}

function taskWithRequest(row: readonly unknown[]): ApprovalTask & { request: SkaRequest } {
  const task = rowObject<ApprovalTask>(TASK_COLUMNS, row);
  return { ...task, request: rowObject<SkaRequest>(REQUEST_COLUMNS, row, TASK_COLUMNS.length) };
}

export class RequestsRepository {
  private readonly pool: pg.Pool;
  private readonly executionResults: ExecutionResults;
  private readonly executionClaims: ExecutionClaims;

  constructor(private readonly prisma: PrismaClient) {
    this.pool = sqlPoolOf(prisma);
    this.executionResults = new ExecutionResults(this.pool);
    this.executionClaims = new ExecutionClaims(this.pool);
  }

  /**
   * Stores the request and its tasks in one statement (so, atomically), unless the partition has `openLimit`
   * open requests already (0 = no limit). Answers whether it was stored.
   */
  async create(request: NewRequest, openLimit = 0): Promise<boolean> {
    const tasks = request.tasks;
    const rows = await queryRows(this.pool, CREATE, [
      request.id,
      request.partitionId,
      request.keyId,
      request.keyLabel,
      request.operation,
      JSON.stringify(request.body),
      request.passwordSealed,
      request.metaData,
      request.metaDataSignature,
      JSON.stringify(request.rule),
      request.ruleDigest,
      request.payloadDigest,
      request.challenge,
      request.createdBy,
      timestampParam(request.createdAt),
      timestampParam(request.expiresAt),
      tasks.map((task) => task.id),
      tasks.map((task) => task.fingerprint),
      tasks.map((task) => task.approverPublicKey),
      tasks.map((task) => task.approverCertificate),
      tasks.map((task) => task.approverName),
      openLimit,
    ]);
    return rows[0]![0] === 1;
  }

  async find(id: string): Promise<RequestWithTasks | null> {
    return requestWithTasks(await queryRows(this.pool, FIND, [id]));
  }

  async findInPartition(partitionId: string, id: string): Promise<RequestWithTasks | null> {
    return requestWithTasks(await queryRows(this.pool, FIND_IN_PARTITION, [id, partitionId]));
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

  /**
   * Moves an open request from one status to another; false when it was not in `from` any more (or, with
   * `where.executionClaimedAt`, when the execution claim is not that one: null for unclaimed).
   */
  async transition(
    id: string,
    from: RequestStatus | readonly RequestStatus[],
    data: RequestChange,
    where: Partial<Pick<SkaRequest, 'executionClaimedAt'>> = {},
  ): Promise<boolean> {
    const columns = Object.keys(data).filter(
      (column) => data[column as keyof RequestChange] !== undefined,
    ) as (keyof RequestChange)[];
    const unknown = columns.find((column) => !CHANGE_COLUMNS.has(column));
    if (unknown !== undefined)
      throw new Error(`a status change cannot set the column ${JSON.stringify(unknown)}`);
    const claimCondition = 'executionClaimedAt' in where && where.executionClaimedAt !== undefined;
    const fromMany = typeof from !== 'string';
    const values: unknown[] = [id, from, timestampParam(new Date())];
    if (claimCondition) values.push(timestampParam(where.executionClaimedAt));
    for (const column of columns) {
      const value = data[column];
      values.push(value instanceof Date ? timestampParam(value) : value);
    }
    const statement = transitionStatement(columns, fromMany, claimCondition, !isOpen(data.status));
    const changed = await execute(this.pool, statement, values);
    return changed === 1;
  }

  /**
   * Approves a PENDING request whose quorum is complete and claims its execution for the caller, at
   * `claimedAt`; false when it was not PENDING any more. Claims that arrive together are made together
   * (`execution-claims.ts`).
   */
  approveAndClaim(id: string, executableAt: Date, claimedAt: Date): Promise<boolean> {
    return this.executionClaims.claim({ requestId: id, executableAt, claimedAt });
  }

  /**
   * Claims an approved request whose time has come for one executor, and reads it with its tasks; a claim
   * older than `staleBefore` is taken over. null when it was not this executor's to claim.
   */
  async claimExecution(id: string, now: Date, staleBefore: Date): Promise<RequestWithTasks | null> {
    const rows = await queryRows(this.pool, CLAIM_EXECUTION, [
      id,
      timestampParam(now),
      timestampParam(staleBefore),
      timestampParam(new Date()),
    ]);
    return requestWithTasks(rows);
  }

  /**
   * Stores the result of a claimed execution (compare-and-set on the claim) and counts the key use in the
   * same statement, so a workflow use is counted exactly when its result is stored. `usedKeyId` null: the
   * operation is no key use (block, unblock, modify). False when the claim was no longer this executor's.
   * Results that arrive together are stored together (`execution-results.ts`).
   */
  completeExecution(
    id: string,
    claimedAt: Date,
    data: { result: string | null; executedAt: Date },
    usedKeyId: string | null,
  ): Promise<boolean> {
    return this.executionResults.store({ requestId: id, claimedAt, ...data, usedKeyId });
  }

  /**
   * Deletes up to `limit` ended requests (their tasks with them) last changed more than `days` days ago, by the
   * database's clock (`updatedAt` is wall-clock time, whatever clock the workflow runs on), oldest first; answers
   * how many. Rows another deletion holds are skipped, so workers that sweep at once do not wait. The statuses
   * are literals, as in the partial index SkaRequest_ended_updatedAt_idx (migration
   * 20261207170000_ended_request_retention), so that the planner may read it.
   */
  deleteEnded(days: number, limit: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM "SkaRequest" WHERE "id" IN (
        SELECT "id" FROM "SkaRequest"
        WHERE "status" IN (${ENDED_STATUS_LITERALS}) AND "updatedAt" < now() - make_interval(days => ${days})
        ORDER BY "updatedAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)`;
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

  /**
   * Records an approver's decision once, while its request is PENDING; null when the task was decided already,
   * its request had ended, or there is no such task. Otherwise its request with
   * every task, as the recording statement saw them: this decision is in it, one another approver committed
   * while the statement ran may not be (read the request again before concluding it is incomplete).
   *
   * `approval`: this decision meets the request's rule by itself, with no timelock (the caller checked
   * `soleApprovalDeadline` at `decidedAt`); the same statement then also approves the PENDING request,
   * executable at its creation, with its execution claimed for the caller at `claimedAt` (as
   * `approveAndClaim` does). The request read back is then APPROVED; it stays PENDING when it changed while the
   * statement ran (say, cancelled).
   */
  async decide(
    taskId: string,
    data: {
      decision: 'APPROVED' | 'REJECTED';
      decidedAt: Date;
      signature?: Uint8Array | null;
      digestAlgorithm?: string | null;
      reason?: string | null;
    },
    approval: { claimedAt: Date } | null = null,
  ): Promise<RequestWithTasks | null> {
    if (approval && data.decision !== 'APPROVED') throw new Error('only an approval approves a request');
    const values = [
      taskId,
      data.decision,
      data.signature ?? null,
      data.digestAlgorithm ?? null,
      data.reason ?? null,
      timestampParam(data.decidedAt),
    ];
    const rows = approval
      ? await queryRows(this.pool, DECIDE_AND_APPROVE, [...values, timestampParam(approval.claimedAt)])
      : await queryRows(this.pool, DECIDE, values);
    return requestWithTasks(rows);
  }

  /** A task of any partition, by its id (the approver-key routes find the partition from the task). */
  async findTaskById(taskId: string): Promise<(ApprovalTask & { request: SkaRequest }) | null> {
    const [row] = await queryRows(this.pool, FIND_TASK, [taskId]);
    return row ? taskWithRequest(row) : null;
  }

  async findTask(
    partitionId: string,
    taskId: string,
  ): Promise<(ApprovalTask & { request: SkaRequest }) | null> {
    const [row] = await queryRows(this.pool, FIND_TASK_IN_PARTITION, [taskId, partitionId]);
    return row ? taskWithRequest(row) : null;
  }

  /**
   * Undecided tasks of pending requests, one page, as they were before this call; marks them fetched now.
   * One statement: the page's task ids, the update of its rows, and the page's tasks with their requests (all
   * three see the rows as they were before it). The page is chosen on ids alone: sorting whole rows (tasks with
   * their request bodies) made a page cost more the further it lay (bench/results/README.md, thirteenth
   * session: 38 / 64 / 83 ms for the first, middle and last of 100 pages).
   */
  async openTasks(query: TaskQuery, now: Date): Promise<(ApprovalTask & { request: SkaRequest })[]> {
    const values: unknown[] = [timestampParam(now), query.pageNumber * query.pageSize, query.pageSize];
    const conditions = ['t."decision" IS NULL', `r."status" = 'PENDING'`];
    const condition = (sql: (parameter: string) => string, value: unknown) => {
      values.push(value);
      conditions.push(sql(`$${values.length}`));
    };
    if (query.partitionId !== null) condition((p) => `t."partitionId" = ${p}::uuid`, query.partitionId);
    if (query.fingerprint) condition((p) => `t."fingerprint" = ${p}`, query.fingerprint);
    if (query.taskId) condition((p) => `t."id" = ${p}::uuid`, query.taskId);
    if (query.requestId) condition((p) => `t."requestId" = ${p}::uuid`, query.requestId);
    if (query.operations) condition((p) => `r."operation" = ANY(${p}::text[])`, query.operations);
    const partitionJoin =
      query.partitionId === null
        ? `JOIN "Partition" p ON p."id" = r."partitionId" AND p."approverKeyAuthentication"`
        : '';
    if (!Object.hasOwn(TASK_ORDER, query.sortOrder)) throw new Error(`unknown task order ${query.sortOrder}`);
    const order = TASK_ORDER[query.sortOrder];
    const where = conditions.join(' AND ');
    // the conditions name the partition join too: it is there exactly when no partition condition is
    const listing = builtStatement(
      `listing|${where}|${order}`,
      () => `
        WITH page AS (
          SELECT t."id" FROM "ApprovalTask" t JOIN "SkaRequest" r ON r."id" = t."requestId" ${partitionJoin}
          WHERE ${where}
          ORDER BY ${order} OFFSET $2 LIMIT $3
        ), fetched AS (
          UPDATE "ApprovalTask" SET "lastFetchedAt" = $1::timestamp(3)
          FROM page WHERE "ApprovalTask"."id" = page."id"
        )
        ${TASK_WITH_REQUEST} JOIN page ON page."id" = t."id"
        ORDER BY ${order}`,
    );
    const rows = await queryRows(this.pool, listing, values);
    return rows.map(taskWithRequest);
  }

  /**
   * Settles the decisions an evaluation read (it looked at them: the sweep need not ask about them again). Only
   * those: a decision recorded after the evaluation's read stays unsettled, whatever its time says.
   */
  async settleRead(tasks: readonly Pick<ApprovalTask, 'id' | 'decisionSettled'>[]): Promise<void> {
    const read = tasks.filter((task) => task.decisionSettled === false).map((task) => task.id);
    if (read.length > 0) await execute(this.pool, SETTLE_READ, [read]);
  }

  /** Settles the decisions of requests that have left PENDING (`SETTLE_DECISIONS`); how many it settled. */
  settleDecisions(): Promise<number> {
    return execute(this.pool, SETTLE_DECISIONS, []);
  }

  /** Open requests that need a look, oldest first (`DUE_REQUESTS`). */
  async dueRequests(now: Date, staleBefore: Date, limit: number): Promise<{ id: string }[]> {
    const rows = await queryRows(this.pool, DUE_REQUESTS, [
      timestampParam(now),
      timestampParam(staleBefore),
      limit,
    ]);
    return rows.map(([id]) => ({ id: id as string }));
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
