import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Workflow } from '../../workflow/index.js';

const tags = ['Operations'];

/** Liveness and readiness for orchestrators; no authentication. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ prisma: PrismaClient; workflow: Workflow }> = async (
  app,
  { prisma, workflow },
) => {
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
        'moved on by the database sweep); unavailable: the database is unreachable',
    }),
    checks: Type.Object({ database: Type.String(), redis: Type.String(), masterKey: Type.String() }),
  });
  app.get(
    '/readyz',
    {
      config: { auth: false },
      schema: {
        tags,
        operationId: 'readyz',
        summary: 'The service can serve requests (database reachable, master key loaded; Redis reported)',
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
      },
    },
    async (_request, reply) => {
      let database = 'ok';
      try {
        await prisma.$queryRaw`SELECT 1`;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        database = `unreachable${typeof code === 'string' ? ` (${code})` : ''}`;
      }
      const redis = (await workflow.queue.reachable()) ? 'ok' : 'unreachable';
      const ready = database === 'ok';
      reply.code(ready ? 200 : 503);
      const status = !ready ? 'unavailable' : redis === 'ok' ? 'ready' : 'degraded';
      return {
        status: status as 'ready' | 'degraded' | 'unavailable',
        checks: { database, redis, masterKey: 'loaded' },
      };
    },
  );
};
