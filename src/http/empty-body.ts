/**
 * An empty request body is no body, whatever its Content-Type. Real TSB clients (tsb-client-go,
 * go-kms-wrapping, the Vault plugin) send `DELETE` with `Content-Type: application/json` and nothing
 * after it; Fastify would hand that to the JSON parser, which refuses the empty text (621). On a route
 * that takes no body such a request now reaches its handler as if no Content-Type had been sent. A route
 * that takes a body keeps its answer to an empty one (621 invalid JSON).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** True when the route the request was matched to declares no request body. */
export const takesNoBody = (request: FastifyRequest): boolean => !request.routeOptions.schema?.body;

export function ignoreEmptyBodies(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const { headers } = request;
    if (headers['content-type'] === undefined || headers['transfer-encoding'] !== undefined) return;
    const length = headers['content-length'];
    // with neither a length nor chunked transfer coding a request has no body (RFC 9112 §6.3)
    if ((length === undefined || length === '0') && takesNoBody(request)) delete headers['content-type'];
  });
}
