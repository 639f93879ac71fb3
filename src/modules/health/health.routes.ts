import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { PrismaClient } from '../../generated/prisma/client.js';

const tags = ['Operations'];

/** Liveness and readiness for orchestrators; no authentication. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ prisma: PrismaClient }> = async (app, { prisma }) => {
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
    status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
    checks: Type.Object({ database: Type.String(), masterKey: Type.String() }),
  });
  app.get(
    '/readyz',
    {
      config: { auth: false },
      schema: {
        tags,
        operationId: 'readyz',
        summary: 'The service can serve requests (database reachable, master key loaded)',
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
      const ready = database === 'ok';
      reply.code(ready ? 200 : 503);
      return {
        status: ready ? ('ready' as const) : ('unavailable' as const),
        checks: { database, masterKey: 'loaded' },
      };
    },
  );
};
