import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { principalsOf } from '../../auth/caller.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { EmptyResponse } from '../../http/common.schema.js';
import { COMMON_ERRORS, callerPartition } from '../../http/route-access.js';
import type { SkaOperation } from '../../ska/challenge.js';
import { ApprovalSchema, RejectionSchema, TaskFilterSchema, TaskListSchema } from './approvals.schema.js';
import type { VerifiedApproverKey } from './approvals.service.js';
import type { Workflow } from './workflow.js';

/** approver role, or no credential at all: the approver key's signature authenticates (issue 14) */
const approver = { auth: { roles: ['approver'] as const, approverSignature: true } };
const tags = ['Approval Tasks'];

/** The task listings of the TSB (reference §2.5), each limited to requests of some operations. */
const TASK_LISTS: { path: string; operationId: string; operations: SkaOperation[] | null }[] = [
  { path: '/v1/filteredSignApprovalTask', operationId: 'filterSignTasks', operations: ['SIGN'] },
  { path: '/v1/filteredDecryptApprovalTask', operationId: 'filterDecryptTasks', operations: ['DECRYPT'] },
  { path: '/v1/filteredUnwrapKeyApprovalTask', operationId: 'filterUnwrapKeyTasks', operations: ['UNWRAP'] },
  { path: '/v1/filteredBlockKeyApprovalTask', operationId: 'filterBlockKeyTasks', operations: ['BLOCK'] },
  {
    path: '/v1/filteredUnblockKeyApprovalTask',
    operationId: 'filterUnblockKeyTasks',
    operations: ['UNBLOCK'],
  },
  { path: '/v1/filteredModifyKeyApprovalTask', operationId: 'filterModifyKeyTasks', operations: ['MODIFY'] },
  { path: '/v1/filteredAllApprovalTask', operationId: 'filterAllTasks', operations: null },
];

/**
 * Approvers list their tasks by signing a fresh timestamp, approve by signing the challenge, and reject
 * by signing the rejection message (reference §2.5, §4). With a credential, its approver role names the
 * partition; without any credential (issue 14) the approver key's signature alone authenticates, and the
 * tasks of that key name their partitions (those that allow it).
 */
export const approvalsRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm; workflow: Workflow }> = async (
  app,
  { hsm, workflow },
) => {
  const partitionOf = callerPartition(hsm);
  /** A request without credential: remembers the approver key once its signature verified (for the audit log). */
  const keyCaller = (request: FastifyRequest) => (approver: VerifiedApproverKey) => {
    request.approverKey = approver;
  };

  for (const list of TASK_LISTS) {
    app.post(
      list.path,
      {
        config: approver,
        schema: {
          tags,
          operationId: list.operationId,
          summary: `List ${list.operations ? list.operations[0]!.toLowerCase() : 'all'} approval tasks of the approver who signed the timestamp`,
          body: TaskFilterSchema,
          response: { 200: TaskListSchema, ...COMMON_ERRORS },
        },
      },
      async (request) => ({
        tasks: request.approverKey
          ? await workflow.approvals.listTasksByApproverKey(request.body, list.operations, keyCaller(request))
          : await workflow.approvals.listTasks(await partitionOf(request), request.body, list.operations),
      }),
    );
  }

  app.post(
    '/v1/approval',
    {
      config: approver,
      schema: {
        tags,
        operationId: 'approveTask',
        summary: 'Approve a task with a signature over its challenge',
        body: ApprovalSchema,
        response: { 200: EmptyResponse('approval recorded'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      if (request.approverKey) {
        await workflow.approvals.approveByApproverKey(request.body, keyCaller(request));
      } else {
        await workflow.approvals.approve(
          await partitionOf(request),
          principalsOf(request.caller!),
          request.body,
        );
      }
      return reply.code(200).send();
    },
  );

  app.delete(
    '/v1/task',
    {
      config: approver,
      schema: {
        tags,
        operationId: 'rejectTask',
        summary: 'Reject a task (OpenTSB: signed, with an optional reason)',
        body: RejectionSchema,
        response: { 200: EmptyResponse('rejection recorded'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      if (request.approverKey) {
        await workflow.approvals.rejectByApproverKey(request.body, keyCaller(request));
      } else {
        await workflow.approvals.reject(
          await partitionOf(request),
          principalsOf(request.caller!),
          request.body,
        );
      }
      return reply.code(200).send();
    },
  );
};
