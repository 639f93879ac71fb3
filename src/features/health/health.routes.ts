import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NO_AUTHENTICATION_WARNING } from '../../auth/no-authentication.js';
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { checkReadiness } from '../../observability/readiness.js';
import type { Workflow } from '../approvals/workflow.js';

const tags = ['Operations'];

/** Liveness and readiness for orchestrators; no authentication. */
export const healthRoutes: FastifyPluginAsyncTypebox<{
  prisma: PrismaClient;
  hsm: SoftHsm;
  workflow: Workflow;
  config: Pick<Config, 'authNonePartition'>;
}> = async (app, { prisma, hsm, workflow, config }) => {
  const warnings =
    config.authNonePartition === null ? [] : [NO_AUTHENTICATION_WARNING(config.authNonePartition)];

  app.get(
    '/healthz',
    {
      config: { auth: false },
      schema: {
        tags,
        operationId: 'healthz',
        summary: 'The process is alive',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  const ReadinessSchema = Type.Object({
    status: Type.Union([Type.Literal('ready'), Type.Literal('degraded'), Type.Literal('unavailable')], {
      description:
        'ready: all checks ok; degraded: Redis is unreachable (synchronous operations work, approvals are ' +
        'moved on by the database sweep); unavailable: the database is unreachable or the master key does ' +
        'not open every stored partition key',
    }),
    checks: Type.Object({
      database: Type.String({ description: 'ok, or unreachable (with the driver error code)' }),
      redis: Type.String({ description: 'ok or unreachable' }),
      masterKey: Type.String({
        description:
          'loaded: the master key opens every stored partition key (or no partition exists yet; checked at ' +
          'most every 10 s); otherwise the partitions whose key it does not open',
      }),
    }),
    warnings: Type.Optional(
      Type.Array(Type.String(), {
        description: 'what an operator must know, e.g. that the service runs without authentication',
      }),
    ),
  });
  app.get(
    '/readyz',
    {
      config: { auth: false },
      schema: {
        tags,
        operationId: 'readyz',
        summary:
          'The service can serve requests (database reachable, master key opens the partitions; Redis reported)',
        response: {
          200: ReadinessSchema,
          503: { ...ReadinessSchema, description: 'not ready: the database or the master key check failed' },
        },
      },
    },
    async (_request, reply) => {
      const readiness = await checkReadiness({ prisma, hsm, queue: workflow.queue });
      reply.code(readiness.status === 'unavailable' ? 503 : 200);
      return warnings.length > 0 ? { ...readiness, warnings } : readiness;
    },
  );
};
