/**
 * The small HTTP listener of `npm run worker` (TSB_WORKER_HTTP_PORT): `/healthz`, `/readyz` (database,
 * Redis, master key and a running worker) and `/metrics`, for orchestrators and Prometheus. It serves
 * nothing else and reads no request body.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Config } from '../config.js';
import type { ServiceMetrics } from './metrics.js';
import { metricsRefusal } from './metrics-token.js';
import type { Readiness } from './readiness.js';

export interface WorkerHttpOptions {
  host: string;
  port: number;
  metrics: ServiceMetrics;
  readiness: () => Promise<Readiness>;
  metricsAccess: Pick<Config['operations'], 'metricsToken' | 'metricsOpen'>;
}

export async function startWorkerHttp(options: WorkerHttpOptions): Promise<Server> {
  const server = createServer((request, response) => {
    answer(request, options).then(
      ({ status, type, body }) => {
        response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      },
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Stops listening and cuts the (short, probe) connections at once. */
export function closeWorkerHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

const json = (status: number, value: unknown): Answer => ({
  status,
  type: 'application/json; charset=utf-8',
  body: JSON.stringify(value),
});

async function answer(
  request: IncomingMessage,
  { metrics, readiness, metricsAccess }: WorkerHttpOptions,
): Promise<Answer> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return json(405, { message: 'only GET is served here' });
  }
  if (path === '/healthz') return json(200, { status: 'ok' });
  if (path === '/readyz') {
    const result = await readiness();
    return json(result.status === 'unavailable' ? 503 : 200, result);
  }
  if (path === '/metrics') {
    const refusal = metricsRefusal(request.headers.authorization, metricsAccess);
    if (refusal) return json(401, { message: refusal.message });
    const { contentType, body } = await metrics.render();
    return { status: 200, type: contentType, body };
  }
  return json(404, { message: 'the worker serves /healthz, /readyz and /metrics' });
}
