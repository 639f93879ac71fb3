import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { presentedApprovals } from '../../hsm/approval-gate.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { EmptyResponse } from '../../http/common.schema.js';
import { COMMON_ERRORS, callerPartition, onlyRoles } from '../../http/route-access.js';
import { BlockBodySchema, ModifyBodySchema, UnblockBodySchema } from '../approvals/requests.schema.js';

const keyOperation = onlyRoles('keyOperation');
/** A policy change is key management (reference §5.3), on the synchronous path as on `/v1/modify`. */
const keyManagement = onlyRoles('keyManagement');
const tags = ['Synchronous Key Operations'];

/** Synchronous block, unblock and policy change (reference §2.3): run now when the rule needs no approval or `signedApprovals` satisfy it. */
export const keyStatusRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm }> = async (app, { hsm }) => {
  const partitionOf = callerPartition(hsm);

  app.post(
    '/v1/synchronousBlock',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'synchronousBlock',
        summary: 'Block a key now',
        body: BlockBodySchema,
        response: { 200: EmptyResponse('blocked'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const { blockKeyName, keyPassword } = request.body.blockRequest;
      await hsm.keyStatus.block(
        await partitionOf(request),
        blockKeyName,
        keyPassword,
        presentedApprovals(request.body.signedApprovals),
      );
      return reply.code(200).send();
    },
  );

  app.post(
    '/v1/synchronousUnblock',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'synchronousUnblock',
        summary: 'Unblock a key now',
        body: UnblockBodySchema,
        response: { 200: EmptyResponse('unblocked'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const { unblockKeyName, keyPassword } = request.body.unblockRequest;
      await hsm.keyStatus.unblock(
        await partitionOf(request),
        unblockKeyName,
        keyPassword,
        presentedApprovals(request.body.signedApprovals),
      );
      return reply.code(200).send();
    },
  );

  app.post(
    '/v1/synchronousModify',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'synchronousModify',
        summary: 'Change a key’s SKA policy now',
        body: ModifyBodySchema,
        response: { 200: EmptyResponse('modified'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const { modifyKeyName, keyPassword, policy } = request.body.modifyRequest;
      await hsm.keyStatus.modify(
        await partitionOf(request),
        modifyKeyName,
        keyPassword,
        policy,
        presentedApprovals(request.body.signedApprovals),
      );
      return reply.code(200).send();
    },
  );
};
