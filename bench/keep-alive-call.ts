/**
 * The workflow bench's HTTP client: the same JSON calls as the tests' `call` (test/helpers/processes.ts),
 * over `node:http` with one keep-alive agent instead of `fetch`. The loader shares the machine's two cores
 * with the service and PostgreSQL, and `fetch` (undici, a timer per call for its timeout) cost it about
 * 0.3 ms of CPU per request, as much as the service's own work on a request; autocannon plays the same part
 * for the sign bench. The tests keep `fetch`, which copes with servers they kill and restart.
 */
import http from 'node:http';
import { type HttpAnswer, httpAnswer } from '../test/helpers/processes.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

/** One JSON call with an X-API-KEY; network errors and timeouts reject. */
export function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  route: string,
  apiKey: string,
  body?: unknown,
  timeoutMs = 15_000,
): Promise<HttpAnswer<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = { 'x-api-key': apiKey };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}${route}`, { method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve(httpAnswer<T>(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))),
      );
    });
    // the socket's idle timer: no answer (or no progress) for timeoutMs fails the call
    request.setTimeout(timeoutMs, () =>
      request.destroy(new Error(`${method} ${route}: no answer in ${timeoutMs} ms`)),
    );
    request.on('error', reject);
    request.end(payload);
  });
}
