import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalsOf } from '../../auth/caller.js';
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { COMMON_ERRORS, callerPartition, onlyRoles } from '../../http/route-access.js';
import { OfficerProposals } from './officer-proposals.service.js';
import { OfficerRegistry } from './officer-registry.js';
import {
  BackupSchema,
  DecisionBodySchema,
  InvalidatedKeyListSchema,
  OfficerListSchema,
  PolicySchema,
  ProposalBodySchema,
  ProposalListSchema,
  ProposalSchema,
  RejectionBodySchema,
} from './security-officer.schema.js';

const securityOfficer = onlyRoles('securityOfficer');
const tags = ['Security Officer'];

/**
 * OpenTSB's security officer API (the TSB has none; reference §6.1): the partition security policy, the
 * four-eyes proposals that change it or restore and purge keys of the trash bin, and partition backups.
 * Every route acts on the caller's own partition only.
 */
export const securityOfficerRoutes: FastifyPluginAsyncTypebox<{
  hsm: SoftHsm;
  prisma: PrismaClient;
  config: Readonly<Config>;
}> = async (app, { hsm, prisma, config }) => {
  const registry = new OfficerRegistry(prisma);
  const proposals = new OfficerProposals(prisma, hsm, registry, config.officers);
  const partitionOf = callerPartition(hsm);

  app.get(
    '/v1/securityOfficer/policy',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'getPartitionPolicy',
        summary: "Read the partition's security policy",
        response: { 200: PolicySchema, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const partition = await partitionOf(request);
      return { ...partition, partition: partition.name, partitionId: partition.id };
    },
  );

  app.get(
    '/v1/securityOfficer/officers',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'listSecurityOfficers',
        summary: "List the partition's registered security officers",
        response: { 200: OfficerListSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const officers = await registry.list((await partitionOf(request)).id);
      return {
        officers: officers.map((officer) => ({
          name: officer.name,
          fingerprint: officer.fingerprint,
          publicKey: Buffer.from(officer.publicKey).toString('base64'),
          createdAt: officer.createdAt.toISOString(),
          revokedAt: officer.revokedAt?.toISOString() ?? null,
        })),
      };
    },
  );

  app.get(
    '/v1/securityOfficer/proposals',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'listOfficerProposals',
        summary: 'List proposals with their statement, status and expiry (newest first)',
        response: { 200: ProposalListSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => ({ proposals: await proposals.list(await partitionOf(request)) }),
  );

  app.post(
    '/v1/securityOfficer/proposal',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'createOfficerProposal',
        summary: 'Propose a change, signed by a registered security officer',
        body: ProposalBodySchema,
        response: { 201: ProposalSchema, ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const view = await proposals.propose(
        await partitionOf(request),
        principalsOf(request.caller!),
        request.body,
      );
      return reply.code(201).send(view);
    },
  );

  app.post(
    '/v1/securityOfficer/proposal/approve',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'approveOfficerProposal',
        summary: 'Approve (and so run) a proposal of another officer, signing "APPROVE:" ‖ statement',
        body: DecisionBodySchema,
        response: { 200: ProposalSchema, ...COMMON_ERRORS },
      },
    },
    async (request) =>
      proposals.approve(await partitionOf(request), principalsOf(request.caller!), request.body),
  );

  app.post(
    '/v1/securityOfficer/proposal/reject',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'rejectOfficerProposal',
        summary: 'Reject a proposal of another officer, signing "REJECT:" ‖ statement',
        body: RejectionBodySchema,
        response: { 200: ProposalSchema, ...COMMON_ERRORS },
      },
    },
    async (request) =>
      proposals.reject(await partitionOf(request), principalsOf(request.caller!), request.body),
  );

  app.get(
    '/v1/securityOfficer/invalidatedKeys',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'listInvalidatedKeys',
        summary: 'List the keys in the trash bin (deleted under key invalidation)',
        response: { 200: InvalidatedKeyListSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const keys = await hsm.trash.list(await partitionOf(request));
      return {
        keys: keys.map((key) => ({ ...key, invalidatedAt: key.invalidatedAt?.toISOString() ?? null })),
      };
    },
  );

  app.get(
    '/v1/securityOfficer/backup',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'exportPartitionBackup',
        summary:
          'Export the partition as one backup document (keys stay sealed; restore: tsb partition restore)',
        response: { 200: BackupSchema, ...COMMON_ERRORS },
      },
    },
    // streamed (keys a page at a time): the schema documents the document, it does not serialize it
    async (request, reply) => {
      const { body } = await hsm.backups.stream(request.caller!.partitionId);
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );
};
