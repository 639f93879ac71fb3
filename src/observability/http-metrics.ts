import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Seconds; a sign with a cached key takes about a millisecond, SLH-DSA and RSA key generation seconds. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** The route label of requests no route matched (404, URLs that do not parse): never the raw URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every answered request and its latency by method, route pattern (`/v1/key/:keyName`, never the
 * URL with its key names) and status code. Not encapsulated: registered first, it sees every route.
 */
async function httpMetricsPlugin(app: FastifyInstance, { registry }: { registry: Registry }) {
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({
    name: 'tsb_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tsb_http_request_duration_seconds',
    help: 'Time from receiving a request to having sent its answer, by method, route pattern and status code',
    labelNames,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: METHODS.has(request.method) ? request.method : 'OTHER',
      route: routeOf(request),
      status_code: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1_000);
  });
}

function routeOf(request: FastifyRequest): string {
  return request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
}

export default fp(httpMetricsPlugin, { name: 'http-metrics' });
