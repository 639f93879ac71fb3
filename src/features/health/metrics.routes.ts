import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TsbError } from '../../errors.js';
import { errorResponses } from '../../http/common.schema.js';
import type { ServiceMetrics } from '../../observability/metrics.js';
import { presentsMetricsToken } from '../../observability/metrics-token.js';

/**
 * `GET /metrics`, the Prometheus text exposition. Open like /healthz unless TSB_METRICS_TOKEN is set;
 * then it asks for `Authorization: Bearer <token>` (not a TSB credential: the route has no partition).
 */
export const metricsRoutes: FastifyPluginAsyncTypebox<{
  metrics: ServiceMetrics;
  token: string | null;
}> = async (app, { metrics, token }) => {
  app.get(
    '/metrics',
    {
      config: { auth: false },
      schema: {
        tags: ['Operations'],
        operationId: 'metrics',
        summary: 'Prometheus metrics (text exposition format)',
        description:
          'HTTP requests and latency by route pattern and status, HSM operations by algorithm, key cache, ' +
          'workflow queue depth, SKA requests by status and process metrics. Needs `Authorization: Bearer ' +
          '<TSB_METRICS_TOKEN>` when the service is configured with a metrics token.',
        response: {
          200: {
            description: 'Prometheus text format 0.0.4',
            content: { 'text/plain': { schema: Type.String() } },
          },
          ...errorResponses(401),
        },
      },
    },
    async (request, reply) => {
      if (token !== null) {
        const authorization = request.headers.authorization;
        if (authorization === undefined)
          throw new TsbError('MISSING_ACCESS_TOKEN', 'send Authorization: Bearer <TSB_METRICS_TOKEN>');
        if (!presentsMetricsToken(authorization, token))
          throw new TsbError('INVALID_ACCESS_TOKEN', 'this is not the metrics token');
      }
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    },
  );
};
