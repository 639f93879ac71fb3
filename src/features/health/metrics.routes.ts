import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { TsbError } from '../../errors.js';
import { errorResponses } from '../../http/common.schema.js';
import type { ServiceMetrics } from '../../observability/metrics.js';
import { METRICS_CLOSED_MESSAGE, metricsRefusal } from '../../observability/metrics-token.js';

/**
 * `GET /metrics`, the Prometheus text exposition. With TSB_METRICS_TOKEN it asks for `Authorization: Bearer
 * <token>` (not a TSB credential: the route has no partition); without one it is open in development and
 * with TSB_METRICS_PUBLIC=true, and closed (401) when NODE_ENV is production.
 */
export const metricsRoutes: FastifyPluginAsyncTypebox<{
  metrics: ServiceMetrics;
  access: Pick<Config['operations'], 'metricsToken' | 'metricsOpen'>;
}> = async (app, { metrics, access }) => {
  if (access.metricsToken === null && !access.metricsOpen) app.log.warn(METRICS_CLOSED_MESSAGE);
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
          '<TSB_METRICS_TOKEN>` when the service is configured with a metrics token; without one it is open in ' +
          'development and with TSB_METRICS_PUBLIC=true, and answers 401 when NODE_ENV is production.',
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
      const refusal = metricsRefusal(request.headers.authorization, access);
      if (refusal) throw new TsbError(refusal.code, refusal.message);
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    },
  );
};
